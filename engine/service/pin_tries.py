"""Wrong PINs, counted per user, so that a 4-digit PIN cannot be guessed at an unattended desk
(#19): after WRONG_LIMIT wrong PINs in a row that user cannot sign in for FIRST_WAIT, then again
after the next WRONG_LIMIT for twice as long, up to LONGEST_WAIT. A right PIN forgets it all, and
so do a new PIN and the Users page's "Let sign in again".

Stored (collection "pin_tries", one record per user: {"user": the name casefolded, "wrong",
"locks", "until"}), so the wait holds across a restart of the kiosk and across the desks of one
database; each wrong PIN is counted in one transaction (`modify_many`), so two desks typing at
once never count less. A record is added and changed, never removed (forgetting sets it back to
nought): on PostgreSQL another desk, which opens the store read-only, may do just that much
(engine/adapters/postgres/store.py DESK_ADDS), so it checks a PIN itself and its wrong ones
count with every other desk's. Times come from the App's clock. Nothing here ever sees a PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from engine.adapters.storage import RID, Storage

WRONG_LIMIT = 5
FIRST_WAIT = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=1)

log = logging.getLogger("practicemail.service")


def _system_now() -> datetime:
    return datetime.now(timezone.utc)


def wait_after(locks: int) -> timedelta:
    """How long the `locks`-th lock lasts (1: FIRST_WAIT, then doubling, at most LONGEST_WAIT)."""
    return min(FIRST_WAIT * 2 ** min(max(locks - 1, 0), 16), LONGEST_WAIT)


class PinTries:
    def __init__(self, store: Storage, now: Callable[[], datetime] | None = None,
                 zone: Callable[[], tzinfo] | None = None) -> None:
        self._store = store
        self._tries = store.collection("pin_tries")
        self.now = now or _system_now
        self.zone = zone or (lambda: timezone.utc)

    def _records(self, key: str) -> list[dict[str, Any]]:
        return sorted(self._collection().find_by("user", key), key=lambda r: r[RID])

    def _collection(self) -> Any:
        """Asked of the store each time on a reader: the writer may have made it since."""
        if getattr(self._tries, "read_only", False) and not getattr(self._tries, "may_add", False):
            self._tries = self._store.collection("pin_tries")
        return self._tries

    def counted(self) -> bool:
        """Whether a wrong PIN can be counted here: a writer, or another desk of a database
        (a TinyDB reader cannot, and then no PIN may be tried there)."""
        coll = self._collection()
        return not getattr(coll, "read_only", False) or bool(getattr(coll, "may_add", False))

    def locked_until(self, key: str) -> datetime | None:
        """When `key` may try again, if a lock holds now (the latest of the user's records)."""
        until = _latest(r.get("until", "") for r in self._records(key))
        if until and datetime.fromisoformat(until) > self.now():
            return datetime.fromisoformat(until)
        return None

    def shown(self, until: datetime) -> str:
        """The time in the practice's zone, as the desk says it: 10:42 (with the day if not today)."""
        local, today = until.astimezone(self.zone()), self.now().astimezone(self.zone()).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%H:%M on %d %b")

    def wrong(self, key: str, name: str) -> datetime | None:
        """Count one wrong PIN for `key`; when it starts a lock, the lock's end. Two desks adding
        the user's first record at once may each count on the one they saw (the other's insert not
        yet committed): every count folds the user's records it sees into the newest, all rows locked
        in one transaction, so none is lost and the fifth locks wherever they were typed."""
        if not self._records(key):
            self._collection().insert({"user": key, "wrong": 0, "locks": 0, "until": ""})
        rids = [r[RID] for r in self._records(key)]
        now = self.now()
        total: dict[str, Any] = {"wrong": 0, "locks": 0, "until": ""}
        started: list[datetime] = []

        def count(rid: int, rec: dict[str, Any]) -> dict[str, Any] | None:
            total.update(wrong=total["wrong"] + int(rec.get("wrong", 0)),
                         locks=total["locks"] + int(rec.get("locks", 0)),
                         until=_latest([total["until"], rec.get("until", "")]))
            if rid != rids[-1]:
                return {**rec, "wrong": 0, "locks": 0, "until": ""} if _counting(rec) else None
            if total["until"] and datetime.fromisoformat(total["until"]) > now:
                return {**rec, **total}  # locked already (another desk): not counted
            if total["wrong"] + 1 < WRONG_LIMIT:
                return {**rec, **total, "wrong": total["wrong"] + 1}
            started.append(now + wait_after(total["locks"] + 1))
            return {**rec, "wrong": 0, "locks": total["locks"] + 1, "until": started[-1].isoformat()}

        self._collection().modify_many(rids, count)
        if started:
            log.warning("user %r locked out of signing in until %s after %d wrong PINs",
                        name, started[0].isoformat(timespec="minutes"), WRONG_LIMIT)
        return started[0] if started else None

    def clear(self, key: str) -> None:
        """A right PIN, a new PIN, or the Users page's "Let sign in again": the count forgotten
        (the record set back to nought, in one transaction; a desk may not remove one)."""
        def forget(_rid: int, rec: dict[str, Any]) -> dict[str, Any] | None:
            return {**rec, "wrong": 0, "locks": 0, "until": ""} if _counting(rec) else None

        counting = [r[RID] for r in self._records(key) if _counting(r)]
        if counting:
            self._collection().modify_many(counting, forget, copies=False)


def _latest(untils: Any) -> str:
    """The latest of these lock ends ("" for none)."""
    found = [u for u in untils if u]
    return max(found, key=datetime.fromisoformat) if found else ""


def _counting(rec: dict[str, Any]) -> bool:
    return bool(rec.get("wrong") or rec.get("locks") or rec.get("until"))
