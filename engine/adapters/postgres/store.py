"""The practice's store on PostgreSQL (several desks): implements engine/adapters/storage.Storage.

The writer's lock is a session advisory lock held by a connection of its own for as long as the
store is open: the server releases it when that connection ends, however the holder died, and a
second writer gets StoreLocked naming the holder (from pg_stat_activity), as on TinyDB. The key
is per schema, so practices in different schemas of one database do not lock each other.

Readers take no lock and write nothing but reception's own changes to received messages (read,
tags, filing, actioned, deleted: `DESK_WRITES`), each one row locked, changed and written back in
one transaction (records.py `modify_many`), so a desk's change and the service's never lose one
another; the wrong PINs typed at the desk (`DESK_ADDS`: added and counted, never removed), so a
lockout counts across desks; the commands they ask of the service (commands.py); and nothing
else. The schema is brought up to date by the writer (schema.py); a reader of a database no
writer has set up sees an empty practice (as a reader of a new data folder does), and a reader of
an older schema is told to run a writer first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from engine.adapters.durable import FOLDER_MODE
from engine.adapters.postgres import schema
from engine.adapters.postgres.blobs import PgBlobs
from engine.adapters.postgres.db import DatabaseUnreachable, Db, redact
from engine.adapters.postgres.journal import PgJournal
from engine.adapters.postgres.notify import POLL_SECONDS, OnChange, Watcher
from engine.adapters.postgres.records import PgCollection
from engine.errors import StoreCorrupt, StoreLocked

if TYPE_CHECKING:
    from engine.adapters.postgres.commands import PgCommands

log = logging.getLogger("practicemail.store")

# what a reader (another desk) may change itself: the messages reception acts on. Never created by
# a reader (a practice no writer has set up has no messages to change).
DESK_WRITES = frozenset({"messages"})
# what a reader may add to as well as change (never remove from): the wrong PINs typed at that
# desk (engine/service/pin_tries.py), so 5 wrong PINs on any desks together lock the user out
# everywhere. Users and groups stay the writer's: a desk checks a PIN against them, never changes
# them. Made by the writer (its Roles); a reader never creates it.
DESK_ADDS = frozenset({"pin_tries"})
# Pooled connections at most, and seconds an idle one above the first is kept, per role
# (tools/bench/desk_connections.py measured them). The service's threads (worker, heartbeat,
# other desks' commands, a kiosk's reads when a kiosk runs it) may each want one at once. A desk
# at rest holds one pooled connection and its LISTEN (notify.py), plus one while it waits for an
# answer (commands.py); its reads (the GUI thread, the jobs thread) peaked at 2 pooled in the
# bench, so 3 leaves room while a desk's bound (3 + 1 + 1) times 17 desks, plus the service's 10,
# stays under the server's default 100; at rest 2 each once a burst's extra closes (max_idle).
POOL_SIZES = {"service": (8, 600.0), "desk": (3, 60.0)}
LOCK_CLASS = 0x504D  # "PM": the first half of the writer's advisory lock key
STEP_CLASS = 0x5053  # "PS": the first half of `one_at_a_time`'s transaction locks
# The lock holder's session: the server probes an idle client after 10 s, then every 5 s, and ends
# the session (releasing the lock) after 3 unanswered probes, so a standby takes over within a
# minute even when the holder's machine vanishes without closing its connection (power, network).
_KEEPALIVES = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")
# wait(holder) -> True to try the lock again (after waiting), False to give up: a standby.
LockWait = Callable[[str], bool]
_HOLDER = """
SELECT a.application_name, coalesce(host(a.client_addr), 'this server'), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = hashtext(current_schema())::oid
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class PgStore:
    """Open with `PgStore.open(url, writer=..., folder=...)`."""

    def __init__(self, db: Db, folder: Path, read_only: bool, lock: psycopg.Connection[Any] | None) -> None:
        self.db = db
        self.url = db.url
        self.folder = folder
        self.read_only = read_only
        self._lock = lock
        self._guard = threading.Lock()
        self._lock_guard = threading.Lock()  # the lock's connection: lock_held and close
        self._open: dict[str, PgCollection] = {}
        self._registry: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]] = {}
        self.blobs = PgBlobs(db, read_only)

    @classmethod
    def open(cls, url: str, writer: bool, folder: Path, command: str = "practicemail",
             wait: LockWait | None = None) -> "PgStore":
        """`wait`: when another writer holds the lock, called with who holds it; it waits and
        returns True to try again, False to give up (StoreLocked). None: refuse at once."""
        application = f"{command} (pid {os.getpid()} on {socket.gethostname()})"
        size, idle = POOL_SIZES["service" if writer else "desk"]
        db = Db(url, max_size=size, application=application, max_idle=idle)
        lock = None
        try:
            if writer:
                lock = _take_writer_lock(db, wait)
                folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
                (folder / "db").mkdir(exist_ok=True, mode=FOLDER_MODE)
                with db.conn() as c:
                    schema.migrate(c)
            store = cls(db, folder, read_only=not writer, lock=lock)
            store._check_schema()
            store._read_registry()
        except BaseException:
            if lock is not None:
                lock.close()
            db.close()
            raise
        log.info("database %s opened (%s)", redact(url), "writer" if writer else "reader")
        return store

    # -- schema -------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        with self.db.conn() as c:
            return schema.current_version(c)

    def _check_schema(self) -> None:
        version = self.schema_version
        schema.check_newer(version, schema.SCHEMA_VERSION)
        if version == 0 and self.read_only:
            return  # no writer has set it up yet: a reader sees an empty practice, as in a new folder
        if version < schema.SCHEMA_VERSION:
            raise StoreCorrupt(f"the database {redact(self.url)} holds no practice of this version yet "
                               f"(schema {version}, we need {schema.SCHEMA_VERSION})",
                               hint="Run practicemail serve (or migrate) on it once; it sets the database up.")

    def _read_registry(self) -> None:
        with self.db.conn() as c:
            try:
                with c.transaction(), c.cursor() as cur:
                    cur.execute("SELECT name, partitioned, fields, held FROM collections")
                    self._registry = {name: (bool(p), tuple(f), tuple(h)) for name, p, f, h in cur.fetchall()}
            except psycopg.errors.UndefinedTable:  # a reader of a database not set up yet
                self._registry = {}

    # -- collections ----------------------------------------------------------
    def _get(self, name: str, partitioned: bool) -> PgCollection:
        with self._guard:
            coll = self._open.get(name)
            if coll is not None:
                return coll
            if name not in self._registry and not self.read_only:
                fields = schema.INDEXED.get(name, ())
                with self.db.conn() as c, c.transaction(), c.cursor() as cur:
                    schema.create_collection(cur, name, fields, partitioned, schema.HELD if partitioned else ())
                self._read_registry()
            if name not in self._registry and name in DESK_WRITES | DESK_ADDS:
                self._read_registry()  # a writer may have made it since this reader opened
            known = name in self._registry
            _p, fields, held = self._registry.get(name, (partitioned, (), ()))
            coll = PgCollection(self.db, name, fields, self.read_only,
                                may_modify=not self.read_only or (name in DESK_WRITES | DESK_ADDS and known),
                                may_add=not self.read_only or (name in DESK_ADDS and known), held=held)
            if known or not self.read_only:  # a table not made yet: asked again next time
                self._open[name] = coll
            return coll

    def collection(self, name: str) -> PgCollection:
        return self._get(name, partitioned=False)

    def partitioned(self, name: str, partition_size: int = 0) -> PgCollection:
        """partition_size is TinyDB's concern; a PostgreSQL table needs none."""
        return self._get(name, partitioned=True)

    def names(self) -> dict[str, bool]:
        self._read_registry()
        return {n: p for n, (p, _f, _h) in sorted(self._registry.items())}

    def lock_held(self) -> bool:
        """Whether this writer still holds the writer's lock. False once its session ended while
        the process lives on (the database restarted, a network cut, an administrator ended it):
        a standby may have the lock now, and this writer must stop writing (engine/service/standby.py)."""
        with self._lock_guard:
            if self._lock is None:
                return False
            try:
                row = self._lock.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                         "AND pid = pg_backend_pid() AND classid = %s", (LOCK_CLASS,)).fetchone()
            except psycopg.Error:
                return False
            return bool(row and row[0])

    def watch(self, on_change: OnChange, poll: float = POLL_SECONDS) -> Watcher:
        """Started: `on_change(collection)` on its own thread whenever another process commits a
        change to the outbox, the messages or the heartbeat (postgres/notify.py); `None` after
        each `poll` seconds without a notice. Stop it with `.stop()`."""
        return Watcher(self.db, on_change, poll).start()

    def commands(self) -> "PgCommands":
        """Commands other desks ask of the service (postgres/commands.py): the one table a
        reader writes to (it asks); the writer running the service answers."""
        from engine.adapters.postgres.commands import PgCommands  # it imports this module

        return PgCommands(self.db)

    def journal(self, name: str) -> PgJournal:
        """A crash journal in the database (postgres/journal.py): the machine that takes over
        after a crash reads the one the dead machine wrote."""
        return PgJournal(self.db, name, self.read_only)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call on this thread inside the block is one transaction (see db.py)."""
        with self.db.transaction():
            yield

    def one_at_a_time(self, name: str) -> None:
        """Inside `transaction()`: wait until no other transaction that asked for `name` is open,
        and hold it until this one ends (a transaction-level advisory lock, per schema). For a
        check and change over rows that may not exist yet (nothing to lock FOR UPDATE)."""
        with self.db.transaction() as c:
            c.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema() || '.' || %s))",
                      (STEP_CLASS, name))

    def close(self) -> None:
        self.db.close()
        with self._lock_guard:
            if self._lock is not None:
                self._lock.close()  # ends the session: the server releases the writer's lock
                self._lock = None

    def __enter__(self) -> "PgStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _take_writer_lock(db: Db, wait: LockWait | None = None) -> psycopg.Connection[Any]:
    """The lock on a connection of its own. Polled (pg_try_advisory_lock) rather than blocked on
    (pg_advisory_lock): a standby waiting in a poll can be stopped by SIGTERM between two tries."""
    conn = db.connect(autocommit=True)
    try:
        for statement in _KEEPALIVES:
            conn.execute(statement)
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))",
                               (LOCK_CLASS,)).fetchone()
            if row is None or row[0] is None:
                raise StoreCorrupt(f"the database {redact(db.url)} has no schema to hold a practice",
                                   hint="Create the schema named in the URL's search_path, or leave search_path out.")
            if row[0]:
                return conn
            who = holder(conn)
            if wait is None or not wait(who):
                raise StoreLocked(f"the database {redact(db.url)} is in use by {who}")
    except psycopg.OperationalError as exc:  # the server went away while a standby waited
        conn.close()
        raise DatabaseUnreachable(f"lost the database {redact(db.url)} while waiting for its writer's lock: "
                                  f"{' '.join(str(exc).split())}") from exc
    except BaseException:
        conn.close()
        raise


def holder(conn: psycopg.Connection[Any]) -> str:
    """Who holds the writer's lock of the connection's schema, as words (pg_stat_activity)."""
    row = conn.execute(_HOLDER, (LOCK_CLASS,)).fetchone()
    return (f"{row[0] or 'a practicemail process'} from {row[1]}, since {row[2]}" if row
            else "another practicemail process")
