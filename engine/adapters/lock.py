"""The writer's lock on a data folder.

One process writes a data folder at a time. The lock is an OS advisory lock
(`flock`) on the data folder itself (an open descriptor of the directory), so
the kernel releases it when the holder dies, even by SIGKILL, and nothing can
take it away by deleting a file: `rm writer.lock` under a running writer used
to let a second writer lock a fresh file of the same name. The folder cannot be
replaced while the writer's own files are in it.

`writer.lock` is kept only as a note of who holds the folder (pid, command,
since), written 0600, so the second writer is told which process to stop. On
Windows, which cannot lock a folder, the note file itself is locked; Windows
refuses to delete a file that is open, so it cannot be unlinked away either.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from engine.errors import StoreLocked

LOCK_NAME = "writer.lock"
_LOCK_THE_NOTE = sys.platform == "win32"

if sys.platform == "win32":  # pragma: no cover - the practice PC may run Windows
    import msvcrt

    def _open_lockable(folder: Path) -> int:
        return os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _open_lockable(folder: Path) -> int:
        return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def describe_holder(folder: Path) -> str:
    """Who holds the lock, as words, from the note the holder wrote (if it is still there)."""
    try:
        info = json.loads((folder / LOCK_NAME).read_text("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info:
        return "another practicemail process"
    return f"process {info.get('pid', '?')} ({info.get('command', 'practicemail')}, since {info.get('since', '?')})"


class WriterLock:
    def __init__(self, folder: Path, command: str) -> None:
        self.folder = folder
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = _open_lockable(self.folder)
        if not _try_lock(fd):
            os.close(fd)
            raise StoreLocked(
                f"the data folder {self.folder} is in use by {describe_holder(self.folder)}",
            )
        self._fd = fd
        record = {"pid": os.getpid(), "command": self.command, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        self._write_note(json.dumps(record).encode())

    def _write_note(self, data: bytes) -> None:
        """Best effort: the note only names the holder; the lock is the descriptor (a full disk
        must not stop a writer that can otherwise work, nor leave it half-open)."""
        try:
            if _LOCK_THE_NOTE and self._fd is not None:
                os.lseek(self._fd, 0, os.SEEK_SET)
                os.ftruncate(self._fd, 0)
                os.write(self._fd, data)
                return
            if not data and not (self.folder / LOCK_NAME).exists():
                return
            fd = os.open(self.folder / LOCK_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self._write_note(b"")
            _unlock(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
