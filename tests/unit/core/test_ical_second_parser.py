"""Invitations read by a second, independent parser (vobject, whose time zones come from
dateutil's reading of the VTIMEZONE we send): every DTSTART and DTEND is the intended
instant in UTC, on and around both daylight-saving days of London, New York and Sydney,
for requests and cancellations; also for a calendar that reads only the first value of a
list (issue 14, finding 11)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import vobject
import vobject.icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import ical

STAMP = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
DST_DAYS = {"Europe/London": ("2026-03-29", "2026-10-25"), "America/New_York": ("2026-03-08", "2026-11-01"),
            "Australia/Sydney": ("2026-04-05", "2026-10-04")}
HOURS = ("00:30", "01:30", "02:00", "02:30", "03:00", "03:30", "09:00", "23:30")


def read(data: bytes, first_value_only: bool = False) -> tuple[str, datetime, datetime]:
    """METHOD and the event's start and end in UTC, as vobject reads them. `first_value_only`
    reads as the calendars do that take only the first value of a multi-valued RDATE."""
    text = data.decode("utf-8")
    if first_value_only:
        text = re.sub(r"\r\n[ \t]", "", text)  # unfold, then cut every RDATE list to its first value
        text = re.sub(r"^(RDATE[^:\r\n]*:[^,\r\n]*),[^\r\n]*", r"\1", text, flags=re.M)
    registry = getattr(vobject.icalendar, "__tzidMap")
    for tzid in [k for k in registry if k != "UTC"]:
        del registry[tzid]  # vobject keeps the first zone it saw under a TZID: read each file afresh
    cal = vobject.readOne(text)
    ev = cal.vevent
    start, end = ev.dtstart.value, ev.dtend.value
    assert start.tzinfo is not None and end.tzinfo is not None
    return cal.method.value, start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def invitation(start: datetime, zone: str, minutes: int = 45, cancelled: bool = False) -> bytes:
    return ical.build(ical.Invitation("A7", 2 if cancelled else 0, start, minutes, "Dental appointment", "Riverside",
                                      "practice@brightsmile.example", "Bright Smile", "zoe@example.com", "Zoë",
                                      zone, cancelled=cancelled), STAMP)


def moments(zone: str) -> list[datetime]:
    """On both change days at every interesting hour (both sides of a repeated hour), the
    days either side, and a week on."""
    tz = ZoneInfo(zone)
    out = []
    for day in DST_DAYS[zone]:
        d = datetime.fromisoformat(day)
        for hm in HOURS:
            h, m = map(int, hm.split(":"))
            for fold in (0, 1):
                out.append(d.replace(hour=h, minute=m, tzinfo=tz, fold=fold))
        out += [(d + timedelta(days=k)).replace(hour=9, tzinfo=tz) for k in (-1, 1, 7)]
    return out


@pytest.mark.parametrize("zone", sorted(DST_DAYS))
@pytest.mark.parametrize("cancelled", [False, True])
@pytest.mark.parametrize("first_value_only", [False, True])
def test_every_start_and_end_is_the_intended_instant(zone: str, cancelled: bool, first_value_only: bool) -> None:
    for start in moments(zone):
        method, got_start, got_end = read(invitation(start, zone, cancelled=cancelled), first_value_only)
        want = start.astimezone(timezone.utc)
        assert method == ("CANCEL" if cancelled else "REQUEST")
        assert (got_start, got_end) == (want, want + timedelta(minutes=45)), (zone, start, start.fold)


def test_the_zone_is_sent_as_observances_with_rules_and_no_value_lists() -> None:
    for zone in DST_DAYS:
        text = invitation(datetime(2026, 7, 1, 9, tzinfo=ZoneInfo(zone)), zone).decode()
        unfolded = re.sub(r"\r\n[ \t]", "", text)
        assert "BEGIN:STANDARD" in text and "BEGIN:DAYLIGHT" in text
        assert len(re.findall(r"^RRULE:FREQ=YEARLY;BYDAY=-?\dSU;BYMONTH=\d+\r$", unfolded, re.M)) == 2, text
        assert not re.search(r"^RDATE[^\r\n]*,", unfolded, re.M)


def test_a_zone_without_a_rule_gets_one_rdate_a_line() -> None:
    """Casablanca's changes move with Ramadan: no yearly rule fits, so one RDATE per line."""
    zone = "Africa/Casablanca"
    text = re.sub(r"\r\n[ \t]", "", invitation(datetime(2027, 3, 1, 9, tzinfo=ZoneInfo(zone)), zone).decode())
    assert "RDATE:" in text and not re.search(r"^RDATE[^\r\n]*,", text, re.M)
    for start in (datetime(2027, 2, 7, 2, 30, tzinfo=ZoneInfo(zone)), datetime(2027, 3, 20, 9, tzinfo=ZoneInfo(zone))):
        _, got, _ = read(invitation(start, zone), first_value_only=True)
        assert got == start.astimezone(timezone.utc)


ZONES = st.sampled_from(sorted(DST_DAYS) + ["Asia/Tokyo", "America/Sao_Paulo", "Pacific/Chatham"])


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, instant=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31)),
       minutes=st.integers(1, 720), cancelled=st.booleans())
def test_any_instant_in_any_zone_reads_back_the_same(zone: str, instant: datetime, minutes: int,
                                                     cancelled: bool) -> None:
    start = instant.replace(second=0, microsecond=0, tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
    _, got_start, got_end = read(invitation(start, zone, minutes, cancelled), first_value_only=True)
    assert got_start == start.astimezone(timezone.utc)
    assert got_end == got_start + timedelta(minutes=minutes)


def test_no_invitation_ends_before_it_starts() -> None:
    with pytest.raises(ValueError):
        invitation(datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("Europe/London")), "Europe/London", minutes=-30)
