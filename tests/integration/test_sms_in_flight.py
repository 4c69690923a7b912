"""A text in flight when the engine was killed (SIGKILL mid-send, as tests/e2e/test_sms_crash.py
does it: claimed, its attempt journalled, no outcome) is handled as the email outbox handles its
in-flight item: at start-up `Outbox.recover` flags it and puts it back to ready, the worker sends
it once more (the one resend), and then rests until its next instant. The real worker on the fake
clock; the fake provider's records (sends) and the clock's count of the worker's sleeps (wakes)
are the witnesses: a worker woken again and again for the stuck text would sleep far more often
than the instants it is stepped through."""

from __future__ import annotations

from pathlib import Path

from engine.service.engine import Engine
from engine.service.outbox import Outbox
from engine.service.outbox_journal import ATTEMPT
from tests.integration.helpers import configure, open_practice
from tests.integration.stepping import SteppingClock
from tests.integration.test_sms import configure_sms
from tests.integration.test_sms_pacing import T0
from tools.fakemail import FakeMail

STEPS = 12


def test_a_text_in_flight_at_a_kill_is_sent_once_more_and_the_worker_rests(tmp_path: Path, fakemail: FakeMail) -> None:
    data = tmp_path / "data"
    with open_practice(data) as p:
        configure(p, fakemail)
        configure_sms(p, fakemail)
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Fri 08:00-18:00",
                             "sms.quiet_hours": "", "sms.per_minute": "2"})
        outbox = Outbox(p.store)
        sender = p.settings.get("sms.sender")
        stuck = outbox.add_sms("+447700900001", "in flight", T0, sender=sender, parts=1, automatic=True)
        outbox.add_sms("+447700900002", "waiting", T0, sender=sender, parts=1, automatic=True)
        outbox.claim([stuck], T0)  # what the killed pass left: sending, its attempt journalled, no outcome
        outbox._journal({"id": stuck, "event": ATTEMPT, "at": T0.isoformat()})  # noqa: SLF001
        outbox.sync_journal()
        outbox._journal_file.close()  # noqa: SLF001 - the process is gone: nothing folded
        assert outbox.get(stuck)["status"] == "sending"
    with open_practice(data) as p:
        clock = SteppingClock(T0)
        engine = Engine(p, clock)
        engine.start()
        try:
            clock.settle()
            waits = clock.waits
            for _ in range(STEPS):
                clock.step()
                clock.settle()
            woken = clock.waits - waits
            items = {r["text"]: r for r in engine.outbox.list()}
        finally:
            engine.stop()
    bodies = [m["body"] for m in fakemail.sms.messages("outbound")]
    assert sorted(bodies) == ["in flight", "waiting"]  # the one resend, nothing more
    assert items["in flight"]["status"] == "sent" and items["in flight"].get("resent_after_crash") is True
    assert not items["waiting"].get("resent_after_crash")
    assert woken <= STEPS + 1, woken  # one sleep per instant stepped to: no wake-ups for the stuck text
