"""`Engine.stop()` while the worker waits for the SMS provider's answer (which can take the call's
whole 20 s timeout): the call is cut from the stopping thread and the worker has ended when stop
returns; a restart never runs a new worker beside an old one, which would take the old one's text
in flight for a crash's and send it again beside it.

The real worker (fake clock) against the fake provider, whose `hang` fault takes the text and
never answers. Witnesses: the worker thread itself, and the provider's record of texts taken."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.errors import ServiceUnavailable
from engine.service.engine import Engine
from tests.backends import Backend
from tests.integration.helpers import configure, draft
from tests.integration.stepping import SteppingClock
from tests.integration.test_sms import configure_sms
from tests.integration.test_sms_pacing import T0
from tools.fakemail import FakeMail


def _engine(p, fakemail: FakeMail) -> tuple[Engine, SteppingClock]:  # noqa: ANN001 - a Practice
    configure(p, fakemail)
    configure_sms(p, fakemail)
    p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Fri 08:00-18:00",
                         "sms.quiet_hours": "", "sms.per_minute": "2"})
    clock = SteppingClock(T0)
    return Engine(p, clock), clock


def test_stop_cuts_a_hung_sms_call_and_the_restart_sends_nothing_twice(backend: Backend, fakemail: FakeMail) -> None:
    with backend.practice() as p:
        engine, clock = _engine(p, fakemail)
        rid = engine.outbox.add_sms("+447700900001", "see you soon", T0, sender=p.settings.get("sms.sender"),
                                    parts=1, automatic=True)
        fakemail.faults.add("http", "sms", "hang", times=1)
        engine.start()
        first = engine._thread  # noqa: SLF001 - the witness: the worker thread itself
        assert first is not None
        try:
            fakemail.sms.wait_for_sent(1)  # the provider took it; its answer never comes
            engine.stop()
            alive_after_stop = first.is_alive()
            engine.start()
            clock.settle()
            clock.set(T0 + timedelta(seconds=45))  # past the text pacing's next slot, before a retry's backoff ends
            clock.settle()
            workers = [t for t in (first, engine._thread) if t is not None and t.is_alive()]  # noqa: SLF001
            taken = len(fakemail.sms.messages("outbound"))
            item = engine.outbox.get(rid)
        finally:
            engine.stop()
    assert (alive_after_stop, len(workers), taken) == (False, 1, 1)  # one worker; the text not sent beside the call
    assert item["status"] == "ready" and "stopped before the SMS provider answered" in item["last_error"], item


def test_a_restart_waits_for_a_worker_nothing_can_cut_and_refuses_in_one_line(tmp_path, fakemail: FakeMail) -> None:
    """A worker stuck where no connection can be cut (here: in a listener of the engine's events,
    on its own thread) outlives stop(): start() then refuses, saying so, and works once it ends."""
    from tests.integration.helpers import open_practice

    with open_practice(tmp_path / "data") as p:
        engine, clock = _engine(p, fakemail)
        release, held = threading.Event(), threading.Event()

        def listener(name: str, _details: dict) -> None:
            if name == "outbox_changed":
                held.set()
                release.wait(30)

        engine.subscribe(listener)
        engine.outbox.add_draft(draft(), T0, automatic=True)
        engine.start()
        first = engine._thread  # noqa: SLF001
        assert first is not None
        try:
            assert held.wait(30)
            engine.stop(timeout=0.2)
            assert first.is_alive()
            with pytest.raises(ServiceUnavailable) as refused:
                engine._old_worker_gone(wait=0.2)  # noqa: SLF001 - what start() runs first, with a short wait
            assert "\n" not in str(refused.value.message) and "not finished" in refused.value.message
            with pytest.raises(ServiceUnavailable):
                engine.start()  # waits its 5 s, then refuses: no second worker beside the first
            assert not engine.running and first.is_alive()
            release.set()
            engine.start()
            assert not first.is_alive() and engine.running
            clock.settle()
        finally:
            release.set()
            engine.stop()
    assert len(fakemail.sent()) == 1
