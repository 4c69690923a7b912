"""The outbox item's life, as data: states, events, one table, one function.

Modelled on h11: the allowed transitions are the table below and nothing else;
`apply(item, event, now, ...)` returns the new item and the commands the
service must carry out. Pure: the time comes in as an argument.

    draft --queue--> ready --claim--> sending --delivered--> sent
                      ^                  |--temporary_failure--> ready (attempts+1, backoff) | failed (3rd)
                      |                  |--permanent_failure--> failed
                      |                  |--account_failure----> ready (no attempt counted)
                      |                  |--recover------------> ready (was in flight at a crash; at-least-once)
                      |                  '--release------------> ready (claimed, never started)
    sent --bounce--> bounced (a permanent bounce came back)   sent --delay_reported--> sent (noted only)
    failed --reset--> ready         draft|ready --cancel--> cancelled
    pending_link --link_ready--> ready | --link_failed--> link_failed --reset--> pending_link
    any but sending --delete--> deleted --restore--> the state it was deleted from
    (new) --created--> draft | ready | pending_link      draft --edited--> draft
    ready --deferred--> ready (deliver_after later)      ready --prompt_answered--> ready (then cancel, for a No)
    ready --prompt_asked--> ready (the question went out to the desks; `asked` is when)
    pending_link --link_requested--> pending_link (the booking system's token)
    sent --status_reported--> sent (the SMS provider's delivery status)
    any but sending --described--> the same state (its category and description, as reception named it)

Every change of a stored field is one of these events, and `FIELDS` says which fields an event
may set beyond the ones `apply` itself keeps (status, times, attempts, errors, history): the
service cannot write a field the table does not name.

`sending` is stored before any byte goes to the server, so a crash leaves the
item there, and `recover` resends it with the same Message-ID: the only way
an email can go out twice, and its history says so.

Hints follow the state (`failure_hint`): an item to be retried keeps the server's
advice; a failed one says what a person can do (check the address, Reset Failed,
call the provider), never that it will be tried again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

MAX_ATTEMPTS = 3
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
# A failed item is in a person's hands: its hint says what they can do, never that it will be retried.
GAVE_UP_HINT = (f"Tried {MAX_ATTEMPTS} times without success: check the address, then use Reset Failed to send "
                "it again; if it keeps failing, call the email provider.")
FAILED_HINT = ("This email was not sent: check the address and the message, then use Reset Failed to send it "
               "again; if it keeps failing, call the email provider.")


class State(str, Enum):
    DRAFT = "draft"
    READY = "ready"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    PENDING_LINK = "pending_link"  # waiting for another system to finish a booking link
    LINK_FAILED = "link_failed"
    BOUNCED = "bounced"  # sent, then a permanent bounce came back (engine/core/bounces.py)


class Event(str, Enum):
    QUEUE = "queue"
    CLAIM = "claim"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"
    ACCOUNT_FAILURE = "account_failure"
    RECOVER = "recover"
    RELEASE = "release"
    RESET = "reset"
    CANCEL = "cancel"
    DELETE = "delete"
    RESTORE = "restore"
    LINK_READY = "link_ready"
    LINK_FAILED = "link_failed"
    BOUNCE = "bounce"
    DELAY_REPORTED = "delay_reported"  # a temporary bounce: shown on the item, nothing else changes
    CREATED = "created"  # the item comes into being (see `create`)
    EDITED = "edited"  # a draft's message rebuilt in the compose window
    DEFERRED = "deferred"  # its deliver_after moved later (a text held until quiet hours end)
    PROMPT_ANSWERED = "prompt_answered"  # reception answered the prompt-before-send question
    PROMPT_UNDONE = "prompt_undone"  # reception took back its No: asked again
    PROMPT_ASKED = "prompt_asked"  # the confirmation fell due: every desk that answers is asked
    LINK_REQUESTED = "link_requested"  # the booking system took the request and gave a token
    STATUS_REPORTED = "status_reported"  # the SMS provider's delivery status for a sent text
    DESCRIBED = "described"  # reception changed the email's category or description


S, E = State, Event
_NOT_SENDING = (S.DRAFT, S.READY, S.SENT, S.FAILED, S.CANCELLED, S.PENDING_LINK, S.LINK_FAILED, S.BOUNCED)

# (state, event) -> the state it leads to. None: decided by the item (see _target).
# A state of None is "not yet stored": only `created` leads out of it (see `create`).
TRANSITIONS: dict[tuple[State | None, Event], State | None] = {
    (None, E.CREATED): None,  # draft, ready or pending_link: as asked (CREATABLE)
    (S.DRAFT, E.EDITED): S.DRAFT,
    (S.READY, E.DEFERRED): S.READY,
    (S.READY, E.PROMPT_ANSWERED): S.READY,
    (S.READY, E.PROMPT_ASKED): S.READY,
    (S.CANCELLED, E.PROMPT_UNDONE): S.READY,  # only right after a No (engine/service/outbox.py checks)
    (S.PENDING_LINK, E.LINK_REQUESTED): S.PENDING_LINK,
    (S.SENT, E.STATUS_REPORTED): S.SENT,
    (S.DRAFT, E.QUEUE): S.READY,
    (S.READY, E.CLAIM): S.SENDING,
    (S.SENDING, E.DELIVERED): S.SENT,
    (S.SENDING, E.TEMPORARY_FAILURE): None,  # ready with backoff, or failed on the last attempt
    (S.SENDING, E.PERMANENT_FAILURE): S.FAILED,
    (S.SENDING, E.ACCOUNT_FAILURE): S.READY,
    (S.SENDING, E.RECOVER): S.READY,
    (S.SENDING, E.RELEASE): S.READY,
    (S.FAILED, E.RESET): S.READY,
    (S.DRAFT, E.CANCEL): S.CANCELLED,
    (S.READY, E.CANCEL): S.CANCELLED,
    (S.PENDING_LINK, E.LINK_READY): S.READY,
    (S.PENDING_LINK, E.LINK_FAILED): S.LINK_FAILED,
    (S.LINK_FAILED, E.RESET): S.PENDING_LINK,
    (S.PENDING_LINK, E.CANCEL): S.CANCELLED,
    (S.LINK_FAILED, E.CANCEL): S.CANCELLED,
    (S.SENT, E.BOUNCE): S.BOUNCED,
    (S.SENT, E.DELAY_REPORTED): S.SENT,
    **{(s, E.DELETE): S.DELETED for s in _NOT_SENDING},
    **{(s, E.DESCRIBED): s for s in (*_NOT_SENDING, S.DELETED)},
    (S.DELETED, E.RESTORE): None,  # back to where it was
}


CREATABLE = (S.DRAFT, S.READY, S.PENDING_LINK)

# The fields an event may set besides those `apply` keeps itself: the message an edit or a
# finished link rebuilds, the provider's answers, the prompt, a later deliver_after.
_MESSAGE = frozenset({"to", "cc", "bcc", "envelope_to", "subject", "blob", "size", "message_id"})
_NAMING = frozenset({"category", "description"})
FIELDS: dict[Event, frozenset[str]] = {
    E.EDITED: _MESSAGE - {"message_id"} | {"deliver_after"} | _NAMING,
    E.DESCRIBED: _NAMING,
    E.DEFERRED: frozenset({"deliver_after"}),
    E.PROMPT_ANSWERED: frozenset({"prompt", "deliver_after", "answered_by"}),
    E.PROMPT_UNDONE: frozenset({"prompt", "asked", "answered_by"}),
    E.PROMPT_ASKED: frozenset({"asked"}),
    E.LINK_REQUESTED: frozenset({"link_token"}),
    E.LINK_READY: _MESSAGE - {"to", "cc", "bcc"},
    E.DELIVERED: frozenset({"provider_sid", "provider_status"}),
    E.STATUS_REPORTED: frozenset({"provider_status", "provider_reason", "provider_checked"}),
}
# Events that leave `updated` alone: a provider's report is not a change by the practice, and the
# next status poll waits from the send, not from the last report.
_NOT_AN_UPDATE = frozenset({E.STATUS_REPORTED})


class TransitionRefused(ValueError):
    """The table does not allow this event in this state."""

    def __init__(self, state: State | None, event: Event) -> None:
        super().__init__(f"an item that is {state.value if state else 'new'} cannot be {event.value}")
        self.state, self.event = state, event


class FieldRefused(ValueError):
    """An event asked to set a field the table does not give it."""


def allowed(state: State | None, event: Event) -> bool:
    return (state, event) in TRANSITIONS


def create(record: Mapping[str, Any], state: State, now: datetime,
           notes: tuple[Mapping[str, Any], ...] = ()) -> dict[str, Any]:
    """A new item's stored record: `record`'s fields in `state`, its history begun with `created`
    (and any `notes`, such as a confirmed-outside line). The one place an item comes into being."""
    if state not in CREATABLE:
        raise TransitionRefused(None, E.CREATED)
    at = now.isoformat()
    history = [{"at": at, "event": E.CREATED.value, "to": state.value}, *({"at": at, **n} for n in notes)]
    return {**record, "status": state.value, "created": at, "history": history}


def _target(item: Mapping[str, Any], event: Event) -> State:
    state = State(item["status"])
    target = TRANSITIONS[(state, event)]
    if target is not None:
        return target
    if event is E.TEMPORARY_FAILURE:
        return S.FAILED if item.get("attempts", 0) + 1 >= MAX_ATTEMPTS else S.READY
    if event is E.RESTORE:
        previous = State(item.get("deleted_from") or S.DRAFT.value)
        return S.DRAFT if previous is S.SENDING else previous
    raise AssertionError(event)  # pragma: no cover


def apply(item: Mapping[str, Any], event: Event, now: datetime, error: str = "", hint: str = "",
          code: int | None = None, fields: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The item after `event`, and the commands for the service ("notify_failed", "send").
    `fields`: what the event sets besides (only those `FIELDS` gives it)."""
    state = State(item["status"])
    if not allowed(state, event):
        raise TransitionRefused(state, event)
    if fields and not fields.keys() <= FIELDS.get(event, frozenset()):
        raise FieldRefused(f"{event.value} cannot set {', '.join(sorted(fields.keys() - FIELDS.get(event, set())))}")
    target = _target(item, event)
    new = dict(item)
    new["status"] = target.value
    if event not in _NOT_AN_UPDATE:
        new["updated"] = now.isoformat()
    if fields:
        new.update(fields)
    commands: list[str] = []
    if event in _ATTEMPT_OUTCOMES:
        _attempt_outcome(new, item, event, target, now, error, hint, code, commands)
        detail = error
    else:
        detail = _other_effects(new, state, event, now, error, hint, code)
    history = list(item.get("history", []))
    history.append({"at": now.isoformat(), "event": event.value, "to": target.value, **({"detail": detail} if detail else {})})
    new["history"] = history[-50:]
    return new, commands


