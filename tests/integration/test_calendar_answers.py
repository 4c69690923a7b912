"""A patient's calendar answers our invitation: the REPLY or COUNTER comes back through the
fake IMAP server, is matched to the appointment by the UID and SEQUENCE of the invitation we
really sent, filed to the patient with the Calendar tag, and a decline reaches reception as a
task (the appointment is never cancelled by itself)."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import icalendar
from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.integration.answering import ANGUS, clock, engine, practice  # noqa: F401 - fixtures
from tools.fakemail import FakeMail



def invitation(sent: dict) -> icalendar.Event:
    msg = email.message_from_bytes(sent["data"], policy=email.policy.default)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]


def answer(event: icalendar.Event, partstat: str, method: str = "REPLY", attendee: str = "",
           extra: str = "") -> bytes:
    """A reply as Google Calendar writes it, to the invitation we sent."""
    who = attendee or str(event["attendee"]).removeprefix("mailto:")
    ics = (f"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n"
           f"METHOD:{method}\r\nBEGIN:VEVENT\r\nUID:{event['uid']}\r\nSEQUENCE:{int(event['sequence'])}\r\n"
           f"DTSTAMP:20261124T100000Z\r\n{extra}ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT={partstat};CN=Angus:"
           f"mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return (f"From: Angus <{who}>\r\nTo: practice@example.test\r\nSubject: {partstat.title()}: appointment\r\n"
            f"Message-ID: <{partstat}.{event['sequence']}.{method}@calendar.example>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
            f"Angus has {partstat.lower()} this invitation.\r\n--b\r\n"
            f"Content-Type: text/calendar; charset=UTF-8; method={method}\r\n\r\n{ics}\r\n--b--\r\n").encode()


def booked(practice: Practice, engine: Engine, clock: FakeClock, fakemail: FakeMail) -> tuple[Reminders, str,
                                                                                                  icalendar.Event]:
    rem = Reminders(practice, engine.outbox)
    aid = rem.book(ANGUS, "2026-11-30T15:00", 30, clock.now())
    clock.advance(timedelta(minutes=1))
    assert engine.send_receive_now()["sent"] == 1
    return rem, aid, invitation(fakemail.sent()[-1])


def test_accept_is_shown_on_the_appointment_and_filed(practice: Practice, engine: Engine, clock: FakeClock,
                                                      fakemail: FakeMail) -> None:
    rem, aid, event = booked(practice, engine, clock, fakemail)
    fakemail.deliver("practice", answer(event, "ACCEPTED"))
    engine.send_receive_now()
    appt = rem.get(aid)
    assert appt["calendar_answer"]["answer"] == "accepted" and appt["calendar_answer"]["standing"] == "current"
    assert not appt.get("attention") and rem.needing_attention() == []
    (msg,) = engine.inbox.list(tags=["Calendar"], include_actioned=True)
    assert msg["patient_id"] == ANGUS and msg["calendar_answer"]["appointment_id"] == aid


def test_a_decline_is_put_in_front_of_reception_and_cancels_nothing(practice: Practice, engine: Engine,
                                                                    clock: FakeClock, fakemail: FakeMail) -> None:
    rem, aid, event = booked(practice, engine, clock, fakemail)
    fakemail.deliver("practice", answer(event, "DECLINED"))
    engine.send_receive_now()
    appt = rem.get(aid)
    assert appt["status"] == "booked" and appt["calendar_answer"]["answer"] == "declined"
    (task,) = rem.needing_attention()
    assert task["id"] == aid and "declined" in task["attention"]
    assert engine.outbox.list(status="ready") == []  # no cancellation queued by itself
    rem.settle_attention(aid)
    assert rem.needing_attention() == []


def test_an_answer_to_the_old_time_is_outdated(practice: Practice, engine: Engine, clock: FakeClock,
                                               fakemail: FakeMail) -> None:
    rem, aid, first = booked(practice, engine, clock, fakemail)
    rem.move(aid, "2026-12-01T10:00", clock.now())
    clock.advance(timedelta(minutes=1))
    engine.send_receive_now()
    second = invitation(fakemail.sent()[-1])
    assert int(second["sequence"]) == int(first["sequence"]) + 1
    fakemail.deliver("practice", answer(second, "ACCEPTED"))
    engine.send_receive_now()
    fakemail.deliver("practice", answer(first, "DECLINED"))  # late, about the time that no longer stands
    engine.send_receive_now()
    appt = rem.get(aid)
    assert appt["calendar_answer"]["answer"] == "accepted"
    assert [(a["answer"], a["standing"]) for a in appt["calendar_answers"]] == [("accepted", "current"),
                                                                                 ("declined", "outdated")]
    assert rem.needing_attention() == []


def test_a_counter_proposal_and_a_delegated_answer(practice: Practice, engine: Engine, clock: FakeClock,
                                                   fakemail: FakeMail) -> None:
    rem, aid, event = booked(practice, engine, clock, fakemail)
    fakemail.deliver("practice", answer(event, "TENTATIVE", "COUNTER",
                                        extra="DTSTART:20261202T100000Z\r\nDTEND:20261202T103000Z\r\n"))
    engine.send_receive_now()
    appt = rem.get(aid)
    assert appt["calendar_answer"]["answer"] == "proposed"
    assert appt["calendar_answer"]["proposed_start"] == "2026-12-02T10:00:00+00:00"
    assert "proposed a new time" in appt["attention"] and appt["start"].startswith("2026-11-30")
    angus = str(event["attendee"]).removeprefix("mailto:")
    delegated = answer(event, "DELEGATED").replace(
        f"PARTSTAT=DELEGATED;CN=Angus:mailto:{angus}".encode(),
        f'PARTSTAT=DELEGATED;DELEGATED-TO="mailto:carer@example.org";CN=Angus:mailto:{angus}'.encode())
    fakemail.deliver("practice", delegated)
    engine.send_receive_now()
    got = rem.get(aid)["calendar_answer"]
    assert got["answer"] == "delegated" and got["words"] == "delegated to carer@example.org"
    assert len(rem.needing_attention()) == 1  # a delegated answer does not settle the proposal
    rem.move(aid, "2026-12-02T10:00", clock.now())  # reception takes the proposal: the task is done
    assert rem.needing_attention() == []


def test_an_answer_to_someone_elses_uid_is_filed_but_changes_nothing(practice: Practice, engine: Engine,
                                                                      clock: FakeClock, fakemail: FakeMail) -> None:
    rem, aid, event = booked(practice, engine, clock, fakemail)
    event["uid"] = icalendar.vText(str(event["uid"]).replace("@", "@other."))
    fakemail.deliver("practice", answer(event, "DECLINED"))
    engine.send_receive_now()
    assert "calendar_answer" not in rem.get(aid) and rem.needing_attention() == []
    (msg,) = engine.inbox.list(tags=["Calendar"], include_actioned=True)
    assert msg["calendar_answer"]["appointment_id"] == ""
