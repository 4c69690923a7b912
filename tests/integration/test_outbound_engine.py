"""The outbound engine against the fake SMTP server: after every failure the
outbox holds exactly the right states, and nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.adapters.clock import FakeClock
from engine.adapters.store import RID
from engine.core.status import derive
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.helpers import configure, draft, open_practice
from tests.integration.stepping import SteppingClock
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday, inside Mon-Fri 08:00-18:00 London


@pytest.fixture
def practice(data_dir: Path, fakemail: FakeMail) -> Iterator[Practice]:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        yield p


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(practice: Practice, clock: FakeClock) -> Iterator[Engine]:
    e = Engine(practice, clock)
    e.smtp_timeout = 2.0
    yield e
    e.stop()


def queue(engine: Engine, clock: FakeClock, n: int, **kw: object) -> list[int]:
    return [engine.outbox.add_draft(draft(subject=f"Item {i}"), clock.now(), **kw) for i in range(n)]  # type: ignore[arg-type]


def statuses(engine: Engine) -> dict[int, str]:
    return {r[RID]: r["status"] for r in engine.outbox.list()}


@pytest.mark.parametrize("code", [421, 451, 452])
def test_temporary_reply_retries_then_sends(engine: Engine, clock: FakeClock, fakemail: FakeMail, code: int) -> None:
    ids = queue(engine, clock, 2)
    fakemail.faults.add("smtp", "rcpt" if code == 452 else "mail", "reply", code=code, times=1)
    report = engine.send_receive_now()
    assert report["failed"] == 0 and len(report["errors"]) == 1 and report["errors"][0]["id"] == ids[0]
    first = engine.outbox.get(ids[0])
    assert first["status"] == "ready" and first["attempts"] == 1 and str(code) in first["last_error"]
    assert report["sent"] == 1 and engine.outbox.get(ids[1])["status"] == "sent"
    assert engine.send_receive_now()["sent"] == 1  # a manual pass retries during the backoff
    assert set(statuses(engine).values()) == {"sent"}
    assert len(fakemail.sent()) == 2


def test_552_fails_at_once_with_the_servers_words(engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    ids = queue(engine, clock, 3)
    fakemail.faults.add("smtp", "data", "reply", code=552, times=1)
    report = engine.send_receive_now()
    assert (report["sent"], report["failed"]) == (2, 1)
    item = engine.outbox.get(ids[0])
    assert item["status"] == "failed" and item["last_code"] == 552 and "larger than your provider" in item["last_hint"]
    assert engine.send_receive_now()["sent"] == 0  # failed items are never resent by a pass
    engine.outbox.reset_failed([], clock.now())
    assert engine.send_receive_now()["sent"] == 1
    assert len({m["data"] for m in fakemail.sent()}) == 3


def test_auth_refused_stops_the_account_not_the_items(engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    ids = queue(engine, clock, 3)
    fakemail.faults.add("smtp", "auth", "reject")
    report = engine.send_receive_now()
    assert report["sent"] == 0 and report["errors"][-1]["id"] is None and "password" in report["errors"][-1]["hint"]
    for rid in ids:
        item = engine.outbox.get(rid)
        assert item["status"] == "ready" and item["attempts"] == 0 and "535" in item["last_error"]
    assert derive(engine.heartbeat.record(), clock.now())["state"] == "failing"
    fakemail.faults.clear()
    practice = engine.practice
    practice.settings.set("account.password", fakemail.user().password)  # the manager re-enters it
    assert engine.send_receive_now()["sent"] == 3
    assert derive(engine.heartbeat.record(), clock.now())["state"] == "running"


def test_dropped_mid_data_counts_an_attempt_and_the_batch_goes_on(engine: Engine, clock: FakeClock,
                                                                    fakemail: FakeMail) -> None:
    ids = queue(engine, clock, 3)
    fakemail.faults.add("smtp", "data", "drop", times=1)
    report = engine.send_receive_now()
    assert report["sent"] == 2
    assert engine.outbox.get(ids[0])["attempts"] == 1 and engine.outbox.get(ids[0])["status"] == "ready"
    engine.send_receive_now()
    assert set(statuses(engine).values()) == {"sent"} and len(fakemail.sent()) == 3


def test_silent_server_past_the_timeout(engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    ids = queue(engine, clock, 1)
    engine.smtp_timeout = 0.5
    s = engine.smtp_settings()
    assert s.timeout == 0.5
    fakemail.faults.add("smtp", "any", "hang", times=None)
    report = engine.send_receive_now()
    error = report["errors"][-1]["error"]
    assert report["sent"] == 0 and ("stopped answering" in error or "did not answer" in error)
    assert engine.outbox.get(ids[0])["status"] == "ready"  # nothing lost


def test_drafts_wait_for_their_own_send(engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    (rid,) = queue(engine, clock, 1, as_draft=True)
    assert engine.send_receive_now()["sent"] == 0
    from engine.core.outbox import Event

    engine.outbox.apply(rid, Event.QUEUE, clock.now())
    assert engine.send_receive_now()["sent"] == 1


def test_automatic_mode_paces_sends_with_the_fake_clock(practice: Practice, fakemail: FakeMail) -> None:
    # This test used to read the server's count right after the first arrival, so it passed
    # whenever it looked before the burst's other sends landed. Now it reads the count only
    # when the worker is idle, waiting for a later instant: what arrived by then is all there is.
    practice.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": "true",
                                "pacing.per_minute": "2"})
    clock = SteppingClock(T0)
    engine = Engine(practice, clock)
    queue(engine, clock, 3)
    engine.start()
    try:
        clock.settle()
        counts = [len(fakemail.sent())]
        while len(fakemail.sent()) < 3:
            at = clock.step()
            clock.settle()
            counts.append(len(fakemail.sent()))
            assert at - T0 <= timedelta(seconds=60)
        assert counts == [1, 2, 3] and at == T0 + timedelta(seconds=60)  # one every 30 s, not a burst
        assert derive(engine.heartbeat.record(), clock.now())["state"] == "running"
    finally:
        engine.stop()
    assert derive(engine.heartbeat.record(), clock.now())["state"] == "stopped"


def test_nothing_automatic_outside_periods(practice: Practice, engine: Engine, clock: FakeClock,
                                           fakemail: FakeMail) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true"})
    clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc))  # Saturday: no period
    queue(engine, clock, 1)
    engine.start()
    clock.advance(timedelta(hours=1))
    assert engine.send_receive_now(timeout=10)["sent"] == 1  # manual still works (and waits for the worker)
    assert len(fakemail.sent()) == 1


def test_stop_returns_during_a_hung_connection(practice: Practice, engine: Engine, clock: FakeClock,
                                               fakemail: FakeMail) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true"})
    engine.smtp_timeout = 60
    (rid,) = queue(engine, clock, 1)
    fakemail.faults.add("smtp", "connect", "hang")
    opened = threading.Event()
    fakemail.faults.take = _notify_on_fault(fakemail.faults.take, opened)  # type: ignore[method-assign]
    engine.start()
    assert opened.wait(10)
    thread = engine._thread
    engine.stop()
    assert thread is not None and not thread.is_alive()
    assert engine.outbox.get(rid)["status"] == "ready"  # nothing lost


def _notify_on_fault(take, event: threading.Event):  # noqa: ANN001, ANN202
    """Tell the test when the server has taken the connection and decided to hang."""
    def wrapped(protocol: str, step: str, session: int = 0):  # noqa: ANN202
        fault = take(protocol, step, session)
        if fault is not None and step == "connect":
            event.set()
        return fault

    return wrapped
