"""The log file on a disk that takes nothing more: its lines are dropped and counted, and
closing it does not raise (on PostgreSQL the change was committed before the log is closed)."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

from engine.adapters.logs import PrivateQuietFileHandler, forget_lost_lines, lost_lines

FULL = Path("/dev/full")  # every write to it fails with ENOSPC


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
def test_a_log_on_a_full_disk_closes_quietly_and_says_what_it_lost() -> None:
    forget_lost_lines()
    handler = PrivateQuietFileHandler(str(FULL), encoding="utf-8")
    record = logging.LogRecord("practicemail.store", logging.INFO, __file__, 1, "patient %s added", ("P900",), None)
    handler.handle(record)
    handler.close()  # raised ENOSPC: its buffer still held the line it could not flush
    count, reason = lost_lines()
    assert count >= 1 and reason == errno.ENOSPC
    forget_lost_lines()
    assert lost_lines() == (0, None)


def test_a_log_that_is_written_loses_nothing(tmp_path: Path) -> None:
    forget_lost_lines()
    handler = PrivateQuietFileHandler(str(tmp_path / "practicemail.log"), encoding="utf-8")
    handler.handle(logging.LogRecord("practicemail.store", logging.INFO, __file__, 1, "written", None, None))
    handler.close()
    assert lost_lines() == (0, None)
    assert "written" in (tmp_path / "practicemail.log").read_text("utf-8")
