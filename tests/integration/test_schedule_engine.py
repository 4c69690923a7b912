"""The preview holds the worker to its word: `reminders preview`, made once from the schedule rule
(engine/core/schedule.py), names every item and the instant it goes; the real worker thread,
driven by a fake clock through its own schedule, sends each one to the fake SMTP server at
exactly that instant. The server's record, read at each fake instant while the worker is idle,
is the witness. Items wait out retries (retry_at from an earlier failed attempt), are held
(deliver_after), are paced, cross a period's close, and mail checks interleave with the sends."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from engine.service.engine import Engine
from engine.service.reminders import Reminders
from tests.backends import each_example
from tests.integration.helpers import configure, configure_incoming, draft, open_practice
from tests.integration.stepping import SteppingClock
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 58, tzinfo=timezone.utc)  # a Tuesday; London is on UTC in November


def _promised(engine: Engine, now: datetime) -> dict[str, datetime]:
    """The preview's send time for every item, by Message-ID."""
    out = {}
    for line in Reminders(engine.practice, engine.outbox).preview(now, hours=3):
        if line.what.startswith("send"):
            rid = int(line.detail[1:].split(" ", 1)[0])
            out[engine.outbox.get(rid)["message_id"]] = line.at
    return out


@example(per_minute=1, held=[0, 0, 0], failures=0, skip=1, periods="Mon-Fri 08:00-18:00", checks=False)  # mid-pass
@example(per_minute=2, held=[0, 0, 3], failures=2, skip=0, periods="Tue 10:00-10:02; Tue 10:05-18:00", checks=True)
@example(per_minute=None, held=[0, 1], failures=3, skip=0, periods="Mon-Fri 08:00-18:00", checks=False)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(per_minute=st.one_of(st.none(), st.integers(1, 4)),
       held=st.lists(st.integers(0, 5), min_size=1, max_size=6),  # minutes after T0 each item is held until
       failures=st.integers(0, 3),  # the server refuses the first attempts for now (451): retries wait
       skip=st.integers(0, 3),  # fake instants the worker runs before the preview is made
       periods=st.sampled_from(["Mon-Fri 08:00-18:00", "Tue 10:00-10:02; Tue 10:05-18:00"]),
       checks=st.booleans())
def test_the_worker_sends_every_item_when_the_preview_said(per_minute: int | None, held: list[int], failures: int,
                                                           skip: int, periods: str, checks: bool) -> None:
    """The preview is made once, at an idle moment after the refused attempts (so items wait out
    their retries) and `skip` instants in (so a paced pass may be half done); from then on every
    item arrives at the instant it promised, and nothing else arrives."""
    with each_example(), tempfile.TemporaryDirectory() as tmp, FakeMail(seed=1) as fm, \
            open_practice(Path(tmp) / "data") as p:
        configure(p, fm)
        if checks:
            configure_incoming(p, fm)
        p.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": str(per_minute is not None),
                             "pacing.per_minute": str(per_minute or 40), "schedule.periods": periods,
                             "schedule.check_every_minutes": "2"})
        clock = SteppingClock(T0)
        engine = Engine(p, clock)
        engine.smtp_timeout = 10.0
        for i, minutes in enumerate(held):
            engine.outbox.add_draft(draft(subject=f"Held {i}"), clock.now(),
                                    deliver_after=T0 + timedelta(minutes=minutes, seconds=7 * i))
        if failures:
            fm.faults.add("smtp", "mail", "reply", code=451, times=failures)
        seen, promised, arrivals = 0, None, {}
        engine.start()
        try:
            for steps in range(2000):
                clock.settle()
                sent = fm.sent()
                for m in sent[seen:]:
                    arrivals[message_from_bytes(m["data"])["Message-ID"]] = clock.now()
                seen = len(sent)
                attempts = sum(r.get("attempts", 0) for r in engine.outbox.list())
                if promised is None and attempts == failures and steps >= skip:
                    promised, arrivals = _promised(engine, clock.now()), {}
                if seen == len(held):
                    break
                clock.step()
        finally:
            engine.stop()
    assume(promised is not None or steps >= skip)  # all sent before the `skip`th instant: nothing left to promise
    assert promised is not None and arrivals == promised
