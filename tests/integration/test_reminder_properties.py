"""The reminder promises on the wired service (real store, outbox, rules, texts), over any
sequence of book/move/cancel/time with email and SMS rules and patients' preferences:
one item per rule per appointment version, nothing waiting after a cancellation or for an
old slot, nothing planned in the past or at/after the start, no text inside quiet hours."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.core import sms as sms_rules
from engine.service.practice import Practice
from engine.service.reminders import Reminders

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
LONDON = ZoneInfo("Europe/London")
PATIENTS = ("P040", "P033", "P002", "P013")  # sms, both, none, email (set below)
counter = itertools.count()

actions = st.lists(st.one_of(
    st.tuples(st.just("move"), st.integers(-24, 24 * 12)),
    st.tuples(st.just("cancel"), st.just(0)),
    st.tuples(st.just("wait"), st.integers(1, 60 * 24 * 2)),
), max_size=8)


@pytest.fixture
def rem(practice: Practice) -> Reminders:
    d = practice.directory
    for pid, pref in zip(PATIENTS, ("sms", "both", "none", "email")):
        d.update("patients", pid, {"preference": pref})
    practice.settings.set_many({"reminders.confirmation_template": "", "sms.provider": "twilio"})
    r = Reminders(practice, __import__("engine.service.outbox", fromlist=["Outbox"]).Outbox(practice.store))
    r.rules.add({"channel": "sms", "days": 1, "at": "21:30", "template": "APPTSMS"})  # inside quiet hours
    r.rules.add({"channel": "sms", "days": 0, "hours": 3, "template": "APPTSMS"})
    r.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM"})
    return r


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PATIENTS), st.integers(-12, 24 * 12), actions)
def test_reminder_promises_wired(rem: Reminders, patient: str, first: int, steps: list[tuple[str, int]]) -> None:
    now = T0
    aid = f"H{next(counter)}"
    queued_at: dict[int, datetime] = {}

    def note_new() -> None:
        for i in rem.outbox.for_appointment(aid):
            queued_at.setdefault(i["_rid"], now)

    rem.book(patient, (now + timedelta(hours=first)).isoformat(), 30, now, aid=aid)
    note_new()
    for action, n in steps:
        appt = rem.get(aid)
        if appt["status"] == "cancelled":
            break
        if action == "move":
            rem.move(aid, (now + timedelta(hours=n)).isoformat(), now)
        elif action == "cancel":
            rem.cancel(aid, now)
        else:
            now += timedelta(minutes=n)
        note_new()
    appt = rem.get(aid)
    items = [i for i in rem.outbox.for_appointment(aid) if i.get("rule")]
    keys = [i["idempotency_key"] for i in items]
    assert len(keys) == len(set(keys))  # one per rule per appointment version
    quiet = sms_rules.parse_quiet_hours("20:00-08:00")
    for i in items:
        at = datetime.fromisoformat(i["deliver_after"])
        if i["status"] == "ready":
            assert appt["status"] != "cancelled" and i["appointment_version"] == appt["version"]
        assert queued_at[i["_rid"]] < at  # never planned in the past (skipped instead)
        if i["appointment_version"] == appt["version"]:
            assert at < datetime.fromisoformat(appt["start"])  # never at or after the start
        if i["kind"] == "sms":
            assert not sms_rules.in_quiet_hours(at, LONDON, quiet)
    if patient == "P002":
        assert items == []  # preference none: nothing, ever
