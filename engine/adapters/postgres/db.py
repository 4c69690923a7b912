"""Connections: psycopg 3's pool, and a transaction that every store call on a thread joins.

Each store call takes a connection from the pool and commits when it returns, so a call is a
transaction of its own. Pooled connections are in autocommit: a call of one statement (most reads)
costs one round trip, where BEGIN and COMMIT around it would cost three; a call of several
statements opens its transaction explicitly (`with c.transaction()`). `Db.transaction()` binds one
connection to the calling thread until the block ends: every store call made inside it on that
thread runs in that one transaction (migrate copies a whole practice that way, all or nothing).
Library errors become engine errors here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from engine.errors import InputInvalid, PracticeMailError

CONNECT_TIMEOUT = 10  # seconds for the first connection before we say the server is unreachable


class StoreClosed(PracticeMailError):
    """A call on a store after close(): a bug in the caller's shutdown order, not the network."""

    default_hint = "Restart practicemail; if it keeps happening, export diagnostics for support."


class DatabaseUnreachable(PracticeMailError):
    default_hint = ("The practice database could not be reached: check that the database server is running "
                    "and that this computer can reach it on the network.")


def redact(url: str) -> str:
    """The URL as it may appear in a log or a message: no password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def refuse_password(url: str) -> None:
    """A URL given on the command line must not carry a password (ps shows argv to everyone)."""
    if urlsplit(url).password is not None:
        raise InputInvalid(f"the database URL {redact(url)} holds a password",
                           hint="Leave the password out of the URL: put it in ~/.pgpass (or PGPASSFILE), "
                                "or pass the URL in PRACTICEMAIL_DATABASE.")


class Db:
    def __init__(self, url: str, max_size: int = 8, application: str = "practicemail", max_idle: float = 600.0) -> None:
        """`max_size`: pooled connections at most (one is kept open); `max_idle`: seconds an idle
        one above that stays before it is closed. Sizes per role: store.py POOL_SIZES."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise InputInvalid(f"not a PostgreSQL URL: {redact(url)}",
                               hint="Give a URL such as postgresql://server/practicemail.")
        self.url = url
        self.application = application[:63]
        self._local = threading.local()
        # this process's connections by backend pid: a change notice carries the pid of the
        # session that sent it, and a desk does not hear its own changes back (notify.py)
        self._mine: dict[int, psycopg.Connection[Any]] = {}
        self._mine_guard = threading.Lock()
        # One direct connection first: a refused or unknown server fails at once with libpq's own
        # reason, where the pool would retry quietly until its timeout.
        self.connect().close()
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, max_idle=max_idle, open=False,
                                   name="practicemail", configure=self._remember,
                                   kwargs={"application_name": self.application, "autocommit": True,
                                           "connect_timeout": CONNECT_TIMEOUT})
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            self.pool.close()
            raise DatabaseUnreachable(f"cannot connect to the database {redact(url)}: the pool timed out") from exc

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A connection of its own, outside the pool (the writer's lock lives on one)."""
        try:
            conn = psycopg.connect(self.url, application_name=self.application,
                                   connect_timeout=CONNECT_TIMEOUT, **kwargs)
        except psycopg.OperationalError as exc:
            raise DatabaseUnreachable(f"cannot connect to the database {redact(self.url)}: "
                                      f"{' '.join(str(exc).split())}") from exc
        self._remember(conn)
        return conn

    def _remember(self, conn: psycopg.Connection[Any]) -> None:
        """A new connection of this process (the pool's configure hook, and `connect`); closed
        ones are forgotten, so a pid the server gives again to another desk is not taken for ours."""
        with self._mine_guard:
            for pid in [pid for pid, c in self._mine.items() if c.closed]:
                del self._mine[pid]
            self._mine[conn.info.backend_pid] = conn

    def sent_here(self, pid: int) -> bool:
        """Whether the server session `pid` (a notice's sender) is one of this process's open
        connections: the change it announces was made here."""
        with self._mine_guard:
            conn = self._mine.get(pid)
        return conn is not None and not conn.closed

    @contextlib.contextmanager
    def conn(self) -> Iterator[psycopg.Connection[Any]]:
        """The thread's bound connection inside transaction(), else a pooled one committed on exit."""
        bound = getattr(self._local, "conn", None)
        if bound is not None:
            yield bound
            return
        try:
            with self.pool.connection() as c:
                yield c
        except PoolClosed as exc:
            raise StoreClosed(f"the store on {redact(self.url)} was closed before this call") from exc
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise DatabaseUnreachable(f"lost the database {redact(self.url)}: {' '.join(str(exc).split())}") from exc

    def rows(self, query: Any, params: Any = None) -> list[tuple[Any, ...]]:
        """The rows of one read; a table no writer has made yet holds none."""
        try:
            with self.read() as cur:
                cur.execute(query, params)
                return cur.fetchall()
        except psycopg.errors.UndefinedTable:
            return []

    @contextlib.contextmanager
    def read(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor for one read statement: on its own, in autocommit (one round trip); inside
        transaction(), in a savepoint of it, so a failed read (a table not made yet) does not
        abort the whole block."""
        with self.conn() as c:
            if getattr(self._local, "conn", None) is c:
                with c.transaction(), c.cursor() as cur:
                    yield cur
            else:
                with c.cursor() as cur:
                    yield cur

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction for every store call on this thread until the block ends; nested
        blocks are savepoints. An exception rolls the whole block back."""
        bound = getattr(self._local, "conn", None)
        if bound is not None:
            with bound.transaction():
                yield bound
            return
        with self.conn() as c:
            self._local.conn = c
            try:
                with c.transaction():
                    yield c
            finally:
                self._local.conn = None

    def close(self) -> None:
        self.pool.close()
