"""Commands from other desks to the service, through the database (table `desk_commands`, schema 4).

A desk that does not run the service (it opened the database as a reader while `serve` holds the
writer's lock) asks for Send/Receive, Reset failed, Restart or a new email by writing one row. A
row trigger NOTIFYs at commit; the serving process LISTENs (and polls slowly as a fallback),
takes the oldest open row with `FOR UPDATE SKIP LOCKED`, carries it out, and writes its answer
(ok, and a JSON result or the error's words) in the same row; that update NOTIFYs the asking desk,
which was LISTENing before it asked, so no answer is missed between its insert and its wait.

Why a table and not a NOTIFY payload alone: a notice is lost when nobody listens (the service
between a crash and the standby's start); a row waits for whoever serves next, and carries the
answer back. A row taken by a service that died is given back by the next one (`reclaim`).

The one thing a reader writes: a desk's store is otherwise read-only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from engine.adapters.postgres.db import DatabaseUnreachable, Db, redact
from engine.adapters.postgres.notify import CHANNEL, POLL_SECONDS, OnChange, Watcher
from engine.adapters.postgres.store import LOCK_CLASS
from engine.errors import InputInvalid

STALE_MINUTES = 10  # an open row older than this is answered "too old" rather than carried out
_SERVICE_RUNS = """
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s
                  AND objid = hashtext(current_schema())::oid
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""


def create_table(cur: psycopg.Cursor[Any]) -> None:
    """Schema 4: the table, its index of open rows, and a NOTIFY per row written."""
    cur.execute("""CREATE TABLE desk_commands (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL, args json NOT NULL, asked_by text NOT NULL,
        asked_at timestamptz NOT NULL DEFAULT now(),
        taken_at timestamptz, taken_by text,
        done_at timestamptz, ok boolean, result json)""")
    cur.execute("CREATE INDEX desk_commands_open_idx ON desk_commands (id) WHERE done_at IS NULL")
    cur.execute("""CREATE FUNCTION practicemail_notify_command() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('practicemail', json_build_object('schema', TG_TABLE_SCHEMA,
                                                                'collection', 'commands', 'id', NEW.id)::text);
            RETURN NULL;
        END $$""")
    cur.execute("CREATE TRIGGER desk_commands_notify AFTER INSERT OR UPDATE ON desk_commands "
                "FOR EACH ROW EXECUTE FUNCTION practicemail_notify_command()")


@dataclass(frozen=True)
class Command:
    """An open row as the service takes it: `stale` when it waited over STALE_MINUTES."""

    id: int
    kind: str
    args: dict[str, Any]
    asked_by: str
    stale: bool


@dataclass(frozen=True)
class Answer:
    ok: bool
    result: Any
    taken_by: str = ""  # the service that carried it out (its program, pid and machine)


@dataclass(frozen=True)
class Unanswered:
    """No answer within the wait. `taken_by`: the service that took the row and is still at it
    (it finishes there); "" when none took it, and the row was withdrawn (never carried out)."""

    taken_by: str


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


