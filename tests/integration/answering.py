"""Fixtures for tests where mail goes out and its answers come back (bounces, calendar answers):
the demo practice confirming at once and receiving over the fake IMAP server, the fake clock,
and the engine on it. Import the fixtures by name into a test module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
ANGUS = "P033"


@pytest.fixture
def practice(practice: Practice, fakemail: FakeMail) -> Practice:
    practice.settings.set_many({"reminders.prompt_before_send": "false", "reminders.confirmation_delay_minutes": "0"})
    configure_incoming(practice, fakemail, "imap")
    return practice


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(practice: Practice, clock: FakeClock) -> Iterator[Engine]:
    e = Engine(practice, clock)
    e.smtp_timeout = 5
    yield e
    e.stop()
