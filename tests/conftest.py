"""Shared test set-up: every test gets its own data folder; Qt runs offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Every TinyDB write is compared with json.dumps of the data (engine/adapters/durable.py keeps
# each record's encoded JSON and trusts that records are replaced, not changed in place).
os.environ.setdefault("PRACTICEMAIL_CHECK_WRITES", "1")

# No timings in tests: hypothesis's per-example deadline is one (a 200 ms example failed on a
# machine loaded 18 deep), so examples are judged by what they prove, never by how fast they ran.
settings.register_profile("practicemail", deadline=None)
settings.load_profile("practicemail")

ROOT = Path(__file__).resolve().parents[1]
ON_POSTGRES = os.environ.get("PRACTICEMAIL_TEST_BACKEND", "tinydb") == "postgres"


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that chooses its backend itself (the `backend` or `pg_url` fixture) is marked
    both_backends: it runs on both in any pass, so make's PostgreSQL pass leaves it out (-m).
    Under PRACTICEMAIL_TEST_BACKEND=postgres a test marked tinydb_only (it reads TinyDB's files
    or tries the data folder's lock, which a database has not got) is skipped, saying why."""
    for item in items:
        if {"backend", "pg_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.both_backends)
    if not ON_POSTGRES:
        return
    for item in items:
        mark = item.get_closest_marker("tinydb_only")
        if mark is not None:
            why = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
            if not why:
                raise pytest.UsageError(f"{item.nodeid}: tinydb_only needs a reason")
            item.add_marker(pytest.mark.skip(reason=f"TinyDB only: {why}"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def _no_ambient_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201 - Iterator[None]
    """No test may touch the developer's real data folder or key file, nor a database it did
    not ask for. PRACTICEMAIL_TEST_BACKEND=postgres runs the whole suite with every Practice on
    PostgreSQL instead (a fresh schema per test, through PRACTICEMAIL_DATABASE, which child
    processes inherit): the way towards every engine test on both backends (issue 21)."""
    monkeypatch.setenv("PRACTICEMAIL_DATA", str(tmp_path / "default-data"))
    monkeypatch.delenv("PRACTICEMAIL_KEY_FILE", raising=False)
    monkeypatch.delenv("PRACTICEMAIL_DATABASE", raising=False)  # a test chooses its backend itself
    if not ON_POSTGRES:
        yield
        return
    from tests.backends import fresh_schema

    with fresh_schema() as url:
        monkeypatch.setenv("PRACTICEMAIL_DATABASE", url)
        yield


@pytest.fixture(params=["tinydb", "postgres"])
def backend(request: pytest.FixtureRequest, data_dir: Path):  # noqa: ANN201 - Iterator[Backend]
    """The test runs once on each storage backend (tests/backends.py): TinyDB files in data_dir,
    and PostgreSQL in a schema of its own (data_dir then holds only keys, logs, local files)."""
    from tests.backends import backend as make

    with make(request.param, data_dir) as b:
        yield b


@pytest.fixture
def pg_url():  # noqa: ANN201 - Iterator[str]
    """A PostgreSQL URL on a fresh schema of this test's own, dropped afterwards."""
    from tests.backends import fresh_schema

    with fresh_schema() as url:
        yield url


@pytest.fixture
def fakemail():  # noqa: ANN201 - Iterator[FakeMail]
    """The bundled fake servers on free ports, with a test CA; stopped after the test."""
    from tools.fakemail import FakeMail

    with FakeMail(seed=1) as fm:
        yield fm


@pytest.fixture
def client_tls(fakemail):  # noqa: ANN001, ANN201 - ssl.SSLContext
    """A client context that trusts only the fake servers' CA; checks stay on."""
    import ssl

    return ssl.create_default_context(cafile=str(fakemail.ca_file))


@pytest.fixture
def practice(data_dir, fakemail):  # noqa: ANN001, ANN201 - Iterator[Practice]
    """The demo practice, open for writing, sending to the fake servers (incoming off)."""
    from engine.service.demo import load_demo
    from tests.integration.helpers import configure, open_practice

    with open_practice(data_dir) as p:
        load_demo(p)
        configure(p, fakemail)
        yield p