_ATTEMPT_OUTCOMES = frozenset({E.DELIVERED, E.TEMPORARY_FAILURE, E.PERMANENT_FAILURE, E.ACCOUNT_FAILURE})


def _attempt_outcome(new: dict[str, Any], item: Mapping[str, Any], event: Event, target: State, now: datetime,
                     error: str, hint: str, code: int | None, commands: list[str]) -> None:
    """What an attempt's outcome keeps: the send time, or the attempts, errors, backoff and hint."""
    if event is E.DELIVERED:
        new["sent_at"] = now.isoformat()
        new["last_error"], new["last_hint"], new["last_code"] = "", "", None
    elif event is E.TEMPORARY_FAILURE:
        new["attempts"] = item.get("attempts", 0) + 1
        new["last_error"], new["last_hint"], new["last_code"] = error, failure_hint(event, item, hint), code
        if target is S.READY:
            new["retry_at"] = (now + BACKOFF[min(new["attempts"] - 1, len(BACKOFF) - 1)]).isoformat()
        else:
            commands.append("notify_failed")
    elif event is E.PERMANENT_FAILURE:
        new["attempts"] = item.get("attempts", 0) + 1
        new["last_error"], new["last_hint"], new["last_code"] = error, failure_hint(event, item, hint), code
        commands.append("notify_failed")
    else:  # ACCOUNT_FAILURE: about the account, so no attempt is counted against the item
        new["last_error"], new["last_hint"], new["last_code"] = error, hint, code


