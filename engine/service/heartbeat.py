"""The heartbeat record: the service's periodic word that it is alive, and what
its last sends and checks found. One small record, rewritten each beat; state
changes and errors are also kept as a short history for support.

Beside it, a second small record says which account was last proved to work (by a
setup test or a pass), so the light can say "not set up" until one has. It is kept
apart because writing it must not touch the heartbeat's time: a setup test run
from the command line is not a sign that the service is alive.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters.storage import Storage
from engine.core import status as status_rules

if TYPE_CHECKING:
    from engine.service.settings import Settings

RECORD = 1
TESTED = 2  # {"account": key, "at": time, "by": "setup test" | "send" | "receive"}
HISTORY = 200


class Heartbeat:
    def __init__(self, store: Storage, settings: "Settings | None" = None) -> None:
        self._c = store.collection("heartbeat")
        self._lock = threading.Lock()
        self._settings = settings
        # whose beats these are: a service that stops after another took over (a standby, once
        # this one lost its lock) must not write "stopped" over the other's "running"
        self._token = uuid.uuid4().hex

    def record(self) -> dict[str, Any] | None:
        return self._c.get(RECORD)

    def _updated(self, stored: dict[str, Any] | None, now: datetime, fields: dict[str, Any],
                 history: dict[str, Any] | None) -> dict[str, Any]:
        rec = dict(stored or {"state": "stopped", "history": []})
        rec.update(fields)
        rec["at"] = now.isoformat()
        rec["pid"] = os.getpid()
        rec["by"] = self._token
        if history is not None:
            rec["history"] = (rec.get("history", []) + [{"at": now.isoformat(), **history}])[-HISTORY:]
        return {k: v for k, v in rec.items() if k != "_rid"}

    def _change(self, now: datetime, fields: dict[str, Any], history: dict[str, Any] | None = None) -> None:
        with self._lock:
            body = self._updated(self._c.get(RECORD), now, fields, history)
            if self._c.get(RECORD) is None:
                self._c.insert(body, RECORD)
            else:
                self._c.update(RECORD, body)

    def beat(self, now: datetime, state: str, counts: dict[str, int]) -> None:
        previous = (self.record() or {}).get("state")
        change = {"event": "state", "state": state} if previous != state else None
        self._change(now, {"state": state, "outbox": counts}, change)

    def stopped(self, now: datetime, counts: dict[str, int]) -> bool:
        """The service's last beat as it stops: "stopped", unless another service has beaten since
        this one last did (it took over): then its beat stands, and False. One write, decided on
        the record as stored (on PostgreSQL, with the row locked against the other's beat)."""
        if self.record() is None:
            self.beat(now, "stopped", counts)
            return True

        def change(_rid: int, stored: Any) -> dict[str, Any] | None:
            if stored.get("by") not in (None, self._token):
                return None  # another service's beat: it runs now, and says so
            history = {"event": "state", "state": "stopped"} if stored.get("state") != "stopped" else None
            return self._updated(stored, now, {"state": "stopped", "outbox": counts}, history)

        with self._lock:
            return bool(self._c.modify_many([RECORD], change, copies=False))

    def current_state(self) -> str:
        return (self.record() or {}).get("state", "stopped")

    def note_error(self, now: datetime, phase: str, error: str, hint: str, failing: bool = True) -> None:
        fields: dict[str, Any] = {"last_error": {"at": now.isoformat(), "phase": phase, "error": error, "hint": hint}}
        if failing:
            fields["state"] = "failing"
        self._change(now, fields, {"event": "error", "phase": phase, "error": error})

    def clear_failing(self, now: datetime) -> None:
        self._change(now, {"state": "running"}, {"event": "recovered"})

    def note_send(self, now: datetime, sent: int, problems: int, last: dict[str, Any] | None) -> None:
        self._change(now, {"last_send": {"at": now.isoformat(), "sent": sent, "problems": problems,
                                         "error": (last or {}).get("error", "")}})

    def note_receive(self, now: datetime, received: int, error: str = "") -> None:
        """A check for mail that worked ("Last checked"); a failed one is a direction outcome instead."""
        self._change(now, {"last_receive": {"at": now.isoformat(), "received": received, "error": error}})

    # -- what the light needs beyond liveness ------------------------------------------------
    def note_direction(self, now: datetime, direction: str, account: str | None, error: str = "",
                       hint: str = "", action: str = "") -> None:
        """The last outcome of one direction (send or receive) with this account: each kept
        apart, so a good send never hides a failed receive. No history entry (note_error keeps those)."""
        if direction not in status_rules.DIRECTIONS:
            raise ValueError(f"direction must be one of {status_rules.DIRECTIONS}")
        outcome = {"at": now.isoformat(), "ok": not error, "account": account, "error": error, "hint": hint,
                   "action": action}  # "sign_in": the kiosk offers the sign-in there and then
        with self._lock:  # the heartbeat's own time is left alone: an outcome is not a beat
            rec = self._c.get(RECORD)
            directions = {**((rec or {}).get("directions") or {}), direction: outcome}
            if rec is None:
                self._c.insert({"state": "stopped", "history": [], "directions": directions}, RECORD)
            else:
                self._c.update(RECORD, {"directions": directions})

    def note_tested(self, now: datetime, account: str | None, by: str) -> None:
        """This account was proved to work (a setup test passed, or a pass worked with it)."""
        if account is None:
            return
        body = {"account": account, "at": now.isoformat(), "by": by}
        with self._lock:
            if self._c.get(TESTED) is None:
                self._c.insert(body, TESTED)
            else:
                self._c.update(TESTED, body)

    def tested(self) -> dict[str, Any] | None:
        return self._c.get(TESTED)

    def setup(self) -> status_rules.Setup | None:
        """What the settings say about the account; None when this heartbeat has no settings."""
        if self._settings is None:
            return None
        return status_rules.setup_from(self._settings.values(), (self.tested() or {}).get("account"))

    def recent_sends(self) -> list[datetime]:
        rec = self.record() or {}
        return [datetime.fromisoformat(t) for t in rec.get("recent_sends", [])]

    def save_recent_sends(self, sends: list[datetime]) -> None:
        with self._lock:
            rec = self._c.get(RECORD)
            if rec is None:
                return
            self._c.update(RECORD, {"recent_sends": [t.isoformat() for t in sends]})

    def recent_texts(self) -> list[datetime]:
        """The texts' sends text pacing counts (sms.per_minute), kept apart from the emails'."""
        rec = self.record() or {}
        return [datetime.fromisoformat(t) for t in rec.get("recent_texts", [])]

    def save_recent_texts(self, sends: list[datetime]) -> None:
        with self._lock:
            if self._c.get(RECORD) is None:
                return
            self._c.update(RECORD, {"recent_texts": [t.isoformat() for t in sends]})

    def status(self, now: datetime) -> dict[str, Any]:
        return status_rules.derive(self.record(), now, self.setup())