class PgCommands:
    def __init__(self, db: Db) -> None:
        self.db = db

    def _failed(self, exc: psycopg.Error) -> Exception:
        if isinstance(exc, psycopg.DataError):  # text the json type refuses (a lone surrogate)
            return InputInvalid("the command holds text the database cannot store",
                                hint="Type the text again in ordinary characters.")
        return DatabaseUnreachable(f"lost the database {redact(self.db.url)}: {' '.join(str(exc).split())}")

    # -- the asking desk ------------------------------------------------------------
    def service_runs(self) -> bool:
        """Whether some process holds this schema's writer's lock (a service that can answer)."""
        with self.db.conn() as c:
            row = c.execute(_SERVICE_RUNS, (LOCK_CLASS,)).fetchone()
        return bool(row and row[0])

    def ask(self, kind: str, args: dict[str, Any], timeout: float) -> Answer | Unanswered:
        """Write the row (asked by this connection's application name: the program, its pid and
        machine) and wait for its answer. Unanswered when none came within `timeout`: a row not
        yet taken is then withdrawn (answered "withdrawn", never carried out later: a request
        that runs minutes after its asker gave up surprises everyone); one already taken is left
        to finish, and Unanswered says who took it."""
        conn = self.db.connect(autocommit=True)
        try:
            schema = (conn.execute("SELECT current_schema()").fetchone() or [""])[0]
            conn.execute(f"LISTEN {CHANNEL}")  # before the insert: its answer cannot slip past
            row = conn.execute("INSERT INTO desk_commands (kind, args, asked_by) VALUES (%s, %s, %s) RETURNING id",
                               (kind, _dumps(args), self.db.application)).fetchone()
            assert row is not None
            return self._wait(conn, int(row[0]), schema, time.monotonic() + timeout)
        except psycopg.Error as exc:
            raise self._failed(exc) from exc
        finally:
            conn.close()

    def _wait(self, conn: psycopg.Connection[Any], cid: int, schema: str, deadline: float) -> Answer | Unanswered:
        while True:
            row = conn.execute("SELECT done_at IS NOT NULL, ok, result, taken_by FROM desk_commands WHERE id = %s",
                               (cid,)).fetchone()
            if row and row[0]:
                return Answer(bool(row[1]), row[2], str(row[3] or ""))
            left = deadline - time.monotonic()
            if left <= 0:
                withdrawn = conn.execute("UPDATE desk_commands SET done_at = now(), ok = false, result = %s "
                                         "WHERE id = %s AND taken_at IS NULL",
                                         (_dumps({"error": "withdrawn: the desk stopped waiting"}), cid)).rowcount
                if withdrawn:
                    return Unanswered("")
                row = conn.execute("SELECT done_at IS NOT NULL, ok, result, taken_by FROM desk_commands "
                                   "WHERE id = %s", (cid,)).fetchone()  # taken (or answered) just now
                if row and row[0]:
                    return Answer(bool(row[1]), row[2], str(row[3] or ""))
                return Unanswered(str(row[3] if row and row[3] else "the email service"))
            for notice in conn.notifies(timeout=min(1.0, left), stop_after=1):
                if _ours(notice.payload, schema, cid):
                    break

    # -- the serving process -----------------------------------------------------------
    def watch(self, on_change: OnChange, poll: float = POLL_SECONDS) -> Watcher:
        """Notices of this schema ("commands" among them) on a thread of its own (notify.py)."""
        return Watcher(self.db, on_change, poll).start()

    def reclaim(self) -> int:
        """Rows a service took and never answered (it died): open again. Called by the service
        that now holds the writer's lock, so no other is working on them."""
        with self.db.conn() as c:
            return c.execute("UPDATE desk_commands SET taken_at = NULL, taken_by = NULL "
                             "WHERE done_at IS NULL AND taken_at IS NOT NULL").rowcount

    def take(self, taken_by: str) -> Command | None:
        """The oldest open row, marked taken (committed), or None."""
        with self.db.conn() as c:
            row = c.execute(
                "UPDATE desk_commands SET taken_at = now(), taken_by = %s WHERE id = ("
                " SELECT id FROM desk_commands WHERE done_at IS NULL AND taken_at IS NULL"
                " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                f" RETURNING id, kind, args, asked_by, asked_at < now() - interval '{STALE_MINUTES} minutes'",
                (taken_by[:200],)).fetchone()
        if row is None:
            return None
        args = row[2] if isinstance(row[2], dict) else {}
        return Command(int(row[0]), str(row[1]), args, str(row[3]), bool(row[4]))

    def finish(self, cid: int, ok: bool, result: Any) -> None:
        """The answer. Inside the store's transaction (PgStore.transaction) it commits with the
        work it answers for: a service killed between the two leaves neither."""
        try:
            with self.db.conn() as c:
                c.execute("UPDATE desk_commands SET done_at = now(), ok = %s, result = %s WHERE id = %s",
                          (ok, _dumps(result), cid))
        except psycopg.DataError as exc:
            raise self._failed(exc) from exc


def _ours(payload: str, schema: str, cid: int) -> bool:
    try:
        notice = json.loads(payload)
    except ValueError:
        return False
    return isinstance(notice, dict) and notice.get("schema") == schema and notice.get("id") == cid
