"""The outbox's crash journal in the database (table `journal`), for several desks.

Why not the local file TinyDB uses (engine/service/outbox_journal.py): on PostgreSQL the service
that takes over after a crash may run on another machine. A journal on the dead machine's disk is
out of its reach, so every item the dead service had sent but not yet folded into the records went
out a second time (the test in tests/integration/test_several_desks.py found four). Here each line
is a row committed before the next byte goes out, so whoever holds the writer's lock next replays
the same journal: only the one item in flight is sent again.

Same methods as the file Journal. Lines are written on a connection of their own (autocommit,
synchronous_commit off: a crash of the process loses nothing, only a crash of the database server
can lose the last few lines, and then those items are sent again, never lost, as the file's
grouped fsync allows).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg

from engine.adapters.postgres.db import Db


class PgJournal:
    def __init__(self, db: Db, name: str, read_only: bool) -> None:
        self.db = db
        self.name = name
        self.read_only = read_only
        self._conn: psycopg.Connection[Any] | None = None
        self._guard = threading.Lock()
        self._read_up_to = 0  # the newest line read: clear() removes only what was read

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect(autocommit=True)
            self._conn.execute("SET synchronous_commit = off")
        return self._conn

    def append(self, entry: dict[str, Any], sync: bool = True) -> None:
        with self._guard:
            self._connection().execute("INSERT INTO journal (name, entry) VALUES (%s, %s)",
                                       (self.name, json.dumps(entry)))

    def sync(self) -> None:
        """Each line is committed as it is written; nothing is left to flush."""

    def read(self) -> list[dict[str, Any]]:
        with self.db.conn() as c:
            rows = c.execute("SELECT seq, entry FROM journal WHERE name = %s ORDER BY seq", (self.name,)).fetchall()
        self._read_up_to = rows[-1][0] if rows else self._read_up_to
        return [json.loads(e) if isinstance(e, str) else e for _seq, e in rows]

    def clear(self, had_entries: bool) -> None:
        """Remove the lines read (they are folded into the records); a line written since stays."""
        if self.read_only or not had_entries:
            return
        with self.db.conn() as c:
            c.execute("DELETE FROM journal WHERE name = %s AND seq <= %s", (self.name, self._read_up_to))

    def close(self) -> None:
        with self._guard:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
