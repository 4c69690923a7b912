"""The outbox journal's group fsyncs run beside the send pass, not in it: a slow disk must
not hold up each send (the SMS bench's overhead), yet every line still gets its fsync, never
on a closed file, and the syncing thread ends when idle and comes back when asked."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from engine.service import outbox_journal
from engine.service.outbox_journal import Journal


def wait_for(what: str, done: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.01)


def test_fsyncs_run_off_the_senders_thread_and_the_syncer_comes_back(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the OS call watched, then made
        os.fstat(fd)  # raises on a closed file: a sync must never meet one
        calls.append((threading.current_thread().name, os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(outbox_journal.os, "fsync", fsync)
    monkeypatch.setattr(outbox_journal, "SYNC_EVERY", 0.0)
    monkeypatch.setattr(outbox_journal, "SYNCER_IDLE", 0.05)
    journal = Journal(tmp_path / "outbox.journal")
    me = threading.current_thread().name
    for rid in range(5):
        journal.append({"id": rid, "event": "attempt", "at": "2026-11-24T09:00:00+00:00"}, sync=False)
        journal.append({"id": rid, "event": "delivered", "at": "2026-11-24T09:00:01+00:00"})
    wait_for("an fsync of all ten lines", lambda: any(size == (tmp_path / "outbox.journal").stat().st_size
                                                      for _, size in calls))
    assert calls and all(name != me for name, _ in calls), calls  # never on the sender's thread
    wait_for("the idle syncer to end", lambda: journal._syncer is None)  # noqa: SLF001
    before = len(calls)
    journal.append({"id": 9, "event": "delivered", "at": "2026-11-24T09:00:02+00:00"})
    wait_for("a new syncer's fsync", lambda: len(calls) > before)
    journal.close()
    journal.sync()  # after close: nothing to sync, no error
    assert [e["id"] for e in journal.read()] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 9]
