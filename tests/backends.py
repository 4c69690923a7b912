"""The two storage backends for tests: TinyDB in a data folder, PostgreSQL in a schema of its own.

Each PostgreSQL test gets a fresh schema in the `test` database (PRACTICEMAIL_TEST_DATABASE to
point elsewhere), dropped when the test ends. An unreachable server fails the test with one line:
CI (CI=true) has PostgreSQL, so a skip there would hide that half of the suite never ran; on a
developer's machine without a server those tests are skipped with the same line.

`python -m tests.backends` (make test-postgres) asks whether the server answers: exit 0 yes; 3 no,
with a one-line notice (the PostgreSQL half is skipped); 1 no, in CI, with the reason.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from engine.adapters.storage import Storage
from engine.service.practice import Practice, open_store

TEST_DATABASE = os.environ.get("PRACTICEMAIL_TEST_DATABASE", "postgresql://127.0.0.1:5432/test")
BACKENDS = ("tinydb", "postgres")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def _unreachable(exc: psycopg.OperationalError) -> str:
    reason = " ".join(str(exc).split())
    return (f"PostgreSQL at {TEST_DATABASE} is unreachable ({reason}); the PostgreSQL half of the "
            "storage tests needs it (CI runs it on 127.0.0.1:5432)")


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(TEST_DATABASE, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if in_ci():
            pytest.fail(_unreachable(exc), pytrace=False)
        pytest.skip(_unreachable(exc))


def schema_url(schema: str) -> str:
    sep = "&" if "?" in TEST_DATABASE else "?"
    return f"{TEST_DATABASE}{sep}options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield schema_url(name)
    finally:
        with _admin() as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@contextlib.contextmanager
def each_example() -> Iterator[None]:
    """A fresh schema for one hypothesis example when the suite runs on PostgreSQL
    (PRACTICEMAIL_TEST_BACKEND=postgres): the autouse fixture's schema is one per test, shared by
    all its examples, where each example's new TinyDB folder starts empty. Nothing on TinyDB."""
    if os.environ.get("PRACTICEMAIL_TEST_BACKEND", "tinydb") != "postgres":
        yield
        return
    before = os.environ.get("PRACTICEMAIL_DATABASE")
    with fresh_schema() as url:
        os.environ["PRACTICEMAIL_DATABASE"] = url
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("PRACTICEMAIL_DATABASE", None)
            else:
                os.environ["PRACTICEMAIL_DATABASE"] = before


@dataclass(frozen=True)
class Backend:
    """Where a test's store lives: `url` None means the TinyDB files of `folder`."""

    name: str
    folder: Path
    url: str | None

    def open(self, writer: bool = True, command: str = "test") -> Storage:
        return open_store(self.folder, self.url, writer=writer, command=command)

    def practice(self, writer: bool = True, command: str = "test") -> Practice:
        return Practice(self.folder, writer=writer, command=command, database=self.url or "")


@contextlib.contextmanager
def backend(name: str, folder: Path) -> Iterator[Backend]:
    if name == "tinydb":
        yield Backend(name, folder, None)
        return
    with fresh_schema() as url:
        yield Backend(name, folder, url)


def _probe() -> int:
    try:
        psycopg.connect(TEST_DATABASE, autocommit=True, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if in_ci():
            print(f"FAILED: {_unreachable(exc)}", file=sys.stderr)
            return 1
        print(f"skipped: {_unreachable(exc)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(_probe())
