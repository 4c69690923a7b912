"""The outbox's append-only journal of send outcomes (one line per attempt and per outcome).

Why a file of its own: a send pass records thousands of outcomes, and writing each into the
partitioned records would rewrite a partition per send. A line appended here is written at once
(a killed process loses nothing: the kernel keeps it) and fsynced in groups; the Outbox folds the
lines into its records every so often and at the end of a pass (see engine/service/outbox.py).

The group fsyncs run on a small thread of their own, beside the pass: on a busy disk one fsync
can take longer than a dozen sends, and the pass need not wait for it (a kill loses nothing
either way; what the fsync protects against is a power cut, and its cadence stays the same).
`sync()` and a fold still wait for theirs.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

SYNC_EVERY = 0.02  # seconds between journal fsyncs during a pass
ATTEMPT = "attempt"  # journalled just before an item's bytes go out
SYNCER_IDLE = 2.0  # seconds the syncing thread waits for another request before it ends


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._last_sync = 0.0
        self._fd_lock = threading.Lock()  # a sync in flight never meets a closed (or reused) fd
        self._syncer_lock = threading.Lock()
        self._wanted = threading.Event()
        self._syncer: threading.Thread | None = None

    def append(self, entry: dict[str, Any], sync: bool = True) -> None:
        """Append one line. Outcomes are fsynced in groups, at most SYNC_EVERY apart (by the syncing
        thread), and always at a fold: only a power cut can lose the last few, and then those items
        are sent again (at-least-once still holds; they are never lost)."""
        if self._fd is None:
            with self._fd_lock:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if entry.keys() == {"id", "event", "at"}:  # the common lines, without json's overhead
            line = f'{{"id": {int(entry["id"])}, "event": "{entry["event"]}", "at": "{entry["at"]}"}}\n'
        else:
            line = json.dumps(entry) + "\n"
        os.write(self._fd, line.encode())
        if sync:
            now = time.monotonic()
            if now - self._last_sync >= SYNC_EVERY:
                self._last_sync = now
                self._sync_behind()

    def _sync_behind(self) -> None:
        """Ask the syncing thread for an fsync (started when none is waiting)."""
        with self._syncer_lock:
            self._wanted.set()
            if self._syncer is None:
                self._syncer = threading.Thread(target=self._sync_loop, name="practicemail-journal-sync",
                                                daemon=True)
                self._syncer.start()

    def _sync_loop(self) -> None:
        while True:
            if not self._wanted.wait(SYNCER_IDLE):
                with self._syncer_lock:  # no request lost: one made now finds no thread and starts one
                    if not self._wanted.is_set():
                        self._syncer = None
                        return
                continue
            self._wanted.clear()
            self.sync()

    def sync(self) -> None:
        with self._fd_lock:
            if self._fd is not None:
                os.fsync(self._fd)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text("utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                break  # a torn last line: the outcome it described was not acknowledged
        return entries

    def clear(self, had_entries: bool) -> None:
        """Close and remove the file (its lines are folded into the records)."""
        self.close()
        if had_entries or self.path.exists():
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._fd_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
