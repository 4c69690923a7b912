"""The one way engine events reach the GUI: re-emitted as Qt signals.

The engine calls `deliver` from its own thread; Qt queues each signal to the
GUI thread because the bridge lives there. Nothing else crosses the line.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal


class EngineBridge(QObject):
    service_state = pyqtSignal(dict)
    new_mail = pyqtSignal(dict)
    outbox_changed = pyqtSignal(dict)
    prompt_due = pyqtSignal(dict)  # {"item": OutboxItem}: the worker asks "send this confirmation now?"

    def deliver(self, name: str, details: dict[str, Any]) -> None:
        signal = {"service_state": self.service_state, "new_mail": self.new_mail,
                  "outbox_changed": self.outbox_changed, "prompt_due": self.prompt_due}.get(name)
        if signal is not None:
            signal.emit(dict(details))


class JobSignals(QObject):
    """Made on the GUI thread, so what they are connected to runs there (queued from the worker)."""

    done = pyqtSignal(object)
    failed = pyqtSignal(object)


class Job(QRunnable):
    """Run a slow call (network, large query) off the GUI thread; results come back as signals."""

    def __init__(self, fn: Any, signals: "JobSignals | None" = None) -> None:
        """`signals`: made by the caller on the GUI thread and kept alive there (kiosk/jobs.py)."""
        super().__init__()
        self.fn = fn
        self.signals = signals if signals is not None else JobSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI as a signal
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


def run_in_background(fn: Any, on_done: Any, on_failed: Any) -> Job:
    job = Job(fn)
    job.signals.done.connect(on_done)
    job.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(job)
    return job
