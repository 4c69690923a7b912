"""Work off the GUI thread on Python threads; the answers come back on the GUI thread in batches.

Why not QThreadPool with a signal object per job, as before (issue 15, the kiosk's stalls
during a Send/Receive): every time the GUI thread takes the GIL from inside Qt it may wait a
whole switch interval (5 ms) for it while the engine's Python runs, and the old way took it
many times per job: QThreadPool.start lets go of the GIL (PyQt marks it so) at the moment it
wakes a pool thread that wants it at once; each job's signal object was made and connected
on the GUI thread (two slot proxies); each answer came as its own queued event whose Python
slot took the GIL from inside Qt's loop, and whose argument took it again to be released.
perf (uprobes on CPython's take_gil) showed each of those among the GUI thread's waits.

Here a job is an append to a list under a lock (the GIL kept); a Python thread takes it and
puts its answer on the owner's list of answers; one signal, emitted only when that list was
empty, has the GUI thread run every answer waiting, in the order they came, in one call.

An owner's answers die with it (they are a child QObject of the owner: a closed window's
late answers are dropped by Qt, as its signal objects' were).
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, Qt, pyqtSignal

Handler = Callable[[Any], None]
EXPIRE = 30.0  # seconds a thread waits for work before it ends (QThreadPool's own expiry)


class Answers(QObject):
    """Answers put here from any thread run on the GUI thread (this object lives there)."""

    arrived = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._waiting: list[tuple[Handler, Any]] = []
        self.arrived.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def put(self, handler: Handler, value: Any) -> None:
        """Any thread: `handler(value)` will run on the GUI thread, after those put before it."""
        with self._lock:
            first = not self._waiting
            self._waiting.append((handler, value))
        if first:  # the rest join the batch this signal will run
            try:
                self.arrived.emit()
            except RuntimeError:  # the owner was closed and deleted: its answers go with it
                if not sip.isdeleted(self):
                    raise

    def _run(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        for handler, value in batch:
            owner = getattr(handler, "__self__", None)
            if isinstance(owner, sip.simplewrapper) and sip.isdeleted(owner):
                continue  # a widget closed meanwhile (a connected slot of it would not run either)
            try:
                handler(value)
            except Exception:  # noqa: BLE001 - as an exception in a slot: reported, the next answers still run
                sys.excepthook(*sys.exc_info())


def answers_of(owner: QObject) -> Answers:
    """The owner's answers (made on first use, on the GUI thread, as the owner's child)."""
    found = owner.findChild(Answers, "answers", Qt.FindChildOption.FindDirectChildrenOnly)
    if found is None:
        found = Answers(owner)
        found.setObjectName("answers")
    return found


class Workers:
    """Up to `threads` Python threads taking jobs first come, first served; a thread is started
    when every one is busy and ends after EXPIRE seconds without work."""

    def __init__(self, threads: int, name: str) -> None:
        self.most, self.name = threads, name
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)  # a job was queued: one idle thread takes it
        self._all_done = threading.Condition(self._lock)  # a job finished: `wait` looks again
        self._queue: deque[tuple[Callable[[], Any], Answers, Handler, Handler]] = deque()
        self._threads = self._idle = self._busy = 0

    def run(self, fn: Callable[[], Any], answers: Answers, done: Handler, failed: Handler) -> None:
        with self._lock:
            self._queue.append((fn, answers, done, failed))
            start = len(self._queue) > self._idle and self._threads < self.most
            if start:
                self._threads += 1
            else:
                self._work_ready.notify()
        if start:
            threading.Thread(target=self._work, name=f"{self.name}-{self._threads}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
                while not self._queue:
                    if not self._work_ready.wait(EXPIRE) and not self._queue:
                        self._idle -= 1
                        self._threads -= 1
                        return
                self._idle -= 1
                self._busy += 1
                fn, answers, done, failed = self._queue.popleft()
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - handed to the GUI thread
                answers.put(failed, exc)
            else:
                answers.put(done, result)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._all_done.notify_all()

    def wait(self, seconds: float) -> bool:
        """Every job asked for has run (True), or `seconds` went by first."""
        with self._lock:
            return self._all_done.wait_for(lambda: not self._queue and not self._busy, seconds)


background = Workers(4, "kiosk-background")  # run_in_background's: a pass, a content read, a test of settings
