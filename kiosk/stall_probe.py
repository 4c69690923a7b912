"""Measuring the GUI thread from outside the kiosk (tools/bench/kiosk.py): Qt stays here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QEventLoop, QTimer
from PyQt6.QtWidgets import QApplication


def application() -> QApplication:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([])


def process_events() -> None:
    application().processEvents()


def wait_for(signal: Any, done: Callable[[], bool]) -> None:
    """Run the event loop until `signal` fires, unless `done()` already holds: idle, no GIL
    held (a Python polling loop would take the GIL from the thread being waited for)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    if not done():
        loop.exec()
    signal.disconnect(loop.quit)


def run_soon(fn: Callable[[], None]) -> None:
    QTimer.singleShot(0, fn)


class Probe:
    """The longest gap between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer.start(5)

    def stop(self) -> None:
        self.timer.stop()
