"""The outbox table: only its transitions happen; drafts never go automatically."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from engine.core import outbox as rules
from engine.core.outbox import Event, State

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def item(status: State = State.READY, **kw: object) -> dict[str, object]:
    return {"status": status.value, "attempts": 0, "deliver_after": T0.isoformat(), "history": [], **kw}


@given(st.sampled_from(list(State)), st.sampled_from(list(Event)))
def test_every_transition_the_table_forbids_is_refused(state: State, event: Event) -> None:
    if rules.allowed(state, event):
        new, _ = rules.apply(item(state, deleted_from="ready"), event, T0)
        assert new["history"][-1]["event"] == event.value
    else:
        with pytest.raises(rules.TransitionRefused):
            rules.apply(item(state), event, T0)


@given(st.lists(st.sampled_from(list(Event)), max_size=30), st.booleans())
def test_random_event_sequences_keep_the_promises(events: list[Event], manual: bool) -> None:
    current = item(State.DRAFT)
    now = T0
    for event in events:
        now += timedelta(minutes=1)
        if rules.allowed(State(current["status"]), event):
            before = current
            current, commands = rules.apply(current, event, now, error="x", code=451)
            assert current["attempts"] <= rules.MAX_ATTEMPTS
            if State(before["status"]) is State.DRAFT:  # only reception's edit (or naming) keeps it a draft
                assert current["status"] in ("ready", "cancelled", "deleted") or event in (Event.EDITED, Event.DESCRIBED)
            entered_failed = current["status"] == "failed" and before["status"] != "failed"
            if entered_failed and event is not Event.RESTORE:  # renaming a failed one (described) notifies no one
                assert "notify_failed" in commands
        if current["status"] == "draft":
            assert not rules.is_due(current, now + timedelta(days=1), manual=False)
            assert not rules.is_due(current, now + timedelta(days=1), manual=True)


def test_third_temporary_failure_fails_and_backoff_grows() -> None:
    it = item()
    waits = []
    for n in range(3):
        it, _ = rules.apply(it, Event.CLAIM, T0)
        it, cmds = rules.apply(it, Event.TEMPORARY_FAILURE, T0, error="451 busy", code=451)
        if n < 2:
            assert it["status"] == "ready"
            waits.append(datetime.fromisoformat(it["retry_at"]) - T0)
            assert not rules.is_due(it, T0, manual=False)
            assert rules.is_due(it, T0, manual=True)  # a manual pass retries items in backoff
    assert it["status"] == "failed" and cmds == ["notify_failed"] and waits[0] < waits[1]
    assert not rules.is_due(it, T0 + timedelta(days=1), manual=True)  # failed ones are never resent
    it, _ = rules.apply(it, Event.RESET, T0)
    assert it["status"] == "ready" and it["attempts"] == 0


def test_permanent_failure_is_at_once_and_keeps_the_servers_words() -> None:
    it, _ = rules.apply(item(), Event.CLAIM, T0)
    it, cmds = rules.apply(it, Event.PERMANENT_FAILURE, T0, error="552 too large", hint="smaller", code=552)
    assert it["status"] == "failed" and it["last_code"] == 552 and it["last_error"] == "552 too large"


def test_held_items_wait_even_for_a_manual_pass_but_delete_and_restore_round_trip() -> None:
    held = item(deliver_after=(T0 + timedelta(minutes=10)).isoformat())
    assert not rules.is_due(held, T0, manual=True)
    assert rules.is_due(held, T0 + timedelta(minutes=10), manual=False)
    gone, _ = rules.apply(held, Event.DELETE, T0)
    back, _ = rules.apply(gone, Event.RESTORE, T0)
    assert back["status"] == "ready"


def test_recover_flags_the_resend() -> None:
    it, _ = rules.apply(item(), Event.CLAIM, T0)
    it, _ = rules.apply(it, Event.RECOVER, T0)
    assert it["status"] == "ready" and it["resent_after_crash"] and "same Message-ID" in it["history"][-1]["detail"]


def test_table_rows_describe_every_transition() -> None:
    assert len(rules.table_rows()) == len(rules.TRANSITIONS)
    assert ("(new)", "created", "draft|ready|pending_link") in rules.table_rows()


def test_every_event_has_a_row_in_the_table() -> None:
    """An event written to an item's history is one the table knows (created and edited were not)."""
    assert {event for _, event in rules.TRANSITIONS} == set(Event)
    assert {"created", "edited"} <= {e.value for e in Event}


@given(st.sampled_from(list(State)), st.sampled_from(rules.CREATABLE))
def test_an_item_is_created_only_in_a_creatable_state_and_its_history_begins_there(state: State,
                                                                                     creatable: State) -> None:
    made = rules.create({"kind": "email", "attempts": 0}, creatable, T0, ({"event": "confirmed outside"},))
    assert made["status"] == creatable.value and made["created"] == T0.isoformat()
    assert made["history"][0] == {"at": T0.isoformat(), "event": "created", "to": creatable.value}
    assert made["history"][1] == {"at": T0.isoformat(), "event": "confirmed outside"}
    if state not in rules.CREATABLE:
        with pytest.raises(rules.TransitionRefused):
            rules.create({}, state, T0)
    assert not rules.allowed(state, Event.CREATED)  # a stored item is never created again


KEPT_BY_APPLY = {"status", "updated", "history", "attempts", "retry_at", "last_error", "last_hint", "last_code",
                 "sent_at", "resent_after_crash", "deleted_from", "bounce", "delivery_note", "deliver_after"}