def _other_effects(new: dict[str, Any], state: State, event: Event, now: datetime, error: str, hint: str,
                   code: int | None) -> str:
    """The fields every other event keeps; returns the history line's detail."""
    detail = error
    if event is E.RECOVER:
        new["resent_after_crash"] = True
        detail = "found mid-send at start-up; will be sent again with the same Message-ID"
    elif event is E.RELEASE:
        detail = "claimed by a pass that stopped before sending it"
    elif event is E.LINK_FAILED:
        new["last_error"], new["last_hint"] = error, hint
    elif event is E.LINK_READY:
        new["last_error"], new["last_hint"] = "", ""
    elif event is E.RESET:
        new["attempts"], new["retry_at"] = 0, None
        new["last_error"], new["last_hint"], new["last_code"] = "", "", None
    elif event is E.DELETE:
        new["deleted_from"] = state.value
    elif event is E.RESTORE:
        new["deleted_from"] = None
    elif event is E.BOUNCE:
        new["last_error"], new["last_hint"], new["last_code"] = error, hint, code
        new["bounce"] = error
    elif event is E.DELAY_REPORTED:
        new["delivery_note"] = error
    elif event is E.QUEUE:
        new.setdefault("deliver_after", now.isoformat())
    return detail


def failure_hint(event: Event, item: Mapping[str, Any], hint: str) -> str:
    """The hint an item keeps after a failed attempt: the server's when it will be retried; when it
    has failed for good (the last attempt, or a permanent refusal with no advice of its own, or
    advice that promised a retry), what a person can do about it."""
    if event is E.TEMPORARY_FAILURE:
        return hint if item.get("attempts", 0) + 1 < MAX_ATTEMPTS else GAVE_UP_HINT
    if not hint or "tried again" in hint or "try again" in hint.lower():
        return FAILED_HINT
    return hint


