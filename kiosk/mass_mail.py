"""The mass-email screen (before it, `compose --all` at the command line only): a template,
the patients (everyone, those with a recall due, or those a search finds), the count before
anything is queued ("24 emails to 27 patients; 3 without an address: ..."), and a question
before the queueing. The emails go through App.mass_email: Composer.mass and the outbox's
gate, the CLI's own path, so one family's address never gets another's email.

The count and the queueing run on the desk's jobs thread (kiosk/jobs.py): at 20,000 patients
"Every patient" read and grouped them all, on the GUI thread, at every keystroke of the search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLineEdit,
                             QRadioButton, QVBoxLayout, QWidget)

from engine.core import templates as tpl
from engine.service.app import App
from kiosk import plain
from kiosk.jobs import Jobs, Refresher
from kiosk.widgets import keyed_box

WHO = (("all", "Every patient"), ("recall", "Patients with a recall due"), ("search", "Patients found by a search"))


class MassMail(QDialog):
    def __init__(self, app: App, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mass Email")
        self.app, self.jobs = app, jobs
        self.result = None  # Composer's MassResult once queued
        self.counted: tuple[list[str], Any] = ([], None)  # the patients and their preview, as shown
        self.counting = Refresher(jobs, self._count_work, self._counted, self._failed)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.template = QComboBox()
        self.template.addItem("(choose the template)", "")
        for t in app.templates.list():
            if t.kind == tpl.EMAIL:
                self.template.addItem(plain.shown(t.description or t.code), t.code)
        form.addRow("Template", self.template)
        self.who = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        column = QVBoxLayout()
        for key, words in WHO:
            button = QRadioButton(words)
            self.who.addButton(button)
            self.choices[key] = button
            column.addWidget(button)
        self.choices["all"].setChecked(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("name, date of birth, phone or email")
        self.search.setClearButtonEnabled(True)
        row = QHBoxLayout()
        row.addSpacing(24)
        row.addWidget(self.search)
        column.addLayout(row)
        form.addRow("To", column)
        layout.addLayout(form)
        self.count = plain.label(wrap=True)
        self.count.setStyleSheet("font-weight: bold")
        layout.addWidget(self.count)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.queue = buttons.addButton("Queue...", QDialogButtonBox.ButtonRole.AcceptRole)
        self.queue.setToolTip("Asks first; the emails then go out paced, like every email")
        buttons.accepted.connect(self.queue_emails)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
        self.template.currentIndexChanged.connect(self.update_count)
        self.who.buttonToggled.connect(lambda *_: self.update_count())
        self.search.textChanged.connect(self._searched)
        self.update_count()
        self.resize(560, 360)

    def _searched(self) -> None:
        if self.search.text().strip():
            self.choices["search"].setChecked(True)
        self.update_count()

    def _count_work(self) -> Callable[[], tuple[list[str], Any]]:
        """The choice as it is now (GUI thread); the patients and the preview read on the jobs thread."""
        recall, text = self.choices["recall"].isChecked(), self.search.text().strip()
        search = self.choices["search"].isChecked()

        def work() -> tuple[list[str], Any]:
            if recall:
                ids = self.app.recall_patients()
            elif search:  # every match: a search is not cut at the first 200 for a mass email
                ids = [p.id for p in self.app.patients(text, limit=10**9)] if text else []
            else:
                ids = [p.id for p in self.app.patients()]
            return ids, self.app.mass_preview(ids)
        return work

    def update_count(self) -> None:
        """The emails, the patients they reach, and who has no address; Queue only with a template
        and someone, once counted."""
        self.queue.setEnabled(False)
        self.count.setText("Counting...")
        self.problem.setText("" if self.template.currentData() else "Choose the template.")
        self.counting.request()

    def _counted(self, counted: tuple[list[str], Any]) -> None:
        if self.counting.again:  # the choice changed meanwhile: its count follows
            return
        self.counted = ids, preview = counted
        self.count.setText(preview.describe() + "." if ids else "No patients chosen.")
        self.queue.setEnabled(bool(self.template.currentData()) and preview.emails > 0)

    def _failed(self, exc: Exception) -> None:
        self.count.setText("")  # not "Counting..." beside the problem, as if the count were still coming
        self.problem.setText(f"Could not count the patients: {getattr(exc, 'message', None) or exc}")

    def confirm(self, text: str) -> bool:
        return plain.ask(self, "Queue the emails", text)

    def queue_emails(self) -> None:
        """The patients counted and shown, asked first; nothing is queued on No. Queued on the jobs thread."""
        ids, preview = self.counted
        if not self.queue.isEnabled() or preview is None:
            return
        name = self.template.currentText()
        if not self.confirm(f"Queue {preview.emails} email{'s' if preview.emails != 1 else ''} "
                            f"\"{name}\" to {preview.patients} patients? They go out paced over the next passes."):
            return
        self.queue.setEnabled(False)
        self.count.setText("Queueing...")
        code = self.template.currentData()
        self.jobs.run(lambda: self.app.mass_email(code, ids), self._queued, self._not_queued)

    def _queued(self, result: Any) -> None:
        self.result = result
        self.count.setText(f"Queued {result.queued} email{'' if result.queued == 1 else 's'}.")

    def _not_queued(self, exc: Exception) -> None:
        self.count.setText("")
        self.problem.setText(f"Nothing was queued: {getattr(exc, 'message', None) or exc}. {getattr(exc, 'hint', '')}"
                             .strip())
        self.queue.setEnabled(True)
