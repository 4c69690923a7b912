"""The service's state as reception sees it, derived from the heartbeat record.

Pure: the record and the time come in. The heartbeat is written every minute
and at once on a change, so a stopped service shows within STALE_AFTER.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

STALE_AFTER = timedelta(seconds=110)
STATES = ("running", "failing", "stopped")


def derive(record: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    if not record:
        return {"state": "stopped", "reason": "the email service has never run on this data folder",
                "hint": "Start the email service (the kiosk, or practicemail serve)."}
    at = datetime.fromisoformat(record["at"])
    base = {k: record.get(k) for k in ("at", "pid", "last_send", "last_receive", "last_error", "outbox")}
    if record.get("state") == "stopped":
        return {**base, "state": "stopped", "reason": "the email service was stopped",
                "hint": "Start the email service (the kiosk, or practicemail serve)."}
    if now - at > STALE_AFTER:
        return {**base, "state": "stopped",
                "reason": f"no heartbeat since {at:%Y-%m-%d %H:%M} (the service is not running)",
                "hint": "Restart the email service; if it stops again, export diagnostics for support."}
    if record.get("state") == "failing":
        err = record.get("last_error") or {}
        return {**base, "state": "failing", "reason": err.get("error", "the last attempt failed"),
                "hint": err.get("hint", "Open the service status for details.")}
    return {**base, "state": "running", "reason": "", "hint": ""}
