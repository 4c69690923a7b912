"""The one way engine events reach the GUI: re-emitted as Qt signals.

The engine calls `deliver` from its own thread; Qt queues each signal to the
GUI thread because the bridge lives there. Nothing else crosses the line.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from kiosk.workers import Answers, answers_of, background


class EngineBridge(QObject):
    service_state = pyqtSignal(dict)
    new_mail = pyqtSignal(dict)
    outbox_changed = pyqtSignal(dict)
    prompt_due = pyqtSignal(dict)  # {"item": OutboxItem}: the worker asks "send this confirmation now?"
    prompt_withdrawn = pyqtSignal(dict)  # {"item", "rid", "answered"}: answered elsewhere (or gone): no more asked

    def deliver(self, name: str, details: dict[str, Any]) -> None:
        signal = {"service_state": self.service_state, "new_mail": self.new_mail,
                  "outbox_changed": self.outbox_changed, "prompt_due": self.prompt_due,
                  "prompt_withdrawn": self.prompt_withdrawn}.get(name)
        if signal is not None:
            signal.emit(dict(details))


class Job:
    """A job asked for off the GUI thread (what a caller keeps to know it asked)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn


_answers: Answers | None = None  # the answers of jobs asked without an owner, made on the GUI thread


def run_in_background(fn: Any, on_done: Any, on_failed: Any, owner: QObject | None = None) -> Job:
    """Run a slow call (network, large query) on a background thread (kiosk/workers.py); its
    result or exception comes back to `on_done` or `on_failed` on the GUI thread. `owner`:
    the widget whose handlers they are; once it is closed and deleted they are not called."""
    global _answers
    if owner is None and _answers is None:
        _answers = Answers()
    answers = answers_of(owner) if owner is not None else _answers
    assert answers is not None
    background.run(fn, answers, on_done, on_failed)
    return Job(fn)
