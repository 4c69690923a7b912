"""The mass-email screen (before it, `compose --all` at the command line only): a template,
the patients (everyone, those with a recall due, or those a search finds), the count before
anything is queued ("24 emails to 27 patients; 3 without an address: ..."), and a question
before the queueing. The emails go through App.mass_email: Composer.mass and the outbox's
gate, the CLI's own path, so one family's address never gets another's email."""

from __future__ import annotations

from PyQt6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLineEdit,
                             QRadioButton, QVBoxLayout, QWidget)

from engine.core import templates as tpl
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain

WHO = (("all", "Every patient"), ("recall", "Patients with a recall due"), ("search", "Patients found by a search"))


class MassMail(QDialog):
    def __init__(self, app: App, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mass Email")
        self.app = app
        self.result = None  # Composer's MassResult once queued
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
        layout.addWidget(buttons)
        self.template.currentIndexChanged.connect(self.update_count)
        self.who.buttonToggled.connect(lambda *_: self.update_count())
        self.search.textChanged.connect(self._searched)
        self.update_count()
        self.resize(560, 360)

    def _searched(self) -> None:
        if self.search.text().strip():
            self.choices["search"].setChecked(True)
        self.update_count()

    def patient_ids(self) -> list[str]:
        """The patients chosen, as the choice says."""
        if self.choices["recall"].isChecked():
            return self.app.recall_patients()
        if self.choices["search"].isChecked():
            text = self.search.text().strip()
            return [p.id for p in self.app.patients(text)] if text else []
        return [p.id for p in self.app.patients()]

    def update_count(self) -> None:
        """The emails, the patients they reach, and who has no address; Queue only with a template and someone."""
        ids = self.patient_ids()
        preview = self.app.mass_preview(ids)
        self.count.setText(preview.describe() + "." if ids else "No patients chosen.")
        self.queue.setEnabled(bool(self.template.currentData()) and preview.emails > 0)
        self.problem.setText("" if self.template.currentData() else "Choose the template.")

    def confirm(self, text: str) -> bool:
        return plain.ask(self, "Queue the emails", text)

    def queue_emails(self) -> None:
        """Asked first; nothing is queued on No."""
        ids = self.patient_ids()
        preview = self.app.mass_preview(ids)
        name = self.template.currentText()
        if not self.confirm(f"Queue {preview.emails} email{'s' if preview.emails != 1 else ''} "
                            f"\"{name}\" to {preview.patients} patients? They go out paced over the next passes."):
            return
        try:
            self.result = self.app.mass_email(self.template.currentData(), ids)
        except PracticeMailError as exc:
            self.problem.setText(f"Nothing was queued: {exc.message}. {exc.hint}")
            return
        self.count.setText(f"Queued {self.result.queued} email{'' if self.result.queued == 1 else 's'}.")
        self.queue.setEnabled(False)
