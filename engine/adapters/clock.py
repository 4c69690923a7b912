"""Time for the service: the real clock, and a fake one tests drive by hand.

`wait(event, until)` sleeps until the instant `until` or until `event` is set,
whichever is first; with the fake clock "until" arrives only when a test
advances time, so no test ever sleeps to wait for the engine.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, event: threading.Event, until: datetime | None, cap: float = 60.0) -> bool:
        """True if the event was set. Never sleeps more than `cap` seconds (clock changes, DST)."""
        timeout = cap if until is None else max(0.0, min(cap, (until - self.now()).total_seconds()))
        return event.wait(timeout)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the fake clock needs an aware datetime")
        self._now = start
        self._changed = threading.Condition()

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        with self._changed:
            self._now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
            self._changed.notify_all()
            return self._now

    def set(self, instant: datetime) -> None:
        with self._changed:
            self._now = instant
            self._changed.notify_all()

    def wait(self, event: threading.Event, until: datetime | None, cap: float = 60.0) -> bool:
        with self._changed:
            while not event.is_set() and (until is None or self._now < until):
                # a short real wait only so a set() of the event is noticed; time itself never moves here
                self._changed.wait(0.02)
            return event.is_set()
