"""An outbox item left in `sending` while the worker runs (here: the end-of-pass save failed on a
full disk, tests/integration/full_disk.py) is settled by the crash recovery's in-flight rule
(Outbox.recover: its journalled outcome folded in, so a text or email the server took is never
sent twice), or, while it cannot be saved, the worker backs off with the reason and the light stays
amber. It never plans the item as due now and wakes for it again and again (a busy loop).

The real worker on the fake clock, on both backends, for an email and for a text; the witnesses
are the fake servers' own records (how often each got the item), the heartbeat's state, and the
clock's count of the worker's sleeps: with time standing still a worker that is idle sleeps once;
one spinning for the stuck item sleeps without end (`settle(most_waits=...)` fails at once)."""

from __future__ import annotations

import pytest

from engine.service.engine import Engine
from tests.backends import Backend
from tests.integration.full_disk import FullDisk
from tests.integration.helpers import configure, draft
from tests.integration.stepping import SteppingClock
from tests.integration.test_sms import configure_sms
from tests.integration.test_sms_pacing import T0
from tools.fakemail import FakeMail

STEPS = 6
SPIN = 20  # sleeps with time standing still: far more than an idle worker's one


def _got(fakemail: FakeMail, channel: str) -> int:
    if channel == "sms":
        return len(fakemail.sms.messages("outbound"))
    return len(fakemail.sent())


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_an_item_left_in_sending_is_settled_by_the_in_flight_rule_and_never_woken_for_in_a_loop(
        backend: Backend, fakemail: FakeMail, channel: str) -> None:
    with backend.practice() as p:
        configure(p, fakemail)
        configure_sms(p, fakemail)
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Fri 08:00-18:00",
                             "sms.quiet_hours": "", "sms.per_minute": "2"})
        disk = FullDisk(p, backend)
        clock = SteppingClock(T0)
        engine = Engine(p, clock)
        if channel == "sms":
            rid = engine.outbox.add_sms("+447700900001", "see you soon", T0, sender=p.settings.get("sms.sender"),
                                        parts=1, automatic=True)
        else:
            rid = engine.outbox.add_draft(draft(), T0, automatic=True)
        engine.smtp_timeout = 10.0
        disk.fill()
        engine.start()
        try:
            clock.settle(most_waits=SPIN)  # the pass sent it, and its end-of-pass save failed
            assert _got(fakemail, channel) == 1
            assert engine.outbox.get(rid)["status"] == "sending"
            assert engine.heartbeat.current_state() == "failing"
            waits = clock.waits
            for _ in range(STEPS):  # the disk stays full: the worker backs off, and says so
                clock.step(most_waits=SPIN)
                clock.settle(most_waits=SPIN)
                assert engine.heartbeat.current_state() == "failing", "green while the outbox cannot be saved"
            assert clock.waits - waits <= STEPS + 1
            last = (engine.heartbeat.record() or {}).get("last_error") or {}
            assert "space" in str(last).lower(), last
            disk.free()
            for _ in range(STEPS):  # room again: settled at the next try, then the worker rests
                clock.step(most_waits=SPIN)
                clock.settle(most_waits=SPIN)
                if engine.outbox.get(rid)["status"] == "sent":
                    break
            item = engine.outbox.get(rid)
            assert item["status"] == "sent" and not item.get("resent_after_crash"), item["status"]
            assert engine.heartbeat.current_state() == "running"
            waits = clock.waits
            for _ in range(STEPS):
                clock.step(most_waits=SPIN)
                clock.settle(most_waits=SPIN)
            assert clock.waits - waits <= STEPS + 1
        finally:
            engine.stop()
    assert _got(fakemail, channel) == 1  # the server took it once: never sent again
