"""Calendar answers as the major calendar programs write them: matched by UID and SEQUENCE."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import calendar_answers as ca

UID = "appointment-A20261124-abc123@example.test"

OUTLOOK_ACCEPT = f"""BEGIN:VCALENDAR\r
METHOD:REPLY\r
PRODID:Microsoft Exchange Server 2010\r
VERSION:2.0\r
BEGIN:VEVENT\r
ATTENDEE;PARTSTAT=ACCEPTED;CN=Angus MacLeod:mailto:angus.macleod@patientmail.example\r
COMMENT;LANGUAGE=en-GB:See you then\r
SUMMARY;LANGUAGE=en-GB:Accepted: Dental appointment at Bright Smile Dental\r
DTSTART;TZID=GMT Standard Time:20261130T150000\r
DTEND;TZID=GMT Standard Time:20261130T153000\r
UID:{UID}\r
CLASS:PUBLIC\r
PRIORITY:5\r
DTSTAMP:20261124T101500Z\r
TRANSP:OPAQUE\r
STATUS:CONFIRMED\r
SEQUENCE:0\r
END:VEVENT\r
END:VCALENDAR\r
"""

GOOGLE_DECLINE = f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REPLY
BEGIN:VEVENT
DTSTART:20261130T150000Z
DTEND:20261130T153000Z
DTSTAMP:20261124T101600Z
ORGANIZER;CN=Bright Smile Dental:mailto:practice@example.test
UID:{UID}
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Angus
 MacLeod;X-NUM-GUESTS=0:mailto:angus.macleod@patientmail.example
SEQUENCE:1
STATUS:CONFIRMED
SUMMARY:Dental appointment at Bright Smile Dental
END:VEVENT
END:VCALENDAR
"""

APPLE_TENTATIVE = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 15.1//EN
METHOD:REPLY
BEGIN:VEVENT
ATTENDEE;CN=Angus MacLeod;EMAIL=angus.macleod@patientmail.example;PARTSTAT=TENTATIVE:mailto:angus.macleod@patientmail.example
DTSTAMP:20261124T101700Z
SEQUENCE:1
UID:{UID}
REQUEST-STATUS:2.0;Success
END:VEVENT
END:VCALENDAR
"""

DELEGATED = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp.//CalDAV Client//EN
METHOD:REPLY
BEGIN:VEVENT
ATTENDEE;PARTSTAT=ACCEPTED;DELEGATED-FROM="mailto:angus.macleod@patientmail.example":mailto:carer@example.org
ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:carer@example.org":mailto:angus.macleod@patientmail.example
UID:{UID}
SEQUENCE:2
DTSTAMP:20261124T101800Z
END:VEVENT
END:VCALENDAR
"""

OUTLOOK_COUNTER = f"""BEGIN:VCALENDAR
METHOD:COUNTER
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VEVENT
ATTENDEE;PARTSTAT=TENTATIVE;CN=Angus MacLeod:mailto:angus.macleod@patientmail.example
COMMENT:Could we make it the morning?
SUMMARY:New Time Proposed: Dental appointment
DTSTART:20261201T100000Z
DTEND:20261201T103000Z
UID:{UID}
SEQUENCE:1
DTSTAMP:20261124T101900Z
END:VEVENT
END:VCALENDAR
"""


def mail(ics: str, method: str = "REPLY", encoding: str = "7bit") -> bytes:
    body = ics if encoding == "7bit" else __import__("base64").encodebytes(ics.encode()).decode()
    return (f"From: Angus MacLeod <angus.macleod@patientmail.example>\r\nTo: practice@example.test\r\n"
            f"Subject: Accepted: Dental appointment\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
            f"Angus has answered.\r\n--b\r\nContent-Type: text/calendar; method={method}; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{body}\r\n--b--\r\n").encode()


@pytest.mark.parametrize(("ics", "method", "answer", "sequence"), [
    (OUTLOOK_ACCEPT, "REPLY", "accepted", 0),
    (GOOGLE_DECLINE, "REPLY", "declined", 1),
    (APPLE_TENTATIVE, "REPLY", "tentative", 1),
    (DELEGATED, "REPLY", "delegated", 2),
    (OUTLOOK_COUNTER, "COUNTER", "proposed", 1),
], ids=["outlook-accept", "google-decline", "apple-tentative", "delegated", "outlook-counter"])
@pytest.mark.parametrize("encoding", ["7bit", "base64"])
def test_answers_of_the_major_calendar_programs(ics: str, method: str, answer: str, sequence: int,
                                                encoding: str) -> None:
    found = ca.read(mail(ics, method, encoding))
    assert found is not None
    assert (found.method, found.uid, found.sequence, found.answer) == (method, UID, sequence, answer)
    assert found.attendee == "angus.macleod@patientmail.example"


def test_the_delegate_and_the_proposal_are_read() -> None:
    assert ca.read(mail(DELEGATED)).delegated_to == "carer@example.org"
    counter = ca.read(mail(OUTLOOK_COUNTER, "COUNTER"))
    assert counter.proposed_start == "2026-12-01T10:00:00+00:00" and counter.comment == "Could we make it the morning?"
    assert ca.words(counter.answer, counter.proposed_start).startswith("proposed a new time")


def test_our_own_invitation_is_not_an_answer() -> None:
    assert ca.read(mail(OUTLOOK_ACCEPT.replace("METHOD:REPLY", "METHOD:REQUEST"))) is None
    assert ca.read(mail(OUTLOOK_ACCEPT.replace("PARTSTAT=ACCEPTED", "PARTSTAT=NEEDS-ACTION"))) is None


def test_uid_to_appointment_only_for_our_domain() -> None:
    assert ca.appointment_id(UID, "practice@example.test") == "A20261124-abc123"
    assert ca.appointment_id(UID, "practice@elsewhere.test") == ""
    assert ca.appointment_id("appointment-../../x@example.test", "practice@example.test") == ""
    assert ca.appointment_id("040000008200E00074C5B7101A82E008", "practice@example.test") == ""


@given(st.integers(0, 50), st.integers(1, 50))
def test_an_answer_to_an_older_sequence_is_outdated(sequence: int, version: int) -> None:
    assert (ca.standing(sequence, version) == "outdated") == (sequence < version - 1)


hostile = st.sampled_from(["\r\n", "\u2028", "\x85", "\x0b", "\u202e", "=?utf-8?q?=0D=0A?=", "x" * 3000, "",
                           "BEGIN:VEVENT", "END:VCALENDAR", ";PARTSTAT=DECLINED", "SEQUENCE:-5", "SEQUENCE:zz"])


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile, max_size=6), st.sampled_from([OUTLOOK_ACCEPT, GOOGLE_DECLINE, DELEGATED, OUTLOOK_COUNTER]))
def test_hostile_calendars_never_crash_and_stay_one_line(pieces: list[str], ics: str) -> None:
    evil = "".join(pieces)
    found = ca.read(mail(ics.replace("Angus MacLeod", evil).replace("See you then", evil)
                         .replace("SEQUENCE:1", "SEQUENCE:" + evil[:20])))
    if found is not None:
        for value in (found.uid, found.attendee, found.comment, found.delegated_to):
            assert "\n" not in value and "\u2028" not in value and "\u202e" not in value
        assert found.sequence >= 0
