"""The setup wizard's Cancel: the settings put back as they were when it opened.

The wizard saves on the way (the connection test, the proxy page, the SMS Test, the Tomorrow
page): Cancel writes the values it found back in one write, and the SMS practice ID's lock too
(an Unlock on the SMS page is undone; a successful SMS test keeps what it tested, locked).
Another desk may have changed things meanwhile: a key it has locked since keeps that desk's
value (its test succeeded with it) and Cancel says so; a write refused outright changes nothing
and is said in one line, the wizard staying open so that nothing is lost."""

from __future__ import annotations

from typing import Any

from engine.errors import PracticeMailError

ACCOUNT = "sms.account"  # the key a successful SMS test locks


def put_back(settings: Any, before: dict[str, Any], lock_before: dict[str, Any] | None,
             kept: tuple[str, ...]) -> tuple[str, bool]:
    """`settings`: the App's (`app.settings`). `before`'s values written back (but `kept`'s), `lock_before` restored on the practice ID.
    Returns the one line to show ("" when all went back) and whether nothing was written (a
    second Cancel should try again)."""
    values = {k: v for k, v in before.items() if k not in kept}
    held = [k for k in values if settings.locked(k) is not None and settings.get(k) != values[k]]
    try:
        settings.set_many({k: v for k, v in values.items() if k not in held})
        if ACCOUNT not in kept and lock_before is not None and settings.locked(ACCOUNT) is None:
            settings.lock(ACCOUNT, lock_before["why"], lock_before["since"])
    except PracticeMailError as exc:  # refused whole (one write): nothing changed, Cancel again tries again
        return f"Cancel could not put the settings back: {exc.message}. {exc.hint}", True
    if held:
        why = "; ".join(f"{k} is locked ({(settings.locked(k) or {}).get('why', '')})" for k in held)
        return (f"Cancel put the rest back, but another desk changed {', '.join(held)} since: {why}, so it keeps "
                "that desk's value. Cancel again to close."), False
    return "", False
