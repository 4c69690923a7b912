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

One statement per item, and no wait for it: an outcome line waits, and goes in the same INSERT as
the next item's attempt line; that INSERT is handed whole to the socket (libpq's blocking send)
before the item's bytes go out, and its answer is read before the next line is written (or at
read, sync, clear or close). A kill of this process after the send cannot stop the server
committing it (autocommit: the statement carries its Sync), so a kill while an outcome waits finds
the item's attempt without its outcome: that item is resent, flagged, as the one in flight, and no
other is. Why not wait: the round trip was a fifth of a send pass on PostgreSQL (py-spy on
tools/bench/outbound.py). What waiting bought: a journal write the server refused (the database
gone) was known before the item went; now it is known one item later, and the pass stops there.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg
from psycopg import pq

from engine.adapters.postgres.db import Db

ATTEMPT = "attempt"  # as engine/service/outbox_journal.ATTEMPT (adapters import nothing of service)


class PgJournal:
    def __init__(self, db: Db, name: str, read_only: bool) -> None:
        self.db = db
        self.name = name
        self.read_only = read_only
        self._conn: psycopg.Connection[Any] | None = None
        self._guard = threading.Lock()
        self._read_up_to = 0  # the newest line read: clear() removes only what was read
        self._waiting: list[str] = []  # outcome lines not yet written (they go with the next attempt)
        self._unanswered = False  # an INSERT sent whose answer is not read yet

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect(autocommit=True)
            self._conn.execute("SET synchronous_commit = off")
        return self._conn

    def append(self, entry: dict[str, Any], sync: bool = True) -> None:
        """An attempt line is handed to the server before this returns (with any outcome lines
        waiting), committed by it even if this process dies next; an outcome line waits for the
        next attempt, or sync()."""
        with self._guard:
            self._waiting.append(json.dumps(entry))
            if entry.get("event") == ATTEMPT:
                self._write()

    def _write(self) -> None:
        """The waiting lines in one statement, in order (seq follows the VALUES order): sent, its
        answer read at the next write or sync (the previous statement's answer is read first)."""
        self._answer()
        if not self._waiting:
            return
        lines, self._waiting = self._waiting, []
        values = ", ".join(f"(${2 * n + 1}, ${2 * n + 2})" for n in range(len(lines)))
        self._connection().pgconn.send_query_params(f"INSERT INTO journal (name, entry) VALUES {values}".encode(),
                                                   [v.encode() for line in lines for v in (self.name, line)])
        self._unanswered = True

    def _answer(self) -> None:
        """Read the answer of the INSERT sent last; raise if the server refused it."""
        if not self._unanswered or self._conn is None:
            return
        self._unanswered = False
        refused = b""
        while (result := self._conn.pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                refused = result.error_message or b"no answer"
        if refused:
            raise psycopg.OperationalError(f"the outbox journal was not written: {refused.decode(errors='replace')}")

    def sync(self) -> None:
        """Every line appended so far committed."""
        with self._guard:
            self._write()
            self._answer()

    def read(self) -> list[dict[str, Any]]:
        self.sync()
        with self.db.conn() as c:
            rows = c.execute("SELECT seq, entry FROM journal WHERE name = %s ORDER BY seq", (self.name,)).fetchall()
        self._read_up_to = rows[-1][0] if rows else self._read_up_to
        return [json.loads(e) if isinstance(e, str) else e for _seq, e in rows]

    def clear(self, had_entries: bool) -> None:
        """Remove the lines read (they are folded into the records); a line written since stays."""
        self.sync()
        if self.read_only or not had_entries:
            return
        with self.db.conn() as c:
            c.execute("DELETE FROM journal WHERE name = %s AND seq <= %s", (self.name, self._read_up_to))

    def close(self) -> None:
        with self._guard:
            self._write()
            self._answer()
            if self._conn is not None:
                self._conn.close()
                self._conn = None
