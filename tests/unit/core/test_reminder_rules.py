"""Appointment reminders over any sequence of book/move/cancel/time: one per rule per
appointment version, never after a cancellation, never for a slot the patient no longer
has, never late (a rule whose time passed when the slot was booked is skipped)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import reminders as r
from engine.errors import InputInvalid

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)

rules_st = st.lists(st.builds(
    lambda i, ch, days, at, hours: r.Rule(f"R{i}", ch, days, "REMIND", time(at, 0) if at is not None else None,
                                          0 if at is not None else hours),
    st.integers(0, 9), st.sampled_from(r.CHANNELS), st.integers(0, 10), st.none() | st.integers(0, 23),
    st.integers(1, 23)), min_size=1, max_size=3, unique_by=lambda x: x.id)
action_st = st.one_of(
    st.tuples(st.just("move"), st.integers(-48, 24 * 20)),  # new start, hours from now
    st.tuples(st.just("cancel"), st.just(0)),
    st.tuples(st.just("wait"), st.integers(1, 60 * 24 * 3)),  # minutes
)


@settings(max_examples=400, deadline=None)
@given(rules_st, st.integers(-24, 24 * 20), st.lists(action_st, max_size=20))
def test_reminder_promises(rules: list[r.Rule], first_hours: int, actions: list[tuple[str, int]]) -> None:
    now = T0
    slot = r.Slot("A1", 1, now + timedelta(hours=first_hours))
    cancelled = False
    items: list[dict] = []  # a tiny outbox
    sent: list[dict] = []

    def apply(event: str) -> None:
        existing = [r.Existing(i["rid"], i["kind"], i["version"], i["status"], i["key"]) for i in items]
        p = r.plan_reminders(event, slot, existing, now, rules, LONDON)
        for rid in p.drop:
            item = next(i for i in items if i["rid"] == rid)
            assert item["status"] in r.NOT_YET_SENT
            item["status"] = "cancelled"
        for q in p.queue:
            assert now < q.deliver_after < slot.start  # never late, never at or after the start
            items.append({"rid": len(items) + 1, "kind": q.kind, "version": q.version, "status": "ready",
                          "due": q.deliver_after, "key": q.key, "rule": q.rule})

    def send_due() -> None:
        for i in items:
            if i["status"] == "ready" and i["due"] <= now:
                i["status"] = "sent"
                sent.append({**i, "current": slot.version, "cancelled": cancelled, "start": slot.start, "at": now})

    apply("booked")
    for action, n in actions:
        if action == "move" and not cancelled:
            slot = r.Slot("A1", slot.version + 1, now + timedelta(hours=n))
            apply("moved")
        elif action == "cancel" and not cancelled:
            slot = r.Slot("A1", slot.version + 1, slot.start)
            cancelled = True
            apply("cancelled")
            assert not [i for i in items if i["status"] == "ready"]  # nothing left to go after a cancel
        elif action == "wait":
            # the worker sends everything due at each instant it wakes: model it minute by minute in steps
            end = now + timedelta(minutes=n)
            for due in sorted({i["due"] for i in items if i["status"] == "ready" and i["due"] <= end}):
                now = due
                send_due()
            now = end
    keys = [i["key"] for i in items]
    assert len(keys) == len(set(keys))  # one per rule per appointment version, ever
    for s in sent:
        assert s["version"] == s["current"] and not s["cancelled"]  # never for an old slot, never after cancel
        assert s["at"] < s["start"]


def rule(**kw) -> r.Rule:
    return r.parse_rule({"id": "R1", "channel": "sms", "days": 2, "at": "10:00", "template": "REMIND", **kw})


def test_at_a_time_of_day_is_practice_wall_clock_across_daylight_saving() -> None:
    # clocks go forward on Sunday 29 March 2026 in London
    before = datetime(2026, 3, 30, 9, 0, tzinfo=LONDON)  # Monday: reminder Saturday 10:00 GMT
    after = datetime(2026, 3, 31, 9, 0, tzinfo=LONDON)  # Tuesday: reminder Sunday 10:00 BST
    assert r.reminder_time(rule(), before, LONDON) == datetime(2026, 3, 28, 10, 0, tzinfo=timezone.utc)
    assert r.reminder_time(rule(), after, LONDON) == datetime(2026, 3, 29, 9, 0, tzinfo=timezone.utc)
    seven = rule(channel="email", days=7, at="")
    assert r.reminder_time(seven, after, LONDON) == after - timedelta(days=7)


def test_booked_inside_the_lead_time_is_skipped_not_sent_late() -> None:
    start = T0 + timedelta(days=1)  # tomorrow; the rule wants 2 days before
    p = r.plan_reminders("booked", r.Slot("A1", 1, start), [], T0, [rule()], LONDON)
    assert p.queue == []
    p = r.plan_reminders("booked", r.Slot("A1", 1, T0 + timedelta(days=5)), [], T0, [rule()], LONDON)
    assert [q.deliver_after for q in p.queue] == [datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)]


def test_rules_for_a_provider_or_location_only() -> None:
    only = rule(provider_id="DR1", location="Riverside Surgery")
    start = T0 + timedelta(days=5)
    assert not r.plan_reminders("booked", r.Slot("A1", 1, start, "DR2", "Riverside Surgery"), [], T0, [only],
                                LONDON).queue
    assert r.plan_reminders("booked", r.Slot("A1", 1, start, "DR1", "Riverside Surgery"), [], T0, [only],
                            LONDON).queue


@pytest.mark.parametrize("field,value", [
    ("id", "R1\r\nBcc: x"), ("id", ""), ("id", "R\u20281"), ("channel", "fax"), ("channel", "sms\x85"),
    ("template", "remind me"), ("template", "A" * 100), ("at", "25:00"), ("at", "10:00\u2029"), ("at", "ten"),
    ("days", "-1"), ("days", "91"), ("days", "2\n"), ("days", "\u202e3"), ("hours", "24"), ("hours", True),
    ("location", "Riverside\u2028Surgery"), ("provider_id", "DR1\x0b"),
    ("appointment_type", "check up"), ("appointment_type", "hygiene\u2029"), ("appointment_type", "x" * 40),
])
def test_hostile_rule_fields_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(InputInvalid) as caught:
        rule(**{field: value})
    assert field in {p.column for p in caught.value.problems}


def test_no_reminder_at_zero_lead_and_not_both_hours_and_time() -> None:
    with pytest.raises(InputInvalid):
        rule(days=0, at="")
    with pytest.raises(InputInvalid):
        rule(hours=3)
    assert rule(days=0, at="", hours=3).describe() == "SMS 0 days 3 hours before"
    assert rule().describe() == "SMS 2 days before at 10:00"


TYPES, PROVIDERS = ("", "checkup", "hygiene"), ("", "DR1", "HYG1")
filtered_rules_st = st.lists(st.builds(
    lambda i, days, at, hours, kind, who: r.Rule(f"R{i}", "sms", days, "REMIND", time(at, 0) if at is not None
                                                 else None, 0 if at is not None else hours, who, "", kind),
    st.integers(0, 9), st.integers(0, 10), st.none() | st.integers(0, 23), st.integers(1, 23),
    st.sampled_from(TYPES), st.sampled_from(PROVIDERS)), min_size=1, max_size=5, unique_by=lambda x: x.id)


@settings(max_examples=400, deadline=None)
@given(filtered_rules_st, st.sampled_from(TYPES), st.sampled_from(PROVIDERS),
       st.lists(st.integers(-48, 24 * 20), min_size=1, max_size=6), st.lists(st.integers(0, 60 * 24), max_size=6))
def test_filtered_rules_apply_only_to_their_appointments_and_late_ones_are_named(
        rules: list[r.Rule], kind: str, provider: str, starts: list[int], waits: list[int]) -> None:
    """Booked, then moved: each version gets one reminder per rule that applies to its type and
    provider and whose time is still ahead; every other applying rule is named by too_late (with
    'past' exactly when the slot has started), and no rule for another type or provider is either."""
    now, items = T0, []
    for version, (hours, wait) in enumerate(zip(starts, [0, *waits]), start=1):
        now += timedelta(minutes=wait)
        slot = r.Slot("A1", version, now + timedelta(hours=hours), provider, "", kind)
        existing = [r.Existing(n, r.REMINDER, i.version, "ready", i.key) for n, i in enumerate(items)]
        p = r.plan_reminders("booked" if version == 1 else "moved", slot, existing, now, rules, LONDON)
        late = r.too_late(slot, now, rules, LONDON)
        applying = {x.id for x in rules if (not x.appointment_type or x.appointment_type == kind)
                    and (not x.provider_id or x.provider_id == provider)}
        queued = {q.rule for q in p.queue}
        assert queued | {x.rule.id for x in late} == applying and not queued & {x.rule.id for x in late}
        assert all(now < q.deliver_after < slot.start and q.version == version for q in p.queue)
        assert all(x.past == (slot.start <= now) and (x.at <= now or x.at >= slot.start) for x in late)
        assert all(x.rule.id in x.words(LONDON) for x in late)
        items += p.queue
    keys = [(q.version, q.rule) for q in items]
    assert len(keys) == len(set(keys))  # one per rule per appointment version


def test_rules_for_an_appointment_type_only_and_the_late_one_said() -> None:
    hygiene = rule(appointment_type="Hygiene")  # one spelling: stored lower case
    assert hygiene.appointment_type == "hygiene" and hygiene.describe() == "SMS 2 days before at 10:00 (hygiene appointments)"
    start = T0 + timedelta(days=5)
    assert not r.plan_reminders("booked", r.Slot("A1", 1, start, "", "", "checkup"), [], T0, [hygiene], LONDON).queue
    assert r.plan_reminders("booked", r.Slot("A1", 1, start, "", "", "hygiene"), [], T0, [hygiene], LONDON).queue
    tomorrow = r.Slot("A1", 1, T0 + timedelta(days=1), "", "", "hygiene")
    (late,) = r.too_late(tomorrow, T0, [hygiene, rule(id="R2", appointment_type="checkup")], LONDON)
    assert late.words(LONDON) == ("Reminder rule R1 (SMS 2 days before at 10:00 (hygiene appointments)) will not send "
                                  "for this appointment: it would have gone Mon 23 Nov 10:00, before the appointment "
                                  "was booked for this time.")
    (gone,) = r.too_late(r.Slot("A1", 1, T0 - timedelta(hours=1), "", "", "hygiene"), T0, [hygiene], LONDON)
    assert gone.past and "the appointment time has already passed" in gone.words(LONDON)
