"""What a patient's calendar answer does when it arrives: recorded on the appointment it
answers (accepted, declined, tentative, delegated, proposed; an answer to an older SEQUENCE
kept as outdated), the message filed to the patient with the Calendar tag, and a decline
or a proposed new time put in front of reception as the appointment's `attention` (a task:
nothing is cancelled or moved by itself; Reminders.needing_attention lists them).

Intake (engine/service/inbox_shelf.py) asks `CalendarAnswers.take` about each new message; the
appointment is changed before the message is stored, and a second copy of the same answer
(same Message-ID and SEQUENCE) is not recorded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.adapters.storage import RID, Storage
from engine.core import calendar_answers as rules
from engine.core import filing
from engine.core.incoming import Facts
from engine.service.answers import Taken
from engine.service.bounces import header_block
from engine.service.inbox_records import timeline_entry

log = logging.getLogger("practicemail.service")
KEEP = 20  # answers kept per appointment
_MARKS = (b"alendar", b"ALENDAR", b"/ics")  # text/calendar (Calendar, CALENDAR), application/ics


class CalendarAnswers:
    def __init__(self, store: Storage, practice_email: Callable[[], str]) -> None:
        self.appointments = store.collection("appointments")
        self.practice_email = practice_email

    def take(self, raw: bytes, f: Facts, now: datetime) -> Taken | None:
        head = header_block(raw).lower()
        if b"multipart" not in head and b"calendar" not in head and b"/ics" not in head:
            return None  # a single plain part: no calendar in it
        if not any(mark in raw for mark in _MARKS):
            return None  # most mail: no calendar part at all (a byte search, no parsing)
        found = rules.read(raw)
        if found is None:
            return None
        aid = rules.appointment_id(found.uid, self.practice_email() or "")
        appt = next(iter(self.appointments.find_by("id", aid)), None) if aid else None
        said = rules.words(found.answer, found.proposed_start, found.delegated_to)
        record: dict[str, Any] = {
            "answer": found.answer, "words": said, "method": found.method, "sequence": found.sequence,
            "attendee": found.attendee, "delegated_to": found.delegated_to, "proposed_start": found.proposed_start,
            "proposed_end": found.proposed_end, "comment": found.comment, "at": now.isoformat(),
            "message_id": f.message_id, "appointment_id": appt["id"] if appt else "", "standing": "",
        }
        if appt is None:
            unmatched = "a calendar answer to no appointment of ours"
            return Taken(filing.Decision(tags=[rules.CALENDAR_TAG], reason=unmatched), calendar_answer=record,
                         timeline=(timeline_entry(now, "calendar answer", f"{said}; no appointment"),))
        record["standing"] = rules.standing(found.sequence, int(appt.get("version", 1)))
        self._record(appt, record)
        note = f"appointment {appt['id']}: {said}" + (" (an answer to an earlier time: outdated)"
                                                       if record["standing"] == "outdated" else "")
        decision = filing.Decision(patient_id=appt.get("patient_id", ""), tags=[rules.CALENDAR_TAG],
                                   reason=f"a calendar answer to appointment {appt['id']}")
        return Taken(decision, calendar_answer=record, timeline=(timeline_entry(now, "calendar answer", note),))

    def _record(self, appt: dict[str, Any], record: dict[str, Any]) -> None:
        """On the appointment: the answer in its list; when current, as the answer; a decline
        or a proposal (current) as reception's task."""
        answers = list(appt.get("calendar_answers", []))
        if record["message_id"] and any(a.get("message_id") == record["message_id"] and
                                        a.get("sequence") == record["sequence"] for a in answers):
            return  # the same answer fetched again
        fields: dict[str, Any] = {"calendar_answers": [*answers, record][-KEEP:]}
        if record["standing"] == "current":
            fields["calendar_answer"] = record
            if record["answer"] in rules.NEEDS_RECEPTION:
                fields["attention"] = f"the patient {record['words']} from their calendar: contact them"
            elif record["answer"] == rules.ACCEPTED and appt.get("attention"):
                fields["attention"] = ""  # a later accept settles an earlier decline
        self.appointments.update(appt[RID], fields)
        log.info("calendar answer for appointment %s: %s (%s)", appt["id"], record["answer"], record["standing"])
