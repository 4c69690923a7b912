"""Invitations as the patient receives them (booked and cancelled through Reminders, sent by
the engine to the fake SMTP server), read by vobject: every start and end is the intended
instant, on and around both daylight-saving days, in London, New York and Sydney."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.unit.core.test_ical_second_parser import DST_DAYS, read
from tools.fakemail import FakeMail

T0 = datetime(2026, 1, 6, 9, 0, tzinfo=timezone.utc)


def starts(zone: str) -> list[str]:
    """What reception types: on both change days (before, inside and after the changed hour),
    the day before, and one written with its offset (the second 01:30 of a night the clocks
    go back, in London)."""
    out = []
    for day in DST_DAYS[zone]:
        d = datetime.fromisoformat(day)
        out += [f"{day}T01:30", f"{day}T09:00", f"{(d - timedelta(days=1)):%Y-%m-%d}T09:00"]
    if zone == "Europe/London":
        out.append("2026-10-25T01:30+00:00")
    return out


@pytest.mark.parametrize("zone", sorted(DST_DAYS))
def test_booked_and_cancelled_invitations_start_when_intended(practice: Practice, fakemail: FakeMail,
                                                              zone: str) -> None:
    practice.settings.set_many({"practice.timezone": zone, "reminders.prompt_before_send": "false",
                                "reminders.confirmation_delay_minutes": "0", "reminders.include_ical": "true"})
    clock = FakeClock(T0)
    engine = Engine(practice, clock)
    try:
        rem = Reminders(practice, engine.outbox)
        booked = {rem.book("P033", s, 40, clock.now()): s for s in starts(zone)}
        assert engine.send_receive_now()["sent"] == len(booked)
        for aid in booked:
            rem.cancel(aid, clock.now())
        assert engine.send_receive_now()["sent"] == len(booked)
        seen = []
        for sent in fakemail.sent():
            msg = email.message_from_bytes(sent["data"], policy=email.policy.default)
            (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
            method, got_start, got_end = read(part.get_payload(decode=True), first_value_only=True)
            aid = str(part.get_payload(decode=True)).split("UID:appointment-", 1)[1].split("@", 1)[0]
            want = datetime.fromisoformat(rem.get(aid)["start"]).astimezone(timezone.utc)
            assert (got_start, got_end) == (want, want + timedelta(minutes=40)), (zone, booked[aid], method)
            seen.append((aid, method))
        assert sorted(seen) == sorted([(a, "REQUEST") for a in booked] + [(a, "CANCEL") for a in booked])
    finally:
        engine.stop()