SETTABLE = sorted({f for fields in rules.FIELDS.values() for f in fields} | {"blob", "status", "nonsense"})


@given(st.sampled_from(list(State)), st.sampled_from(list(Event)),
       st.dictionaries(st.sampled_from(SETTABLE), st.text(max_size=5), max_size=4))
def test_an_event_sets_only_the_fields_the_table_gives_it(state: State, event: Event, fields: dict[str, str]) -> None:
    """Every change of a stored field is an event, and each event may change only its own fields."""
    before = item(state, deleted_from="ready", untouched="same")
    if not rules.allowed(state, event):
        return
    if not fields.keys() <= rules.FIELDS.get(event, frozenset()):
        if fields:
            with pytest.raises(rules.FieldRefused):
                rules.apply(before, event, T0, fields=fields)
        return
    after, _ = rules.apply(before, event, T0, fields=fields)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed <= KEPT_BY_APPLY | rules.FIELDS.get(event, frozenset())
    assert all(after[k] == v for k, v in fields.items())
    assert after["history"][-1]["event"] == event.value and after["untouched"] == "same"


def test_a_provider_status_report_is_in_the_history_but_is_not_an_update() -> None:
    """The next status poll waits from the send, so a report must not move `updated`."""
    sent = item(State.SENT, updated=T0.isoformat())
    later = T0 + timedelta(minutes=5)
    reported, _ = rules.apply(sent, Event.STATUS_REPORTED, later, error="delivered",
                              fields={"provider_status": "delivered"})
    assert reported["updated"] == T0.isoformat() and reported["provider_status"] == "delivered"
    assert reported["history"][-1] == {"at": later.isoformat(), "event": "status_reported", "to": "sent",
                                       "detail": "delivered"}


def test_a_prompt_answered_no_then_cancelled_and_an_edit_keeps_the_draft() -> None:
    asked = item(State.READY, prompt=True)
    answered, _ = rules.apply(asked, Event.PROMPT_ANSWERED, T0, fields={"prompt": False})
    cancelled, _ = rules.apply(answered, Event.CANCEL, T0)
    assert cancelled["status"] == "cancelled" and cancelled["prompt"] is False
    assert [h["event"] for h in cancelled["history"]] == ["prompt_answered", "cancel"]
    edited, _ = rules.apply(item(State.DRAFT), Event.EDITED, T0, fields={"subject": "New"})
    assert edited["status"] == "draft" and edited["subject"] == "New"
    assert not rules.is_due(edited, T0 + timedelta(days=1), manual=True)


# the hints the SMTP adapter and the errors give a failed attempt, retry-promising ones first
ATTEMPT_HINTS = ["The mail server had a problem; the email will be tried again.",
                 "The mail server stopped answering: it may be busy; the message will be tried again.",
                 "The connection dropped; the email will be tried again.",
                 "Try again; if it keeps happening, export diagnostics for support.", "",
                 "The address was refused: check the recipient's email address."]


@given(st.lists(st.tuples(st.sampled_from([Event.TEMPORARY_FAILURE, Event.PERMANENT_FAILURE, Event.ACCOUNT_FAILURE,
                                           Event.DELIVERED, Event.RESET]), st.sampled_from(ATTEMPT_HINTS)),
                min_size=1, max_size=12))
def test_hints_follow_the_state(steps: list[tuple[Event, str]]) -> None:
    """A failed item is in a person's hands: its hint says what they can do, never that it will
    be tried again; an item still to be retried may keep the server's words."""
    current = item()
    now = T0
    for event, hint in steps:
        now += timedelta(minutes=1)
        state = State(current["status"])
        if state is State.READY:
            current = rules.apply(current, Event.CLAIM, now)[0]
        elif state is State.FAILED:
            current = rules.apply(current, Event.RESET, now)[0]
            continue
        elif state is State.SENT:
            return
        if event is Event.RESET:
            continue
        current = rules.apply(current, event, now, error="x", hint=hint)[0]
        if current["status"] == "failed":
            assert "tried again" not in current["last_hint"] and current["last_hint"]
            assert any(w in current["last_hint"] for w in ("Reset Failed", "check the recipient's email address"))


@given(st.sampled_from(list(State)))
def test_only_a_sent_item_can_bounce(state: State) -> None:
    assert rules.allowed(state, Event.BOUNCE) == (state is State.SENT)
    assert rules.allowed(state, Event.DELAY_REPORTED) == (state is State.SENT)


def test_a_bounce_is_recorded_in_words_and_a_delay_changes_nothing_but_the_note() -> None:
    sent = item(State.SENT, sent_at=T0.isoformat())
    bounced, _ = rules.apply(sent, Event.BOUNCE, T0, error="the mailbox does not exist [5.1.1]")
    assert bounced["status"] == "bounced" and bounced["bounce"] == "the mailbox does not exist [5.1.1]"
    assert bounced["history"][-1] == {"at": T0.isoformat(), "event": "bounce", "to": "bounced",
                                      "detail": "the mailbox does not exist [5.1.1]"}
    delayed, _ = rules.apply(sent, Event.DELAY_REPORTED, T0, error="delivery is delayed")
    assert {k: v for k, v in delayed.items() if k not in ("history", "updated", "delivery_note")} == \
        {k: v for k, v in sent.items() if k != "history"}
    assert delayed["delivery_note"] == "delivery is delayed"
    deleted, _ = rules.apply(bounced, Event.DELETE, T0)
    assert rules.apply(deleted, Event.RESTORE, T0)[0]["status"] == "bounced"
