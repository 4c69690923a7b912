"""Every .ics parses and round-trips; updates keep the UID and raise SEQUENCE; times are
right on both daylight-saving change days in London and New York."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from engine.core import ical

STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def inv(start: datetime, zone: str, sequence: int = 0, cancelled: bool = False, alarm: int | None = 60) -> ical.Invitation:
    return ical.Invitation("A7", sequence, start, 45, "Dental appointment", "Riverside Surgery, 14 River Street",
                           "practice@brightsmile.example", "Bright Smile", "zoe@example.com", "Zoë O'Brien", zone,
                           cancelled=cancelled, alarm_minutes=alarm)


def event(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return cal, cal.walk("VEVENT")[0]


@pytest.mark.parametrize("zone,local", [
    ("Europe/London", datetime(2026, 3, 29, 9, 0)), ("Europe/London", datetime(2026, 10, 25, 9, 0)),
    ("America/New_York", datetime(2026, 3, 8, 9, 0)), ("America/New_York", datetime(2026, 11, 1, 9, 0)),
])
def test_times_are_right_on_dst_change_days(zone: str, local: datetime) -> None:
    start = local.replace(tzinfo=ZoneInfo(zone))
    cal, ev = event(ical.build(inv(start, zone), STAMP))
    got = ev.decoded("dtstart")
    assert got.replace(tzinfo=None) == local and got.utcoffset() == start.utcoffset()
    assert ev.decoded("dtend") - got == timedelta(minutes=45)
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == [zone]
    assert icalendar.Calendar.from_ical(cal.to_ical()).to_ical() == cal.to_ical()  # round-trips


def test_update_and_cancel_keep_uid_and_raise_sequence() -> None:
    start = datetime(2026, 12, 3, 14, 0, tzinfo=ZoneInfo("Europe/London"))
    cal0, first = event(ical.build(inv(start, "Europe/London"), STAMP))
    cal1, moved = event(ical.build(inv(start + timedelta(days=1), "Europe/London", sequence=1), STAMP))
    cal2, gone = event(ical.build(inv(start, "Europe/London", sequence=2, cancelled=True), STAMP))
    assert first["uid"] == moved["uid"] == gone["uid"] == "appointment-A7@brightsmile.example"
    assert first["sequence"] < moved["sequence"] < gone["sequence"]
    assert (cal0["method"], cal1["method"], cal2["method"]) == ("REQUEST", "REQUEST", "CANCEL")
    assert gone["status"] == "CANCELLED" and not list(gone.walk("VALARM"))
    assert str(first["organizer"]) == "mailto:practice@brightsmile.example"
    assert first.decoded("dtstamp").tzinfo is not None


def test_alarm_before_or_none() -> None:
    start = datetime(2026, 12, 3, 14, 0, tzinfo=ZoneInfo("Europe/London"))
    _, ev = event(ical.build(inv(start, "Europe/London", alarm=30), STAMP))
    (alarm,) = ev.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-30)
    _, ev = event(ical.build(inv(start, "Europe/London", alarm=None), STAMP))
    assert not list(ev.walk("VALARM"))
