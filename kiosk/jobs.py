"""The desk's work off the GUI thread (DESIGN.md, Threads: "nothing slow ever runs on the GUI
thread"): the commands a click gives (mark read, tag, file, delete, restore, actioned, outbox
Delete/Restore/Reset) and the reads behind a refresh.

Why one thread for both: a command writes one store partition, and while Send/Receive files
mail into that partition the write waits for the worker's (a JSON dump and two fsyncs, up to
~100 ms); run on the GUI thread, that wait was the kiosk's longest stall. One thread keeps the
order of the clicks (a message's commands never race each other, there is one writer from the
desk) and a refresh asked for after a command reads what the command wrote.

The GUI shows a command's effect at once (`Pending`: a change laid over the rows, also over a
refresh that was read before the command ran) and takes it back when the command fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QModelIndex, QObject
from PyQt6.QtWidgets import QAbstractButton

from kiosk.workers import Answers, Workers

Change = Callable[[list[str]], "list[str] | None"]  # a row's cells as shown -> as they will be (None: gone)


class Jobs(QObject):
    """One worker thread, first come first served; answers come back on the GUI thread
    (kiosk/workers.py: a Python thread and batched answers, no GIL round trip per job)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workers = Workers(1, "kiosk-jobs")  # in the order clicked; one writer from the desk
        self.answers = Answers(self)  # dropped with the window, as its signal objects were
        self._waiting = 0  # asked for, not yet answered
        self.unhandled: Callable[[Exception], None] = lambda _exc: None

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None] | None = None,
            failed: Callable[[Exception], None] | None = None) -> None:
        self._waiting += 1

        def answer(handler: Callable[[Any], None] | None, value: Any) -> None:
            self._waiting -= 1
            if handler is not None:
                handler(value)

        self.workers.run(fn, self.answers, lambda value: answer(done, value),
                         lambda exc: answer(failed or self.unhandled, exc))

    def idle(self) -> bool:
        """Nothing asked for is still waiting for its answer (tests wait on this)."""
        return not self._waiting

    def finish(self, msecs: int = 5000) -> None:
        """Let what was clicked be written before the store closes (queued commands are kept)."""
        self.workers.wait(msecs / 1000)


class Refresher:
    """A view's refresh: `read()` runs on the GUI thread and returns the work (what the view
    shows, its filters, captured then); the work runs on the jobs thread; `fill` gets its
    answer on the GUI thread. Asked again while one is under way, it runs once more after it,
    never a queue of them (new mail during a pass asks many times)."""

    def __init__(self, jobs: Jobs, read: Callable[[], Callable[[], Any]], fill: Callable[[Any], None],
                 failed: Callable[[Exception], None] = lambda _exc: None) -> None:
        self.jobs, self.read, self.fill, self.failed = jobs, read, fill, failed
        self.busy = self.again = False

    def request(self) -> None:
        if self.busy:
            self.again = True
            return
        self.busy = True
        self.jobs.run(self.read(), self._done, self._failed)

    def _done(self, result: Any) -> None:
        self.fill(result)
        self._next()

    def _failed(self, exc: Exception) -> None:
        self.failed(exc)
        self._next()

    def _next(self) -> None:
        self.busy = False
        if self.again:
            self.again = False
            self.request()


class OneWrite:
    """A view's writes (a booking, a move, a cancellation) on the jobs thread, one at a time:
    while one runs its `buttons` take no click and the one clicked says what is under way
    ("Booking…"); a second asked for meanwhile is refused (a double click books once)."""

    def __init__(self, buttons: Iterable[QAbstractButton]) -> None:
        self.buttons = list(buttons)
        self.busy = False
        self._before: list[tuple[QAbstractButton, bool, str]] = []

    def start(self, jobs: Jobs, fn: Callable[[], Any], done: Callable[[Any], None],
              failed: Callable[[Exception], None], clicked: QAbstractButton | None = None, saying: str = "") -> bool:
        """`fn` asked of the jobs thread, its answer to `done` or `failed`; False: one is under way."""
        if self.busy:
            return False
        self.busy = True
        self._before = [(b, b.isEnabled(), b.text()) for b in self.buttons]
        for b in self.buttons:
            b.setEnabled(False)
        if clicked is not None and saying:
            clicked.setText(saying)
        jobs.run(fn, lambda value: self._end(done, value), lambda exc: self._end(failed, exc))
        return True

    def _end(self, handler: Callable[[Any], None], value: Any) -> None:
        self.busy = False
        if any(sip.isdeleted(b) for b in self.buttons):
            return  # the view was closed and deleted meanwhile: the store has the write, nothing to show
        for b, enabled, text in self._before:
            b.setEnabled(enabled)
            b.setText(text)
        handler(value)


class Pending:
    """Changes shown before their command has run, per row id: laid over every fill until
    the command answers (a refresh read just before the command must not undo the click)."""

    def __init__(self) -> None:
        self._changes: dict[Any, list[tuple[int, Change]]] = {}
        self._count = 0

    def add(self, rid: Any, change: Change) -> int:
        self._count += 1
        self._changes.setdefault(rid, []).append((self._count, change))
        return self._count

    def drop(self, rid: Any, token: int) -> None:
        left = [(t, c) for t, c in self._changes.get(rid, []) if t != token]
        if left:
            self._changes[rid] = left
        else:
            self._changes.pop(rid, None)

    def over(self, rows: list[tuple[Any, list[str]]], tips: list[str]) -> tuple[list[Any], list[str]]:
        """Rows (and their tooltips) as they will be once every pending command has run."""
        if not self._changes:
            return rows, tips
        out, out_tips = [], []
        for n, (rid, values) in enumerate(rows):
            shown: list[str] | None = list(values)
            for _token, change in self._changes.get(rid, []):
                shown = change(shown) if shown is not None else None
            if shown is not None:
                out.append((rid, shown))
                if tips:
                    out_tips.append(tips[n])
        return out, out_tips


def show_now(table: Any, rid: Any, change: Change) -> None:
    """A change on one row of a RecordTable at once: its cells, or the row taken out."""
    model = table.model_
    for n, (row_id, values) in enumerate(model.rows):
        if row_id != rid:
            continue
        shown = change(list(values))
        if shown is None:
            model.beginRemoveRows(QModelIndex(), n, n)
            del model.rows[n]
            if model.tips:
                model.tips = [t for i, t in enumerate(model.tips) if i != n]
            model.endRemoveRows()
        else:
            for column, (old, new) in enumerate(zip(values, shown)):
                if old != new:
                    model.set_text(n, column, new)
        return


def gone(_values: list[str]) -> None:
    """The row leaves the view (deleted, restored, filed or actioned away)."""
    return None


def cell(column: int, text: str) -> Change:
    def change(values: list[str]) -> list[str]:
        values[column] = text
        return values
    return change