def due_at(item: Mapping[str, Any]) -> datetime:
    """When an automatic pass may take the item: its deliver_after, or later when it waits out a backoff.
    The worker sends in (due_at, id) order and the preview plans in the same order."""
    at = datetime.fromisoformat(item["deliver_after"])
    if item.get("retry_at"):
        at = max(at, datetime.fromisoformat(item["retry_at"]))
    return at


def is_due(item: Mapping[str, Any], now: datetime, manual: bool) -> bool:
    """Ready and due: deliver_after passed, and (automatic only) any backoff waited out.

    A manual send-receive also retries items waiting out a backoff; it never touches failed items.
    """
    if item["status"] != S.READY.value:
        return False
    if item.get("prompt"):
        return False  # waits for reception's "send this now?" (asked once it is due), never sent unasked
    if item.get("deliver_after") and datetime.fromisoformat(item["deliver_after"]) > now and not manual:
        return False
    if manual and item.get("deliver_after") and datetime.fromisoformat(item["deliver_after"]) > now \
            and not item.get("attempts"):
        return False  # held on purpose (a confirmation's delay), not a retry
    if not manual and item.get("retry_at") and datetime.fromisoformat(item["retry_at"]) > now:
        return False
    return True


def table_rows() -> list[tuple[str, str, str]]:
    """The table for documentation and the admin runbook: (from, event, to)."""
    rows = []
    for (state, event), target in TRANSITIONS.items():
        decided = {E.TEMPORARY_FAILURE: "ready|failed", E.CREATED: "|".join(s.value for s in CREATABLE)}
        to = target.value if target is not None else decided.get(event, "previous")
        rows.append((state.value if state else "(new)", event.value, to))
    return rows
