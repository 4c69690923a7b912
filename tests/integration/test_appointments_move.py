"""`appointments move` takes only what `book` takes: a length of 1 to 720 minutes, a real
date and time. A refused move is one line, exit 1, and changes nothing (issue 14, finding 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InputInvalid
from engine.service.demo import load_demo
from engine.service.outbox import Outbox
from engine.service.reminders import Reminders
from tests.integration.helpers import open_practice
from tests.unit.test_cli import pm

BAD_MINUTES = ["-30", "0", "721", "100000000", "-0"]


def state(data: Path, aid: str) -> tuple[dict, int]:  # type: ignore[type-arg]
    with open_practice(data) as p:
        rem = Reminders(p, Outbox(p.store))
        appt = {k: v for k, v in rem.get(aid).items() if k in ("start", "minutes", "version", "status")}
        return appt, len(rem.outbox.list())


@pytest.fixture
def booked(data_dir: Path) -> str:
    with open_practice(data_dir) as p:
        load_demo(p)
        p.settings.set_many({"reminders.prompt_before_send": "false"})
    out = pm("appointments", "book", "--patient", "P033", "--start", "2026-12-03T14:00", "--minutes", "30",
             "--json", data=data_dir)
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["id"])


@pytest.mark.parametrize("minutes", BAD_MINUTES)
def test_move_refuses_a_length_book_refuses(data_dir: Path, booked: str, minutes: str) -> None:
    before = state(data_dir, booked)
    book = pm("appointments", "book", "--patient", "P033", "--start", "2026-12-04T14:00", "--minutes", minutes,
              data=data_dir)
    move = pm("appointments", "move", booked, "--start", "2026-12-03T15:00", "--minutes", minutes, data=data_dir)
    for out in (book, move):
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        assert "minutes" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert state(data_dir, booked) == before  # nothing stored, nothing queued


def test_move_refuses_a_start_that_is_not_a_date(data_dir: Path, booked: str) -> None:
    before = state(data_dir, booked)
    out = pm("appointments", "move", booked, "--start", "2026-13-03T15:00", data=data_dir)
    assert out.returncode == 1 and "Traceback" not in out.stderr and state(data_dir, booked) == before


def test_a_good_move_still_moves(data_dir: Path, booked: str) -> None:
    out = pm("appointments", "move", booked, "--start", "2026-12-03T15:00", "--minutes", "45", data=data_dir)
    assert out.returncode == 0, out.stderr
    appt, _ = state(data_dir, booked)
    assert appt["minutes"] == 45 and appt["version"] == 2 and appt["start"].startswith("2026-12-03T15:00")


def test_the_service_refuses_it_too(data_dir: Path, booked: str) -> None:
    from datetime import datetime, timezone

    with open_practice(data_dir) as p:
        rem = Reminders(p, Outbox(p.store))
        with pytest.raises(InputInvalid, match="minutes"):
            rem.move(booked, "2026-12-03T15:00", datetime.now(timezone.utc), minutes=-30)
