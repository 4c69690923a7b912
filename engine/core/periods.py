"""Periods: the weekday time spans in which automatic work may run.

Text form (the `schedule.periods` setting): `;`-separated entries, each
`DAYS START-END`, days as `Mon-Fri`, `Mon,Wed`, `Sat`, `Daily`; times 24-hour.
An end at or before the start crosses midnight into the next day (a period
`Fri 22:00-02:00` runs until 02:00 on Saturday). Pure: times are local wall
times; the caller converts with the practice's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {d.lower(): i for i, d in enumerate(DAY_NAMES)}
_DAY_INDEX.update({full: i for i, full in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))})
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PeriodSyntaxError(ValueError):
    """The text names what is wrong, for the person who typed it."""


@dataclass(frozen=True, order=True)
class Period:
    weekday: int  # 0 = Monday
    start: time
    end: time  # at or before start: crosses midnight

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"


def parse_time(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise PeriodSyntaxError(f"{text.strip()!r} is not a time like 08:00")
    return time(int(m.group(1)), int(m.group(2)))


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part in ("daily", "every day", "all"):
            days.extend(range(7))
            continue
        if "-" in part:
            a, b = (p.strip() for p in part.split("-", 1))
            if a[:3] not in _DAY_INDEX or b[:3] not in _DAY_INDEX:
                raise PeriodSyntaxError(f"{part!r} is not a day range like Mon-Fri")
            i, j = _DAY_INDEX[a[:3]], _DAY_INDEX[b[:3]]
            days.extend((i + k) % 7 for k in range((j - i) % 7 + 1))
        elif part in _DAY_INDEX or part[:3] in _DAY_INDEX and len(part) == 3:
            days.append(_DAY_INDEX[part] if part in _DAY_INDEX else _DAY_INDEX[part[:3]])
        else:
            raise PeriodSyntaxError(f"{part!r} is not a day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    if not days:
        raise PeriodSyntaxError("no days given")
    return days


def parse_periods(text: str) -> tuple[Period, ...]:
    """Parse the setting text. Empty text means no periods (nothing automatic)."""
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    periods: set[Period] = set()
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        m = re.match(r"^(.*?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$", entry)
        if not m:
            raise PeriodSyntaxError(f"{entry!r} is not like 'Mon-Fri 08:00-18:00'")
        start, end = parse_time(m.group(2)), parse_time(m.group(3))
        if start == end:
            raise PeriodSyntaxError(f"{entry!r} starts and ends at the same time")
        for day in _parse_days(m.group(1)):
            periods.add(Period(day, start, end))
    return tuple(sorted(periods))


def format_periods(periods: tuple[Period, ...]) -> str:
    return "; ".join(str(p) for p in periods)


def parse_check_times(text: str) -> tuple[time, ...]:
    """`12:30,17:45` -> sorted times; empty -> none."""
    out = {parse_time(t) for t in re.split(r"[,;\s]+", text.strip()) if t}
    return tuple(sorted(out))
