"""Booking, moving and cancelling in the demo practice produce the right mail in the
fake SMTP spool, with invitations a calendar can act on."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # Tuesday morning


@pytest.fixture
def practice(practice: Practice) -> Practice:
    """The demo practice (tests/conftest.py), without the kiosk's prompt before confirmations."""
    practice.settings.set_many({"reminders.prompt_before_send": "false"})
    return practice


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(practice: Practice, clock: FakeClock) -> Iterator[Engine]:
    e = Engine(practice, clock)
    yield e
    e.stop()


def invitation(raw: bytes) -> tuple[str, icalendar.Event, str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_content())
    return str(cal["method"]), cal.walk("VEVENT")[0], part.get_param("method")


def test_three_slots_tried_one_confirmation_for_the_last(practice: Practice, engine: Engine, clock: FakeClock,
                                                        fakemail: FakeMail) -> None:
    rem = Reminders(practice, engine.outbox)
    aid = rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    clock.advance(timedelta(minutes=2))
    rem.move(aid, "2026-11-26T14:00", clock.now())
    clock.advance(timedelta(minutes=2))
    assert engine.send_receive_now()["sent"] == 0  # still held for the delay, even for a manual pass
    clock.advance(timedelta(minutes=10))
    assert engine.send_receive_now()["sent"] == 1
    (sent,) = fakemail.sent()
    method, ev, param = invitation(sent["data"])
    assert method == param == "REQUEST" and "Thursday 26 November" in email.message_from_bytes(sent["data"])["Subject"]
    assert ev.decoded("dtstart") == datetime(2026, 11, 26, 14, 0, tzinfo=ev.decoded("dtstart").tzinfo)
    first_uid, first_seq = str(ev["uid"]), int(ev["sequence"])
    assert "Riverside Surgery" in str(ev["location"]) or "High Street" in str(ev["location"])
    # after it went out: a move sends an update, a cancellation sends a cancellation
    rem.move(aid, "2026-11-27T10:00", clock.now())
    clock.advance(timedelta(minutes=11))
    engine.send_receive_now()
    method, moved, _ = invitation(fakemail.sent()[1]["data"])
    assert method == "REQUEST" and str(moved["uid"]) == first_uid and int(moved["sequence"]) > first_seq
    rem.cancel(aid, clock.now())
    engine.send_receive_now()
    method, gone, param = invitation(fakemail.sent()[2]["data"])
    assert method == param == "CANCEL" and str(gone["uid"]) == first_uid and int(gone["sequence"]) > int(moved["sequence"])
    assert len(fakemail.sent()) == 3


def test_cancelled_within_the_delay_sends_nothing(practice: Practice, engine: Engine, clock: FakeClock,
                                                  fakemail: FakeMail) -> None:
    rem = Reminders(practice, engine.outbox)
    aid = rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    rem.cancel(aid, clock.now())
    clock.advance(timedelta(hours=1))
    assert engine.send_receive_now()["sent"] == 0 and fakemail.sent() == []


def test_zero_delay_and_the_prompt(practice: Practice, engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0", "reminders.prompt_before_send": "true"})
    rem = Reminders(practice, engine.outbox)
    rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    rem.book("P036", "2026-11-25T16:00", 30, clock.now())
    waiting = rem.awaiting_prompt()
    assert len(waiting) == 2
    assert engine.send_receive_now()["sent"] == 0 and fakemail.sent() == []  # never sent unasked
    rem.answer_prompt(waiting[0]["_rid"], send=False, now=clock.now())  # declined: cancelled
    rem.answer_prompt(waiting[1]["_rid"], send=True, now=clock.now())
    assert engine.send_receive_now()["sent"] == 1
    assert engine.outbox.get(waiting[0]["_rid"])["status"] == "cancelled"


def test_welcome_once_and_never_for_imports(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    rem = Reminders(practice, engine.outbox)
    assert engine.outbox.list() == []  # the demo's imported patients got nothing
    practice.directory.on_patient_created(lambda rec: rem.welcome(rec, clock.now()))
    practice.directory.add_patient({"id": "P777", "first_name": "Nia", "last_name": "Jones", "email": "nia@example.com"})
    assert rem.welcome(practice.directory.require("patients", "P777"), clock.now()) is None  # once
    (item,) = engine.outbox.list()
    assert item["kind"] == "welcome" and item["to"] == ["nia@example.com"]


def test_preview_shows_tomorrow(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true", "incoming.enabled": "true",
                                "incoming.host": "localhost", "schedule.check_times": "12:30"})
    rem = Reminders(practice, engine.outbox)
    clock.set(datetime(2026, 11, 24, 19, 0, tzinfo=timezone.utc))  # evening: outside periods
    rem.book("P033", "2026-11-26T15:00", 30, clock.now())
    lines = rem.preview(clock.now(), 24)
    sends = [x for x in lines if x.what.startswith("send")]
    assert len(sends) == 1 and sends[0].at == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)  # when 08:00 opens
    assert any(x.what == "check for mail" and "12:30" in x.detail for x in lines)


def _http(fm: FakeMail, method: str, path: str) -> dict:
    import json
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{fm.ports['http']['control']}{path}", method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def test_booking_links_wait_for_the_other_system(practice: Practice, engine: Engine, clock: FakeClock,
                                                 fakemail: FakeMail, tmp_path: Path) -> None:
    from engine.service.templates import Templates

    t = Templates(practice.store).get("APPTCONF")
    t.body += "\nManage your booking: {{ booking.link }}\n"
    Templates(practice.store).save(t)
    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0"})
    rem = Reminders(practice, engine.outbox)
    rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    assert engine.send_receive_now()["sent"] == 0  # no provider set: it waits and says why
    (item,) = engine.outbox.list()
    assert item["status"] == "link_failed" and "booking.provider_url" in item["last_hint"]
    practice.settings.set("booking.provider_url", f"http://127.0.0.1:{fakemail.ports['http']['control']}")
    engine.outbox.reset_failed([], clock.now())
    fakemail.faults.add("http", "link", "reply", code=503, times=1)
    engine.send_receive_now()
    assert engine.outbox.list()[0]["status"] == "link_failed" and "503" in engine.outbox.list()[0]["last_error"]
    engine.outbox.reset_failed([], clock.now())
    assert engine.send_receive_now()["sent"] == 0  # asked for a link; still pending at the booking system
    (item,) = engine.outbox.list()
    assert item["status"] == "pending_link" and item["link_token"]
    _http(fakemail, "POST", f"/links/{item['link_token']}/finish")  # the other system finishes it
    assert engine.send_receive_now()["sent"] == 1
    body = email.message_from_bytes(fakemail.sent()[0]["data"], policy=email.policy.default)
    text = body.get_body(("plain",)).get_content()
    assert f"https://book.example.test/{item['link_token']}" in text
