"""A patient's calendar answering our invitation: METHOD:REPLY (accepted, declined, tentative,
delegated) or METHOD:COUNTER (a new time proposed), RFC 5546. Pure: bytes in, an `Answer` out.

The answer is matched to the appointment by the UID we gave it (engine/core/ical.py:
`appointment-<id>@<practice domain>`, one for the appointment's whole life) and its SEQUENCE
(the appointment's version - 1, rising with every move): an answer to an older SEQUENCE
answers a time that no longer stands, and is shown as outdated, never as the answer.

Calendar programs write the same answer in different dress (Outlook puts the word in the
SUMMARY and often no SEQUENCE at all; Google adds X- parameters; Apple an EMAIL parameter):
only PARTSTAT, DELEGATED-TO, UID, SEQUENCE and, for COUNTER, DTSTART/DTEND are read.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import Message

import icalendar

CALENDAR_TAG = "Calendar"
ACCEPTED, DECLINED, TENTATIVE, DELEGATED, PROPOSED = "accepted", "declined", "tentative", "delegated", "proposed"
_PARTSTAT = {"ACCEPTED": ACCEPTED, "DECLINED": DECLINED, "TENTATIVE": TENTATIVE, "DELEGATED": DELEGATED}
NEEDS_RECEPTION = (DECLINED, PROPOSED)  # put in front of reception; never acted on by themselves
MAX_ICS = 256 * 1024
_UID = re.compile(r"appointment-([A-Za-z0-9][A-Za-z0-9._-]{0,63})@([A-Za-z0-9.-]{1,253})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Answer:
    method: str  # "REPLY" or "COUNTER"
    uid: str
    sequence: int
    answer: str  # accepted, declined, tentative, delegated, proposed
    attendee: str = ""  # the address that answered (mailto: removed)
    delegated_to: str = ""
    proposed_start: str = ""  # ISO 8601, for a COUNTER
    proposed_end: str = ""
    comment: str = ""


def _line(value: object, limit: int = 300) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", str(value or ""))).strip()[:limit]


def _mailto(value: object) -> str:
    text = _line(value, 320)
    return text[7:].strip().lower() if text.lower().startswith("mailto:") else text.lower()


def appointment_id(uid: str, practice_email: str) -> str:
    """The appointment a UID of ours names ("" when it is not one of ours)."""
    m = _UID.fullmatch(uid.strip())
    domain = practice_email.rsplit("@", 1)[-1].lower() if "@" in practice_email else "practicemail.invalid"
    return m.group(1) if m and m.group(2).lower() == domain else ""


def standing(answer_sequence: int, appointment_version: int) -> str:
    """"current" when the answer is to the appointment as it stands, else "outdated"."""
    return "current" if answer_sequence >= appointment_version - 1 else "outdated"


def _when(value: object) -> str:
    dt = getattr(value, "dt", None)
    if isinstance(dt, datetime):
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(dt, date):
        return dt.isoformat()
    return ""


def _attendee(event: icalendar.Event) -> tuple[str, str, str]:
    """(answer, address, delegated_to): the attendee who answered. In a delegated answer the
    delegator (PARTSTAT=DELEGATED) is the patient; the delegate may be listed beside them."""
    attendees = event.get("attendee")
    found = attendees if isinstance(attendees, list) else [attendees] if attendees is not None else []
    best: tuple[str, str, str] | None = None
    for a in found:
        status = str(getattr(a, "params", {}).get("PARTSTAT", "")).upper()
        if status not in _PARTSTAT:
            continue
        delegated_to = _mailto(getattr(a, "params", {}).get("DELEGATED-TO", ""))
        candidate = (_PARTSTAT[status], _mailto(a), delegated_to)
        if status == "DELEGATED" or best is None:
            best = candidate
    return best or ("", "", "")


def _from_calendar(text: bytes | str) -> Answer | None:
    cal = icalendar.Calendar.from_ical(text)
    method = str(cal.get("method", "")).strip().upper()
    if method not in ("REPLY", "COUNTER"):
        return None
    event = next(iter(cal.walk("VEVENT")), None)
    if event is None or not event.get("uid"):
        return None
    try:
        sequence = int(str(event.get("sequence", 0)))
    except ValueError:
        sequence = 0
    answer, attendee, delegated_to = _attendee(event)
    if method == "COUNTER":
        answer = PROPOSED
    elif not answer:
        return None
    return Answer(method, _line(event.get("uid"), 320), max(sequence, 0), answer, attendee, delegated_to,
                  _when(event.get("dtstart")) if method == "COUNTER" else "",
                  _when(event.get("dtend")) if method == "COUNTER" else "", _line(event.get("comment")))


def _calendar_parts(msg: Message) -> list[bytes]:
    out = []
    for part in msg.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and len(data) <= MAX_ICS:
                out.append(data)
    return out


def read(raw: bytes) -> Answer | None:
    """The calendar answer in this message, or None (no calendar part, a REQUEST, unreadable)."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        for data in _calendar_parts(msg):
            try:
                found = _from_calendar(data)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue  # a broken calendar part: the message is still kept as ordinary mail
            if found is not None:
                return found
    except Exception:  # noqa: BLE001 - hostile bytes never stop intake
        return None
    return None


def words(answer: str, proposed_start: str = "", delegated_to: str = "") -> str:
    """How reception reads it."""
    if answer == PROPOSED:
        return f"proposed a new time ({proposed_start})" if proposed_start else "proposed a new time"
    if answer == DELEGATED:
        return f"delegated to {delegated_to}" if delegated_to else "delegated"
    return answer
