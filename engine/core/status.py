"""The service's state as reception sees it, derived from the heartbeat record.

Pure: the record, the time and what the settings say about the account come in. The
heartbeat is written every minute and at once on a change, so a stopped service
shows within STALE_AFTER.

The states, and the light's colour for each:

    not_set_up  grey   no email account is saved, or the saved one was never tested
                       (neither a setup test nor a pass has worked with it yet)
    stopped     grey   no fresh heartbeat: the service is not running
    failing     amber  the last pass of a direction in use (sending, receiving) failed
                       to connect, log in or finish (timeouts included), or the
                       service itself hit an unexpected error; the reason is given
    running     green  alive, and the last pass of each direction in use worked

Each direction keeps its own last outcome, so a send that worked never hides a
receive that failed. An outcome counts only for the account it was made with: a
changed server or user name is a new account, untested until it works.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

STALE_AFTER = timedelta(seconds=110)
STATES = ("not_set_up", "running", "failing", "stopped")
DIRECTIONS = ("send", "receive")
DIRECTION_WORDS = {"send": "sending", "receive": "receiving"}
START_HINT = "Start the email service (the kiosk, or practicemail serve)."
SETUP_HINT = "Open Email setup, enter the practice's email account and run the test."
# what makes one account differ from another, for "was this account tested?"
ACCOUNT_KEYS = ("practice.email", "account.username", "incoming.enabled", "incoming.protocol", "incoming.host",
                "incoming.port", "incoming.security", "outgoing.host", "outgoing.port", "outgoing.security",
                "outgoing.starttls", "outgoing.auth")


@dataclass(frozen=True)
class Setup:
    """What the settings say about the account, as far as the light cares."""

    account: str | None  # account_key() of the saved settings; None: no account saved
    receiving: bool  # incoming.enabled: the receive direction is in use
    without_account: bool = False  # setup.allow_without_account
    tested: str | None = None  # the account key that a setup test or a pass last proved


def plain_line(text: str, limit: int = 200) -> str:
    """A reason as one short line of plain text. Reasons carry servers' own words (data, not
    markup): line and paragraph separators, control and format characters (bidi overrides,
    zero-width) become spaces, runs of spaces one space, and a long one ends in an ellipsis."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") else ch for ch in text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return cleaned if len(cleaned) <= limit else cleaned[:max(0, limit - 1)].rstrip() + "…"


def account_key(values: Mapping[str, Any]) -> str | None:
    """A short fingerprint of the saved account, or None when no usable account is saved.

    The password is not part of it (settings show it masked): a changed password either
    works on the next pass (green) or says so (amber), it does not make the account new.
    """
    if not values.get("outgoing.host") or not values.get("practice.email"):
        return None
    if values.get("incoming.enabled") and not values.get("incoming.host"):
        return None
    if values.get("outgoing.auth") is True and not (values.get("account.username") and values.get("account.password")):
        return None
    if values.get("outgoing.auth") == "oauth2" and not values.get("account.username"):
        return None
    text = json.dumps([str(values.get(k, "")) for k in ACCOUNT_KEYS])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def setup_from(values: Mapping[str, Any], tested: str | None) -> Setup:
    return Setup(account=account_key(values), receiving=bool(values.get("incoming.enabled")),
                 without_account=bool(values.get("setup.allow_without_account")), tested=tested)


def alive(record: Mapping[str, Any] | None, now: datetime) -> bool:
    """Is the service running: a heartbeat not marked stopped and not stale."""
    if not record or record.get("state") == "stopped" or "at" not in record:
        return False
    return now - datetime.fromisoformat(record["at"]) <= STALE_AFTER


def _in_use(setup: Setup | None, direction: str) -> bool:
    return setup is None or direction != "receive" or setup.receiving


def _counts(setup: Setup | None, outcome: Mapping[str, Any]) -> bool:
    return setup is None or outcome.get("account") == setup.account


def failing_directions(record: Mapping[str, Any] | None, setup: Setup | None) -> list[tuple[str, dict[str, Any]]]:
    """The directions in use whose last outcome for this account failed, newest first."""
    outcomes = (record or {}).get("directions") or {}
    found = [(d, dict(o)) for d, o in outcomes.items()
             if d in DIRECTIONS and _in_use(setup, d) and _counts(setup, o) and not o.get("ok")]
    return sorted(found, key=lambda pair: pair[1].get("at", ""), reverse=True)


def proved(record: Mapping[str, Any] | None, setup: Setup) -> bool:
    """Has this account been tested: a setup test passed with it, or a direction worked with it."""
    if setup.account is None:
        return False
    if setup.tested == setup.account:
        return True
    outcomes = (record or {}).get("directions") or {}
    return any(o.get("ok") and o.get("account") == setup.account for o in outcomes.values())


def _superseded(err: Mapping[str, Any], record: Mapping[str, Any], setup: Setup | None) -> bool:
    """A sending or receiving error that a later outcome of the same direction answered, or
    that was made with another account, no longer makes the light amber on its own."""
    outcome = ((record.get("directions") or {}).get(err.get("phase")) or {})
    if not outcome:
        return False
    if not _counts(setup, outcome) or not _in_use(setup, str(err.get("phase"))):
        return True
    return bool(outcome.get("ok")) and str(outcome.get("at", "")) >= str(err.get("at", ""))


def _not_set_up(base: dict[str, Any], setup: Setup) -> dict[str, Any]:
    if setup.account is None and setup.without_account:
        reason = "setup was finished without an email account, so email is off"
    elif setup.account is None:
        reason = "no email account is set up yet"
    else:
        return {**base, "state": "not_set_up", "reason": "the email account is saved but has not been tested yet",
                "hint": "Run the test in Email setup, or press Send/Receive."}
    return {**base, "state": "not_set_up", "reason": reason, "hint": SETUP_HINT}


def derive(record: Mapping[str, Any] | None, now: datetime, setup: Setup | None = None) -> dict[str, Any]:
    """The state, its reason and what to do. Without `setup` (the settings unknown) the
    account checks are skipped and every recorded outcome counts."""
    base = {k: (record or {}).get(k) for k in ("at", "pid", "last_send", "last_receive", "last_error", "outbox")}
    if setup is not None and setup.account is None:
        return _not_set_up(base, setup)
    if not record or "at" not in record:
        return {**base, "state": "stopped", "reason": "the email service has never run on this data folder",
                "hint": START_HINT}
    at = datetime.fromisoformat(record["at"])
    if record.get("state") == "stopped":
        return {**base, "state": "stopped", "reason": "the email service was stopped", "hint": START_HINT}
    if now - at > STALE_AFTER:
        return {**base, "state": "stopped",
                "reason": f"no heartbeat since {at:%Y-%m-%d %H:%M} (the service is not running)",
                "hint": "Restart the email service; if it stops again, export diagnostics for support."}
    failing = failing_directions(record, setup)
    if failing:
        direction, outcome = failing[0]
        return {**base, "state": "failing", "direction": direction, "action": outcome.get("action") or "",
                "reason": f"{DIRECTION_WORDS[direction]}: {outcome.get('error') or 'the last attempt failed'}",
                "hint": outcome.get("hint") or "Open the service status for details."}
    err = record.get("last_error") or {}
    if record.get("state") == "failing" and not _superseded(err, record, setup):
        return {**base, "state": "failing", "reason": err.get("error", "the last attempt failed"),
                "hint": err.get("hint", "Open the service status for details.")}
    if setup is not None and not proved(record, setup):
        return _not_set_up(base, setup)
    return {**base, "state": "running", "reason": "", "hint": ""}
