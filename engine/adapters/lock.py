"""The writer's lock on a data folder.

One process writes a data folder at a time. The lock is an OS advisory lock
(`flock`) on `writer.lock`, so the kernel releases it when the holder dies, even
by SIGKILL: a stale lock can never block the next start. The file also records
who holds it, so the second writer is told which process to stop.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import IO

from engine.errors import StoreLocked

if sys.platform == "win32":  # pragma: no cover - the practice PC may run Windows
    import msvcrt

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


LOCK_NAME = "writer.lock"


def describe_holder(folder: Path) -> str:
    """Who holds the lock, as words, from what the holder wrote."""
    try:
        info = json.loads((folder / LOCK_NAME).read_text("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another practicemail process"
    return f"process {info.get('pid', '?')} ({info.get('command', 'practicemail')}, since {info.get('since', '?')})"


class WriterLock:
    def __init__(self, folder: Path, command: str) -> None:
        self.folder = folder
        self.command = command
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        f = open(self.folder / LOCK_NAME, "a+b")
        if not _try_lock(f):
            f.close()
            raise StoreLocked(
                f"the data folder {self.folder} is in use by {describe_holder(self.folder)}",
            )
        f.seek(0)
        f.truncate()
        record = {"pid": os.getpid(), "command": self.command, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        f.write(json.dumps(record).encode())
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is None:
            return
        try:
            self._file.seek(0)
            self._file.truncate()
            self._file.flush()
            _unlock(self._file)
        finally:
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None
