"""A fake clock that knows when the engine's worker is idle, so a test can drive the real worker
through its own schedule: `settle()` waits (without any timed sleep of the test's own) until
the worker is blocked until a later instant, `next_deadline()` says which instant, and
`step()` moves time exactly there. The witness of what the worker did at each instant is
the fake server's record, read while the worker is idle."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from engine.adapters.clock import FakeClock


class SteppingClock(FakeClock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._sleepers: dict[int, tuple[threading.Event, datetime | None]] = {}
        self.waits = 0  # how many times anyone went to sleep: a tight loop shows here

    def wait(self, event: threading.Event, until: datetime | None, cap: float = 60.0) -> bool:
        me = threading.get_ident()
        with self._changed:
            self.waits += 1
            self._sleepers[me] = (event, until)
            self._changed.notify_all()
        try:
            return super().wait(event, until, cap)
        finally:
            with self._changed:
                self._sleepers.pop(me, None)
                self._changed.notify_all()

    def _idle(self) -> list[datetime | None]:
        """The deadlines of the waiters that are really blocked (event clear, deadline ahead)."""
        return [until for event, until in self._sleepers.values()
                if not event.is_set() and (until is None or self._now < until)]

    def settle(self, timeout: float = 20.0, most_waits: int | None = None) -> None:
        """Return once a waiter is blocked on a future instant (the worker has nothing to do now).
        `most_waits`: fail as soon as anyone went to sleep more often than that meanwhile, with
        time standing still (a worker woken again and again for nothing: a busy loop)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            start = self.waits
            while not self._idle():
                if most_waits is not None and self.waits - start > most_waits:
                    raise AssertionError(f"the worker slept {self.waits - start} times at {self._now:%H:%M:%S} "
                                         "and never went idle: a busy loop")
                if time.monotonic() > deadline:
                    raise TimeoutError("the worker never went idle")
                self._changed.wait(0.01)

    def next_deadline(self) -> datetime | None:
        with self._changed:
            deadlines = [u for u in self._idle() if u is not None]
            return min(deadlines) if deadlines else None

    def step(self, most_waits: int | None = None) -> datetime:
        """Settle, then move time to the instant the worker is waiting for."""
        self.settle(most_waits=most_waits)
        target = self.next_deadline()
        assert target is not None, "the worker waits for no instant"
        self.set(target)
        return target
