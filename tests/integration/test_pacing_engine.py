"""Pacing on the wired engine: the real worker thread, driven by a fake clock through its own
schedule, sending to the fake SMTP server. The server's record, read at each fake instant
while the worker is idle, is the witness: no 60 s window holds more than N automatic sends,
and every automatic send happens exactly when `reminders preview` said it would."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from engine.adapters.store import RID
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.integration.helpers import configure, draft, open_practice
from tests.integration.stepping import SteppingClock
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday; London is on UTC in November
WINDOW = timedelta(seconds=60)


class Run:
    """One practice, one engine, one fake server; what arrived at the server and when (fake time)."""

    def __init__(self, practice: Practice, fm: FakeMail, clock: SteppingClock, engine: Engine) -> None:
        self.practice, self.fm, self.clock, self.engine = practice, fm, clock, engine
        self.seen = 0
        self.arrivals: list[tuple[datetime, str, bool]] = []  # (fake time, Message-ID, automatic)

    def queue(self, n: int, tag: str) -> list[int]:
        return [self.engine.outbox.add_draft(draft(subject=f"{tag} {i}"), self.clock.now()) for i in range(n)]

    def promised(self, rids: list[int]) -> dict[str, datetime]:
        """The preview's send time for each of these items, by Message-ID."""
        by_id = {f"#{rid} ": self.engine.outbox.get(rid)["message_id"] for rid in rids}
        out = {}
        for line in Reminders(self.practice, self.engine.outbox).preview(self.clock.now(), hours=2):
            for prefix, mid in by_id.items():
                if line.what.startswith("send") and line.detail.startswith(prefix):
                    out[mid] = line.at
        return out

    def collect(self, automatic: bool) -> None:
        sent = self.fm.sent()
        for m in sent[self.seen:]:
            self.arrivals.append((self.clock.now(), message_from_bytes(m["data"])["Message-ID"], automatic))
        self.seen = len(sent)

    def left(self) -> int:
        return sum(1 for r in self.engine.outbox.list() if r["status"] != "sent")


@example(per_minute=1, first=4, manual_at=None, second=0, close_after=1)  # the period closes mid-pass
@example(per_minute=2, first=5, manual_at=2, second=3, close_after=None)  # a manual pass mid-backlog
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(per_minute=st.integers(1, 60), first=st.integers(1, 12), manual_at=st.one_of(st.none(), st.integers(0, 6)),
       second=st.integers(0, 5), close_after=st.one_of(st.none(), st.integers(1, 4)))
def test_the_real_worker_paces_as_the_preview_promised(per_minute: int, first: int, manual_at: int | None,
                                                       second: int, close_after: int | None) -> None:
    periods = "Mon-Fri 08:00-18:00" if close_after is None else f"Tue 10:00-10:0{close_after}; Tue 10:07-18:00"
    with tempfile.TemporaryDirectory() as tmp, FakeMail(seed=1) as fm, open_practice(Path(tmp) / "data") as p:
        configure(p, fm)
        p.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": "true",
                             "pacing.per_minute": str(per_minute), "schedule.periods": periods})
        clock = SteppingClock(T0)
        engine = Engine(p, clock)
        engine.smtp_timeout = 10.0
        run = Run(p, fm, clock, engine)
        promised = run.promised(run.queue(first, "First"))
        engine.start()
        try:
            steps, second_queued = 0, False
            while True:
                clock.settle()
                run.collect(automatic=True)
                if steps == manual_at:
                    engine.send_receive_now(timeout=30)  # everything ready goes now, unpaced
                    run.collect(automatic=False)
                    automatic = {mid for _, mid, auto in run.arrivals if auto}
                    promised = {m: at for m, at in promised.items() if m in automatic}  # the rest went by hand
                    manual_at = None
                    continue
                if run.left() == 0:
                    if second_queued or not second:
                        break
                    promised.update(run.promised(run.queue(second, "Second")))  # recent sends counted
                    engine.wake()
                    second_queued = True
                    continue
                clock.step()
                steps += 1
                assert steps < 2000, "the worker never finished"
        finally:
            engine.stop()
    automatic = [(at, mid) for at, mid, auto in run.arrivals if auto]
    for at, _ in automatic:  # the property: no 60 s window with more than N automatic sends
        assert sum(1 for t, _ in automatic if at <= t < at + WINDOW) <= per_minute
    for i, (at, _, auto) in enumerate(run.arrivals):  # and the rule's: an automatic send never makes more
        if auto:                                        # than N in the minute before it, manual ones counted
            assert sum(1 for t, _, _ in run.arrivals[:i + 1] if at - WINDOW < t) <= per_minute
    assert {mid: at for at, mid in automatic} == promised
    assert len(run.arrivals) == first + second
