"""Calendar invitations (RFC 5545/5546) with icalendar. Pure: times come in.

One UID per appointment for its whole life; SEQUENCE rises with every change;
METHOD:REQUEST for a new or moved appointment, METHOD:CANCEL for a cancelled
one, so the patient's calendar updates or removes the entry instead of adding
a second. Times are in the practice's zone with its VTIMEZONE, so they stay
right across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar


@dataclass(frozen=True)
class Invitation:
    appointment_id: str
    sequence: int
    start: datetime  # aware
    minutes: int
    summary: str
    location: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    timezone: str
    cancelled: bool = False
    alarm_minutes: int | None = 60
    description: str = ""

    @property
    def method(self) -> str:
        return "CANCEL" if self.cancelled else "REQUEST"


def uid_for(appointment_id: str, practice_email: str) -> str:
    domain = practice_email.rsplit("@", 1)[-1] if "@" in practice_email else "practicemail.invalid"
    return f"appointment-{appointment_id}@{domain}"


def build(inv: Invitation, stamp: datetime) -> bytes:
    tz = ZoneInfo(inv.timezone)
    start = inv.start.astimezone(tz)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//practicemail//appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", inv.method)
    event = icalendar.Event()
    event.add("uid", uid_for(inv.appointment_id, inv.organizer_email))
    event.add("sequence", inv.sequence)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=inv.minutes))
    event.add("summary", inv.summary)
    if inv.location:
        event.add("location", inv.location)
    if inv.description:
        event.add("description", inv.description)
    organizer = icalendar.vCalAddress(f"mailto:{inv.organizer_email}")
    organizer.params["cn"] = icalendar.vText(inv.organizer_name or inv.organizer_email)
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{inv.attendee_email}")
    attendee.params["cn"] = icalendar.vText(inv.attendee_name or inv.attendee_email)
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = icalendar.vText("FALSE")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if inv.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if inv.alarm_minutes is not None and not inv.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", inv.summary)
        alarm.add("trigger", timedelta(minutes=-inv.alarm_minutes))
        event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
