"""Confirmation replies on the wired service (#18), over any sequence of book / move / cancel /
time / send / reply with an SMS reminder rule, through the Twilio-shaped fake provider over a
real socket: a "C" (or "yes") answers the right appointment (the coming one whose text reminder
for its time as it stands went last; with none, the soonest), never a cancelled or past one,
never another patient's; a move takes a confirmation away; each reminder text goes once per
appointment version, never after a cancellation, never inside quiet hours."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from engine.adapters.clock import FakeClock
from engine.core import sms as sms_rules
from engine.errors import InputInvalid
from engine.service.app import App
from engine.service.practice import Practice
from tests.integration.test_sms import T0, configure_sms
from tools.fakemail import FakeMail

LONDON = ZoneInfo("Europe/London")
PATIENT, NUMBER = "P040", "+447700900041"
OTHER = "+447700900034"  # P033's number: another patient's reply
counter = itertools.count()

steps = st.lists(st.one_of(
    st.tuples(st.just("book"), st.integers(-6, 24 * 6)),
    st.tuples(st.just("move"), st.integers(0, 3), st.integers(-6, 24 * 6)),
    st.tuples(st.just("cancel"), st.integers(0, 3)),
    st.tuples(st.just("wait"), st.integers(1, 60 * 30)),
    st.tuples(st.just("send")),
    st.tuples(st.just("reply"), st.sampled_from(["C", "yes", "Thanks", "c."])),
    st.tuples(st.just("other"), st.just("C")),
), min_size=1, max_size=12)


@pytest.fixture
def app(practice: Practice, fakemail: FakeMail) -> Iterator[App]:
    configure_sms(practice, fakemail)
    practice.directory.update("patients", PATIENT, {"preference": "sms"})
    a = App(practice, FakeClock(T0))
    a.reminder_rules.add({"channel": "sms", "days": 1, "at": "10:00", "template": "APPTSMS"})
    a.reminder_rules.add({"channel": "sms", "days": 0, "hours": 3, "template": "APPTSMS"})
    yield a
    a.close()


def expected_answer(app: App, aids: list[str], now: datetime) -> str:
    """The model: which of the patient's appointments a confirmation read at `now` answers."""
    coming, reminded = [], {}
    for aid in aids:
        a = app.reminders.get(aid)
        if a["status"] == "cancelled" or datetime.fromisoformat(a["start"]) <= now:
            continue
        coming.append((aid, datetime.fromisoformat(a["start"])))
        sent = [datetime.fromisoformat(i.record["sent_at"]) for i in app.outbox.for_appointment(aid)
                if i.kind == "sms" and i.record.get("sent_at") and i.record["appointment_version"] == a["version"]]
        if sent:
            reminded[aid] = max(sent)
    if reminded:
        return max(reminded, key=lambda k: (reminded[k], k))
    return min(coming, key=lambda c: (c[1], c[0]))[0] if coming else ""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
# booked inside its lead time, the sooner one gets no text; the later one's text went: "C" is for the later
@example([("book", 2), ("book", 4), ("wait", 70), ("send",), ("reply", "C"), ("move", 1, 30), ("reply", "yes")])
def test_confirmation_replies_answer_the_right_appointment(app: App, fakemail: FakeMail,
                                                           actions: list[tuple]) -> None:
    for a in app.reminders.for_patient(PATIENT):  # the examples share one practice: start clean
        app.reminders.cancel(a["id"], app.now())
    app.clock.set(T0)
    aids: list[str] = []
    confirmed_by_us: set[str] = set()
    for step in actions:
        now = app.now()
        if step[0] == "book":
            try:
                aids.append(app.reminders.book(PATIENT, (now + timedelta(hours=step[1])).isoformat(), 30, now,
                                               aid=f"X{next(counter)}"))
            except InputInvalid:
                pass
        elif step[0] in ("move", "cancel"):
            if not aids or app.reminders.get(aids[step[1] % len(aids)])["status"] == "cancelled":
                continue
            aid = aids[step[1] % len(aids)]
            if step[0] == "cancel":
                app.reminders.cancel(aid, now)
            else:
                app.reminders.move(aid, (now + timedelta(hours=step[2])).isoformat(), now)
                assert not app.reminders.get(aid).get("confirmed")  # the new time is not confirmed
                confirmed_by_us.discard(aid)
        elif step[0] == "wait":
            app.clock.advance(timedelta(minutes=step[1]))
        elif step[0] == "send":
            app.send_receive_now()
        elif step[0] == "other":
            before = {aid: bool(app.reminders.get(aid).get("confirmed")) for aid in aids}
            fakemail.sms.deliver_reply(OTHER, step[1])
            app.texts.fetch_replies(now)
            assert {aid: bool(app.reminders.get(aid).get("confirmed")) for aid in aids} == before
        elif step[0] == "reply":
            want = expected_answer(app, aids, now)
            fakemail.sms.deliver_reply(NUMBER, step[1])
            report = app.texts.fetch_replies(now)
            if sms_rules.reply_word(step[1]) in ("C", "YES"):
                assert report.confirmed == ([want] if want else [])
                confirmed_by_us.update(report.confirmed)
            else:
                assert report.confirmed == []
    for aid in aids:
        a = app.reminders.get(aid)
        assert bool(a.get("confirmed")) == (aid in confirmed_by_us)  # only what a reply confirmed
        texts = [i for i in app.outbox.for_appointment(aid) if i.kind == "sms"]
        keys = [i.record["idempotency_key"] for i in texts]
        assert len(keys) == len(set(keys))  # one per rule per appointment version
        for i in texts:
            if i.status.value in ("ready", "sending"):
                assert a["status"] != "cancelled" and i.record["appointment_version"] == a["version"]
            sent = i.record.get("sent_at")
            if sent and i.deliver_after is not None:
                assert not sms_rules.in_quiet_hours(i.deliver_after, LONDON, sms_rules.parse_quiet_hours("20:00-08:00"))
