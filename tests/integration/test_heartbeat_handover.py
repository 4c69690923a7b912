"""A service that stops after another took over (a standby, once the first lost its writer's lock)
must not write "stopped" over the running service's beat: every desk's light would go grey while
email runs. Both backends; two engines on one store stand for the two machines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from tests.backends import Backend

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def test_a_stopping_service_leaves_its_successor_s_beat_alone(backend: Backend) -> None:
    with backend.practice() as p:
        clock = FakeClock(T0)
        old, new = Engine(p, clock), Engine(p, clock)
        old.start()
        try:
            clock.advance(timedelta(seconds=30))
            new.start()  # took over: its first beat is the record now
            clock.advance(timedelta(seconds=30))
        finally:
            old.stop()  # the old one's stop comes last
        try:
            record = new.heartbeat.record() or {}
            assert record["state"] != "stopped", "the old service's stop masked the running one"
            assert record["at"] == (T0 + timedelta(seconds=30)).isoformat()  # the successor's beat stands
        finally:
            new.stop()
        record = new.heartbeat.record() or {}
        assert record["state"] == "stopped"  # a service's own stop still says so
        assert [h["state"] for h in record["history"] if h.get("event") == "state"][-1] == "stopped"
