"""The benches' PostgreSQL: a fresh schema in a database (PRACTICEMAIL_BENCH_DATABASE, else the
test database at 127.0.0.1:5432), dropped afterwards; and the `--backend` choice they share.

A bench that compares the two backends runs both in the same process, one after the other, on
the same fake server: the figure that counts is the PostgreSQL ratio over the TinyDB ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg

DATABASE = os.environ.get("PRACTICEMAIL_BENCH_DATABASE", "postgresql://127.0.0.1:5432/test")
BACKENDS = ("tinydb", "postgres")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--backend", choices=(*BACKENDS, "both"), default="both",
                    help="which store to measure the engine on (default: both, then their ratio)")
    ap.add_argument("--database", default=DATABASE, help="PostgreSQL database to make a scratch schema in")


def chosen(backend: str) -> tuple[str, ...]:
    return BACKENDS if backend == "both" else (backend,)


@contextlib.contextmanager
def scratch(database: str = DATABASE) -> Iterator[str]:
    """A URL whose search_path is a new, empty schema; the schema is dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in database else "?"
    try:
        yield f"{database}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@contextlib.contextmanager
def store_url(backend: str, database: str = DATABASE) -> Iterator[str]:
    """'' for TinyDB (the practice's data folder), else a scratch schema's URL."""
    if backend == "tinydb":
        yield ""
        return
    with scratch(database) as url:
        yield url


def compare(ratios: dict[str, float]) -> bool:
    """Print PostgreSQL's ratio against TinyDB's (target >= 0.8); True when met or not measured."""
    if set(ratios) != set(BACKENDS):
        return True
    share = ratios["postgres"] / ratios["tinydb"]
    print(f"  postgres/tinydb                     {share:8.2f}   target >= 0.8: {'yes' if share >= 0.8 else 'NO'}")
    return share >= 0.8
