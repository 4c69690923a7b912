"""Reminder rules on the wired engine: the real worker thread and the fake clock; the fake
SMTP server's own record is the witness. A reminder goes at the planned time, for the
slot the patient has now, and never for a cancelled appointment."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.errors import InputInvalid
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # Tuesday morning (London is on UTC in November)


@pytest.fixture
def practice(practice: Practice) -> Practice:
    """The demo practice sending automatically, without confirmations (only reminders are counted)."""
    practice.settings.set_many({"reminders.prompt_before_send": "false", "reminders.confirmation_template": "",
                                "schedule.send_immediately": "true"})
    return practice


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(practice: Practice, clock: FakeClock) -> Iterator[Engine]:
    e = Engine(practice, clock)
    yield e
    e.stop()


def test_reminder_goes_at_the_planned_time_for_the_current_slot_only(practice: Practice, engine: Engine,
                                                                     clock: FakeClock, fakemail: FakeMail) -> None:
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM"})
    kept = rem.book("P033", "2026-11-27T15:00", 30, clock.now())  # reminder Wed 25th 10:00
    moved = rem.book("P040", "2026-11-27T11:00", 30, clock.now())  # would be Wed 25th 10:00 ...
    rem.move(moved, "2026-12-02T11:00", clock.now())  # ... now Mon 30th 10:00
    gone = rem.book("P001", "2026-11-26T09:00", 30, clock.now())  # would be today 10:00 ...
    rem.cancel(gone, clock.now())  # ... never
    rem.book("P002", "2026-11-25T09:00", 30, clock.now())  # inside the two days: skipped, not sent late
    engine.start()
    clock.set(datetime(2026, 11, 25, 9, 59, tzinfo=timezone.utc))
    assert engine.send_receive_now()["sent"] == 0  # nothing before its time (the cancelled one included)
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    (first,) = fakemail.wait_for_sent(1)
    assert engine.send_receive_now()["sent"] == 0  # the moved appointment's old slot: nothing
    msg = email.message_from_bytes(first["data"], policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "angus.macleod@patientmail.example"
    assert str(msg["Subject"]) == "Reminder: your appointment on Friday 27 November 2026 at 15:00"
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc))
    second = fakemail.wait_for_sent(2)[1]
    msg = email.message_from_bytes(second["data"], policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "oluwaseun.adeyemi@patientmail.example"
    assert "Wednesday 2 December 2026 at 11:00" in str(msg["Subject"])
    clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc))
    assert engine.send_receive_now()["sent"] == 0 and len(fakemail.sent()) == 2
    reminders = [i for i in engine.outbox.list() if i.get("kind") == "reminder"]
    assert sorted(i["status"] for i in reminders) == ["cancelled", "cancelled", "sent", "sent"]
    assert len({i["idempotency_key"] for i in reminders}) == 4


def test_rules_stored_listed_and_deleted(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    rem = Reminders(practice, engine.outbox)
    first = rem.rules.add({"channel": "email", "days": 7, "template": "APPTREM"})
    second = rem.rules.add({"channel": "sms", "days": 2, "at": "10:00", "template": "APPTSMS", "provider_id": "DR1"})
    assert [r.id for r in rem.rules.list()] == [first.id, second.id] == ["R1", "R2"]
    rem.rules.delete("R1")
    assert [r.describe() for r in rem.rules.list()] == ["SMS 2 days before at 10:00 (provider DR1)"]
    from engine.errors import InputInvalid, NotFound

    with pytest.raises(InputInvalid):
        rem.rules.add({"channel": "email", "days": 2, "template": "NOSUCH"})
    with pytest.raises(NotFound):
        rem.rules.add({"channel": "email", "days": 2, "template": "APPTREM", "provider_id": "DR99"})
    with pytest.raises(InputInvalid, match="APPTREM is an email template, and the rule sends a text"):
        rem.rules.add({"channel": "sms", "days": 2, "template": "APPTREM"})  # an email's words, unchecked as a text
    with pytest.raises(InputInvalid, match="APPTSMS is a text template"):
        rem.rules.add({"channel": "email", "days": 2, "template": "APPTSMS"})  # an email without a subject
    assert [r.id for r in rem.rules.list()] == ["R2"]


def test_a_rule_for_one_appointment_type_reminds_only_those_and_a_late_booking_is_told(
        practice: Practice, engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM", "appointment_type": "hygiene"})
    rem.rules.add({"channel": "email", "days": 7, "template": "APPTREM", "provider_id": "DR1"})
    scale = rem.book("P033", "2026-11-27T15:00", 30, clock.now(), provider_id="HYG1", appointment_type="Hygiene")
    rem.book("P040", "2026-11-27T11:00", 30, clock.now(), provider_id="HYG1", appointment_type="checkup")
    assert rem.get(scale)["type"] == "hygiene" and rem.late_reminders(scale, clock.now()) == []
    late = rem.book("P001", "2026-11-30T09:00", 30, clock.now(), provider_id="DR1", appointment_type="checkup")
    assert rem.late_reminders(late, clock.now()) == [
        "Reminder rule R2 (email 7 days before (provider DR1)) will not send for this appointment: it would have "
        "gone Mon 23 Nov 09:00, before the appointment was booked for this time."]
    with pytest.raises(InputInvalid):
        rem.book("P002", "2026-11-30T09:00", 30, clock.now(), appointment_type="check\r\nup")
    engine.start()
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    (only,) = fakemail.wait_for_sent(1)
    clock.set(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    assert engine.send_receive_now()["sent"] == 0 and len(fakemail.sent()) == 1  # checkup and late ones: none
    msg = email.message_from_bytes(only["data"], policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "angus.macleod@patientmail.example"
    assert [i["rule"] for i in engine.outbox.list() if i.get("kind") == "reminder"] == ["R1"]
