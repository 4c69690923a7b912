"""Change notices from the database: another desk hears at once that the outbox, the messages or
the heartbeat changed (LISTEN/NOTIFY), with a slow poll as a fallback.

Why LISTEN/NOTIFY: a desk that polled every table every second would load the server in
proportion to the desks, and still be up to a second late. The notice is sent by a statement
trigger on the watched tables (schema 3) when the writing transaction commits, never before, so a
desk that reads on a notice sees the change. A notice says which collection changed and nothing
else: the desk reads through its own store as usual. Notices of one database reach every
schema's listeners, so each carries its schema and a Watcher keeps only its own. A notice also
carries the server session (pid) that sent it, and a Watcher drops those its own process sent
(Db.sent_here): the desk that made a change already knows it, and its kiosk read the inbox again
for every change of its own (#21).

Why the poll too: a notice is lost while the listening connection is down (the server restarted,
the network dropped it). Each poll, and each reconnect, is reported as `None`: "look again".
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from engine.adapters.postgres.db import Db

log = logging.getLogger("practicemail.store")
CHANNEL = "practicemail"
WATCHED = ("outbox", "messages", "heartbeat")
POLL_SECONDS = 30.0
# on_change(collection): a watched collection changed; None: a poll or a reconnect, look again
OnChange = Callable[["str | None"], None]


class Watcher:
    """A thread on a connection of its own that LISTENs and calls `on_change` from that thread
    (a kiosk hands it to its GUI thread itself). `stop()` returns within a second."""

    def __init__(self, db: Db, on_change: OnChange, poll: float = POLL_SECONDS) -> None:
        self.db = db
        self.on_change = on_change
        self.poll = poll
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self.ready = threading.Event()  # set once the first LISTEN is in place
        self._schema = ""
        self._thread = threading.Thread(target=self._run, name="practicemail-watch", daemon=True)

    def start(self) -> "Watcher":
        self._thread.start()
        return self

    def _listen(self) -> psycopg.Connection[Any]:
        conn = self.db.connect(autocommit=True)
        row = conn.execute("SELECT current_schema()").fetchone()
        self._schema = row[0] if row else ""
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _run(self) -> None:
        waited = 0.0
        while not self._stop.is_set():
            try:
                if self._conn is None:
                    self._conn = self._listen()
                    if self.ready.is_set():
                        self._deliver(None)  # notices may have been lost while we were away
                    self.ready.set()
                heard = False
                for notice in self._conn.notifies(timeout=1.0, stop_after=1):
                    heard = self._heard(notice.payload, notice.pid) or heard
                waited = 0.0 if heard else waited + 1.0
                if waited >= self.poll:
                    waited = 0.0
                    self._deliver(None)
            except Exception as exc:  # noqa: BLE001 - the database went away: listen again later
                log.warning("change notices lost (%s); listening again", " ".join(str(exc).split())[:200])
                self._drop()
                self._stop.wait(2.0)

    def _heard(self, payload: str, pid: int) -> bool:
        """A notice: True when it was this schema's (the connection is alive), delivered unless
        this process sent it."""
        try:
            notice = json.loads(payload)
        except ValueError:
            return False
        if not (isinstance(notice, dict) and notice.get("schema") == self._schema):
            return False  # another practice's schema in the same database
        if not self.db.sent_here(pid):
            self._deliver(str(notice.get("collection", "")))
        return True

    def _deliver(self, collection: str | None) -> None:
        try:
            self.on_change(collection)
        except Exception:  # noqa: BLE001 - a listener's bug must not end the watching
            log.exception("a change listener failed")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._drop()
