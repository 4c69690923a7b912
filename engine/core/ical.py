"""Calendar invitations (RFC 5545/5546) with icalendar. Pure: times come in.

One UID per appointment for its whole life; SEQUENCE rises with every change;
METHOD:REQUEST for a new or moved appointment, METHOD:CANCEL for a cancelled
one, so the patient's calendar updates or removes the entry instead of adding
a second. Times are in the practice's zone with its VTIMEZONE, so they stay
right across daylight-saving changes.

The VTIMEZONE is written here, in the form Outlook and Google send: one STANDARD and one
DAYLIGHT observance, each with a yearly RRULE (BYMONTH, BYDAY) derived from the zone's
transitions in the years around the appointment; where the transitions follow no such rule,
one RDATE line per transition. icalendar's own generator lists every change since 1970 as
one comma-separated RDATE, and calendars that read only its first value put most
appointments an hour off.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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
    if inv.minutes < 1:
        raise ValueError("an appointment lasts at least a minute (DTEND must come after DTSTART)")
    tz = ZoneInfo(inv.timezone)
    start = inv.start.astimezone(tz)
    end = (inv.start.astimezone(timezone.utc) + timedelta(minutes=inv.minutes)).astimezone(tz)  # real minutes
    cal = icalendar.Calendar()
    cal.add("prodid", "-//practicemail//appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", inv.method)
    cal.add_component(vtimezone(inv.timezone, start.year))
    event = icalendar.Event()
    event.add("uid", uid_for(inv.appointment_id, inv.organizer_email))
    event.add("sequence", inv.sequence)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", _as_written(start))
    event.add("dtend", _as_written(end))
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
    return cal.to_ical()


def _as_written(moment: datetime) -> datetime:
    """The local time with its TZID, unless that wall time is read differently by different
    calendars: one that happens twice (the night the clocks go back) or never (the night
    they go forward). Then the instant itself, in UTC, which every reader agrees on."""
    wall = moment.replace(tzinfo=None)
    first, second = (wall.replace(fold=f).replace(tzinfo=moment.tzinfo) for f in (0, 1))
    if first.utcoffset() != second.utcoffset():
        return moment.astimezone(timezone.utc)
    return moment


@dataclass(frozen=True)
class Transition:
    """One change of a zone's offset: the wall time it happens at (in the offset before),
    the offsets either side, and the name and kind of the time after."""

    local: datetime  # naive
    before: timedelta
    after: timedelta
    name: str
    daylight: bool


@functools.lru_cache(maxsize=64)
def transitions(tz: ZoneInfo, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """Every offset change from the start of first_year to the end of last_year, found by
    stepping hours in UTC and narrowing to the minute (zoneinfo does not list them)."""
    t = datetime(first_year, 1, 1, tzinfo=timezone.utc)
    stop = datetime(last_year + 1, 1, 1, tzinfo=timezone.utc)
    found = []
    hour, minute = timedelta(hours=1), timedelta(minutes=1)
    while t < stop:
        nxt = t + hour
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo = t
            while lo + minute < nxt and lo.astimezone(tz).utcoffset() == (lo + minute).astimezone(tz).utcoffset():
                lo += minute
            at = lo + minute
            before, after = lo.astimezone(tz), at.astimezone(tz)
            found.append(Transition((at + before.utcoffset()).replace(tzinfo=None),  # type: ignore[operator]
                                    before.utcoffset(), after.utcoffset(),  # type: ignore[arg-type]
                                    after.tzname() or "", bool(after.dst())))
        t = nxt
    return tuple(found)


def _yearly_rule(group: list[Transition]) -> dict[str, object] | None:
    """BYMONTH and BYDAY (nth or last weekday) if every transition in the group fits one."""
    first = group[0].local
    same = all(g.local.month == first.month and g.local.weekday() == first.weekday() and
               g.local.time() == first.time() for g in group)
    if not same or len({g.local.year for g in group}) != len(group):
        return None
    day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()]
    if all(g.local.day + 7 > calendar.monthrange(g.local.year, g.local.month)[1] for g in group):
        return {"freq": "yearly", "bymonth": first.month, "byday": f"-1{day}"}
    nths = {(g.local.day - 1) // 7 + 1 for g in group}
    return {"freq": "yearly", "bymonth": first.month, "byday": f"{nths.pop()}{day}"} if len(nths) == 1 else None


def vtimezone(zone: str, year: int) -> icalendar.Timezone:
    """The zone as observances valid for the years around `year` (one before, two after)."""
    tz = ZoneInfo(zone)
    vtz = icalendar.Timezone()
    vtz.add("tzid", zone)
    changes = transitions(tz, year - 1, year + 2)
    if not changes:
        at = datetime(year, 1, 1, tzinfo=tz)
        vtz.add_component(_observance(Transition(datetime(1970, 1, 1), at.utcoffset(), at.utcoffset(),  # type: ignore[arg-type]
                                                 at.tzname() or zone, False), None, []))
        return vtz
    groups: dict[tuple[bool, timedelta, timedelta, str], list[Transition]] = {}
    for c in changes:
        groups.setdefault((c.daylight, c.before, c.after, c.name), []).append(c)
    for group in groups.values():
        rule = _yearly_rule(group) if len(group) > 1 else None
        vtz.add_component(_observance(group[0], rule, [] if rule else group[1:]))
    return vtz


def _observance(first: Transition, rule: dict[str, object] | None,
                more: list[Transition]) -> icalendar.cal.Component:
    part = icalendar.TimezoneDaylight() if first.daylight else icalendar.TimezoneStandard()
    part.add("dtstart", first.local)
    part.add("tzoffsetfrom", first.before)
    part.add("tzoffsetto", first.after)
    part.add("tzname", first.name)
    if rule:
        part.add("rrule", rule)
    for t in more:
        part.add("rdate", t.local)  # one per line: some calendars read only a list's first value
    return part
