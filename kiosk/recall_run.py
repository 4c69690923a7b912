"""Starting a recall run at the desk (issue 18; before it, `practicemail recalls run` only): from
the recall list, for a group allowed mass email. Due before (end of next month unless changed)
and a location (all, or one); the engine's own dry run first (how many patients, messages by
email and by text, the families merged, who is skipped and why), then "Queue N messages",
asked first. Both run on the kiosk's jobs thread (kiosk/jobs.py): a run of thousands writes in
chunks and the GUI never waits for it. The outbox then shows the items, each with its clock
until its deliver-after time (the stagger: recalls.per_hour)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

from PyQt6.QtCore import QDate
from PyQt6.QtWidgets import QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain
from kiosk.jobs import Jobs
from kiosk.widgets import ACCEPT_KEY, keyed_box

SHOWN = 20  # families and skipped patients listed by name; the rest counted


def end_of_next_month(today: date) -> date:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def listed(lines: list[str]) -> str:
    more = len(lines) - SHOWN
    return "\n".join(["  " + plain.shown(x) for x in lines[:SHOWN]] + ([f"  and {more} more"] if more > 0 else []))


def describe(run: Any, zone: tzinfo) -> str:
    """The dry run in the desk's words."""
    head = (f"{plural(run.patients, 'patient')}: {plural(len(run.messages), 'message')}, "
            f"{run.emails} by email and {run.texts} by text message.")
    parts = [head]
    if run.families:
        n = len(run.families)
        parts.append(f"{n} {'family' if n == 1 else 'families'} due together at one address: one message each\n"
                     + listed([", ".join(m.names) for m in run.families]))
    if run.skipped:
        parts.append(f"Skipped: {len(run.skipped)}\n" + listed([f"{name}: {why}" for name, why in run.skipped]))
    if run.messages:
        at = [datetime.fromisoformat(m.deliver_after).astimezone(zone) for m in (run.messages[0], run.messages[-1])]
        parts.append(f"Staggered: the first goes after {at[0]:%d %b %H:%M}, the last after {at[1]:%d %b %H:%M}.")
    return "\n\n".join(parts)


class RecallRunDialog(QDialog):
    """Preview (the engine's dry run), then Queue, asked first; Cancel queues nothing."""

    def __init__(self, app: App, jobs: Jobs, may: Callable[[], bool], changed: Callable[[], None] = lambda: None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run recalls")
        self.app, self.jobs, self.may, self.changed = app, jobs, may, changed
        self.preview: Any = None  # the dry run shown (RecallRun), for the choices as they are now
        self.result: Any = None  # the run once queued
        self.busy = False
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.due = QDateEdit()
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("d MMMM yyyy")
        last = end_of_next_month(app.now().astimezone(app.zone()).date())
        self.due.setDate(QDate(last.year, last.month, last.day))
        form.addRow("Due on or before", self.due)
        self.location = QComboBox()
        self.location.addItem("All locations", "")
        for name in app.recall_locations():
            self.location.addItem(plain.shown(name), name)
        form.addRow("Location", self.location)
        layout.addLayout(form)
        self.summary = plain.label(wrap=True)
        layout.addWidget(self.summary)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.show_preview = buttons.addButton("Preview", QDialogButtonBox.ButtonRole.ActionRole)
        self.queue = buttons.addButton("Queue messages", QDialogButtonBox.ButtonRole.ActionRole)
        self.queue.setToolTip("Asks first; the messages then go out staggered (recalls.per_hour)")
        self.show_preview.clicked.connect(lambda _c=False: self.ask_preview())
        self.queue.clicked.connect(lambda _c=False: self.queue_messages())
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons, {"Preview": "Alt+P", "Queue messages": ACCEPT_KEY}))
        self.due.dateChanged.connect(lambda _d: self.ask_preview())
        self.location.currentIndexChanged.connect(lambda _i: self.ask_preview())
        self.resize(560, 420)
        self.ask_preview()

    def choices(self) -> tuple[date, str]:
        return self.due.date().toPyDate(), self.location.currentData() or ""

    def ask_preview(self) -> None:
        """The engine's dry run for the choices, on the jobs thread; Queue waits for it."""
        self.preview = None
        self._set_queue()
        if self.result is not None:
            return
        self.summary.setText("Counting...")
        self.problem.setText("")
        chosen = self.choices()
        self.jobs.run(lambda: self.app.recall_preview(*chosen), lambda run: self._previewed(chosen, run),
                      self._failed)

    def _previewed(self, chosen: tuple[date, str], run: Any) -> None:
        if chosen != self.choices() or self.result is not None:  # changed meanwhile: its own preview follows
            return
        self.preview = run
        self.summary.setText(describe(run, self.app.zone()) if run.messages or run.skipped
                             else "Nobody is due a recall then.")
        self._set_queue()

    def _set_queue(self) -> None:
        n = len(self.preview.messages) if self.preview is not None else 0
        self.queue.setText(f"Queue {plural(n, 'message')}..." if self.preview is not None else "Queue messages")
        self.queue.setEnabled(n > 0 and not self.busy and self.result is None)

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        words = f"{exc.message}. {exc.hint}" if isinstance(exc, PracticeMailError) else str(exc)
        self.problem.setText(("Nothing was queued: " if self.preview is not None else "") + words)
        self._set_queue()

    def confirm(self, text: str) -> bool:
        return plain.ask(self, "Run recalls", text)

    def queue_messages(self) -> None:
        """Asked first (nothing queued on No); for a group allowed mass email only."""
        run = self.preview
        if run is None or not run.messages:
            return
        if not self.may():
            self.problem.setText("Running recalls is for a group allowed mass email: sign in first.")
            return
        due, _where = self.choices()
        if not self.confirm(f"Queue {plural(len(run.messages), 'recall message')} to "
                            f"{plural(run.patients, 'patient')} due on or before {due:%d %B %Y}? "
                            "They go out staggered, the first at the next pass."):
            return
        self.busy = True
        self._set_queue()
        self.summary.setText("Queueing...")
        chosen = self.choices()
        self.jobs.run(lambda: self.app.run_recalls(*chosen), self._queued, self._failed)

    def _queued(self, run: Any) -> None:
        self.busy = False
        self.result = run
        self.summary.setText(f"Queued {plural(run.queued, 'recall message')}; the outbox shows each with "
                             "its time." + (f"\n\nSkipped: {len(run.skipped)}\n" + listed(
                                 [f"{name}: {why}" for name, why in run.skipped]) if run.skipped else ""))
        self.cancel.setText("Close")
        self._set_queue()
        self.changed()
