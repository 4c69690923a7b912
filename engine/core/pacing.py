"""Pacing and periods: when may the next automatic send happen?

Pacing (`pacing.per_minute = N`): automatic sends are spaced 60/N seconds
apart, and never more than N sends (manual ones counted) fall in any 60 s
window. Manual sends are never delayed; they only push automatic ones back.

Periods bound all automatic work, in the practice's local time, across
daylight-saving changes. Pure: `now` is an argument; time zones are objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TypeVar

from engine.core.periods import Period

WINDOW = timedelta(seconds=60)
K = TypeVar("K")


def spacing(per_minute: int) -> timedelta:
    """60/N seconds, rounded up to the microsecond (rounding down could fit N+1 in a minute)."""
    return timedelta(microseconds=math.ceil(60_000_000 / per_minute))


def next_automatic_send(now: datetime, recent_sends: Sequence[datetime], per_minute: int | None) -> datetime:
    """The earliest moment at or after `now` an automatic send may go.

    `recent_sends`: every send (automatic and manual) of the last minute or more, any order.
    `per_minute`: None when pacing is off.
    """
    if not per_minute:
        return now
    sends = sorted(recent_sends)
    t = now
    if sends:
        t = max(t, sends[-1] + spacing(per_minute))
    # never N sends already in the 60 s before t: the N-th most recent must be >= 60 s old
    if len(sends) >= per_minute:
        t = max(t, sends[-per_minute] + WINDOW)
    return t


def next_automatic_slot(now: datetime, recent_sends: Sequence[datetime], per_minute: int | None, tz: tzinfo,
                        periods: Sequence[Period]) -> datetime | None:
    """When the next automatic send may go: paced, and inside a period (None: no period, ever).

    The one rule for "when": the worker asks it before every automatic send and the preview
    asks it for every send it plans, so the preview promises what the worker does. Pacing's
    limits only ever say "not before", so a paced instant pushed on to a period's opening
    is still paced.
    """
    return next_period_start(next_automatic_send(now, recent_sends, per_minute), tz, periods)


def plan_automatic_sends(now: datetime, due: Sequence[tuple[K, datetime]], recent_sends: Sequence[datetime],
                         per_minute: int | None, tz: tzinfo, periods: Sequence[Period],
                         until: datetime | None = None) -> list[tuple[K, datetime]]:
    """When each item will go, taken in the given order (the worker's: due time, then id).

    `due`: (key, the instant the item becomes due). Items whose time falls after `until`,
    or never comes, are left out.
    """
    sends = list(recent_sends)
    plan: list[tuple[K, datetime]] = []
    for key, due_at in due:
        at = next_automatic_slot(max(now, due_at), sends, per_minute, tz, periods)
        if at is None or (until is not None and at > until):
            break
        sends.append(at)
        plan.append((key, at))
    return plan


def _local(now: datetime, tz: tzinfo) -> datetime:
    return now.astimezone(tz)


def in_period(now: datetime, tz: tzinfo, periods: Sequence[Period]) -> bool:
    local = _local(now, tz)
    day, clock = local.weekday(), local.time().replace(tzinfo=None)
    for p in periods:
        if not p.crosses_midnight:
            if p.weekday == day and p.start <= clock < p.end:
                return True
        else:
            if p.weekday == day and clock >= p.start:
                return True
            if (p.weekday + 1) % 7 == day and clock < p.end:
                return True
    return False


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """A local wall time as an aware instant; a time in a spring-forward gap moves to after the gap."""
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=tz)
    roundtrip = aware.astimezone(timezone.utc).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:  # did not exist: the clocks jumped over it
        return roundtrip
    return aware


def next_period_start(now: datetime, tz: tzinfo, periods: Sequence[Period]) -> datetime | None:
    """`now` if inside a period; else when the next one opens; None if there are no periods."""
    if not periods:
        return None
    if in_period(now, tz, periods):
        return now
    local_day = _local(now, tz).date()
    best: datetime | None = None
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        for p in periods:
            if p.weekday != day.weekday():
                continue
            start = _at(day, p.start, tz)
            if start > now and (best is None or start < best):
                best = start
        if best is not None:
            return best
    return best


def period_end(now: datetime, tz: tzinfo, periods: Sequence[Period]) -> datetime | None:
    """When the period containing `now` closes (None when outside every period)."""
    if not in_period(now, tz, periods):
        return None
    local = _local(now, tz)
    t = now
    # walk forward minute by minute at most a week: periods are minute-aligned
    step = timedelta(minutes=1)
    t = local.replace(second=0, microsecond=0).astimezone(timezone.utc) + step
    for _ in range(7 * 24 * 60):
        if not in_period(t, tz, periods):
            return t
        t += step
    return None
