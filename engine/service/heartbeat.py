"""The heartbeat record: the service's periodic word that it is alive, and what
its last sends and checks found. One small record, rewritten each beat; state
changes and errors are also kept as a short history for support.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Any

from engine.adapters.store import Store
from engine.core import status as status_rules

RECORD = 1
HISTORY = 200


class Heartbeat:
    def __init__(self, store: Store) -> None:
        self._c = store.collection("heartbeat")
        self._lock = threading.Lock()

    def record(self) -> dict[str, Any] | None:
        return self._c.get(RECORD)

    def _change(self, now: datetime, fields: dict[str, Any], history: dict[str, Any] | None = None) -> None:
        with self._lock:
            rec = self._c.get(RECORD) or {"state": "stopped", "history": []}
            rec.update(fields)
            rec["at"] = now.isoformat()
            rec["pid"] = os.getpid()
            if history is not None:
                rec["history"] = (rec.get("history", []) + [{"at": now.isoformat(), **history}])[-HISTORY:]
            body = {k: v for k, v in rec.items() if k != "_rid"}
            if self._c.get(RECORD) is None:
                self._c.insert(body, RECORD)
            else:
                self._c.update(RECORD, body)

    def beat(self, now: datetime, state: str, counts: dict[str, int]) -> None:
        previous = (self.record() or {}).get("state")
        change = {"event": "state", "state": state} if previous != state else None
        self._change(now, {"state": state, "outbox": counts}, change)

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
        self._change(now, {"last_receive": {"at": now.isoformat(), "received": received, "error": error}})

    def recent_sends(self) -> list[datetime]:
        rec = self.record() or {}
        return [datetime.fromisoformat(t) for t in rec.get("recent_sends", [])]

    def save_recent_sends(self, sends: list[datetime]) -> None:
        with self._lock:
            rec = self._c.get(RECORD)
            if rec is None:
                return
            self._c.update(RECORD, {"recent_sends": [t.isoformat() for t in sends]})

    def status(self, now: datetime) -> dict[str, Any]:
        return status_rules.derive(self.record(), now)
