"""The typed settings snapshot: parsed once per change, frozen, and never stale, whether the change
came through this object, another one on the same store, or another process's write."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta
from pathlib import Path

import pytest

from engine.core.periods import parse_periods
from engine.service.practice import Practice


@pytest.fixture
def practice(data_dir: Path):  # noqa: ANN201
    with Practice(data_dir, writer=True) as p:
        yield p


def test_the_snapshot_is_typed_and_frozen(practice: Practice) -> None:
    practice.settings.set_many({"schedule.periods": "Mon-Fri 08:00-18:00; Sat 09:00-12:00",
                                "schedule.check_times": "17:45, 12:30", "pacing.enabled": "yes",
                                "pacing.per_minute": "12", "outgoing.port": "465", "practice.timezone": "Europe/Paris"})
    snap = practice.settings.snapshot()
    s = snap.schedule
    assert s.periods == parse_periods("Mon-Fri 08:00-18:00; Sat 09:00-12:00")
    assert s.check_times == (time(12, 30), time(17, 45)) and s.check_every == timedelta(minutes=15)
    assert s.per_minute == 12 and snap.outgoing_port == 465 and str(snap.tz) == "Europe/Paris"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.per_minute = 1  # type: ignore[misc]
    practice.settings.set("pacing.enabled", "no")
    assert practice.settings.snapshot().schedule.per_minute is None  # pacing off: no cap at all
    assert practice.settings.snapshot().schedule.sms_per_minute is None  # texts: not paced unless set
    practice.settings.set("sms.per_minute", "7")  # the texts' own cap, whatever pacing.enabled says
    assert practice.settings.snapshot().schedule.sms_per_minute == 7


def test_parsed_once_per_change_and_made_again_after_one(practice: Practice) -> None:
    first = practice.settings.snapshot()
    assert practice.settings.snapshot() is first  # nothing changed: not parsed again
    practice.settings.set("schedule.periods", "Daily 07:00-21:00")
    second = practice.settings.snapshot()
    assert second is not first and len(second.schedule.periods) == 7
    assert practice.settings.snapshot() is second


def test_another_writer_s_change_is_seen(practice: Practice, data_dir: Path) -> None:
    """A second Settings on the same data (as another process's would be) writes; ours is not told
    through a listener, and its snapshot must still follow the stored values."""
    from engine.service.settings import Settings

    before = practice.settings.snapshot()
    other = Settings(practice.store, practice.settings._secrets)  # noqa: SLF001 - the same sealed secrets
    other.set("schedule.check_every_minutes", "5")
    assert before.schedule.check_every == timedelta(minutes=15)
    assert practice.settings.snapshot().schedule.check_every == timedelta(minutes=5)


def test_secrets_never_enter_the_snapshot(practice: Practice) -> None:
    practice.settings.set_many({"account.password": "hunter2-secret", "sms.secret": "tok-secret"})
    assert "secret" not in repr(practice.settings.snapshot())
