"""A text message (SMS) to a patient's mobile, opened from compose: the words typed or an SMS
template filled in for the patient, and the count as typed ("2 messages, 148 characters
left"); more parts than the practice allows (sms.max_segments) cannot be sent. Inside quiet
hours it asks first. Queued through App.send_text, into the one outbox."""

from __future__ import annotations

from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit,
                             QVBoxLayout, QWidget)

from engine.core import templates as tpl
from engine.core.sms import shown_mobile
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain
from kiosk.patient_choice import PatientChoice
from kiosk.people import patient_label
from kiosk.widgets import keyed_box


class TextDialog(QDialog):
    def __init__(self, app: App, patient_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send a Text Message")
        self.app = app
        self.queued_id: int | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        region = str(app.settings.get("practice.country"))
        self.choice = PatientChoice(app, lambda p: f"{patient_label(p)} - {shown_mobile(str(p['mobile']), region)}",
                                    patient_id, keep=lambda p: bool(p.get("mobile")))  # only those a text can reach
        self.patient = self.choice.combo
        form.addRow("Patient", self.choice.row())
        self.template = QComboBox()
        self.template.addItem("(no template)", "")
        for t in app.templates.list():
            if t.kind == tpl.SMS:
                self.template.addItem(plain.shown(t.description or t.code), t.code)
        form.addRow("Template", self.template)
        layout.addLayout(form)
        self.text = QPlainTextEdit()
        layout.addWidget(self.text, 1)
        self.count = QLabel()
        layout.addWidget(self.count)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.queue)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
        self.text.textChanged.connect(self.check)
        self.patient.currentIndexChanged.connect(self._template_chosen)
        self.choice.found.connect(self._template_chosen)
        self.template.currentIndexChanged.connect(self._template_chosen)
        self.check()
        self.resize(520, 360)

    def _template_chosen(self) -> None:
        code, pid = self.template.currentData(), self.patient.currentData()
        if code and pid:
            self.text.setPlainText(self.app.text_from_template(code, pid))
        self.check()

    def check(self) -> bool:
        """The count as typed; Send only with a patient, some words and no more parts than allowed."""
        seg = self.app.text_segments(self.text.toPlainText())
        self.count.setText(seg.describe())
        most = self.app.max_text_segments
        problem = ""
        if not self.patient.currentData():
            problem = "Choose the patient (only patients with a mobile number are listed)."
        elif seg.parts > most:
            problem = f"The text needs {seg.parts} messages; the practice allows {most}. Shorten it."
        self.problem.setText(problem)
        self.send.setEnabled(not problem and bool(self.text.toPlainText().strip()))
        return self.send.isEnabled()

    def ask_quiet_hours(self) -> bool:
        return plain.ask(self, "Quiet hours", "It is quiet hours: the patient may be asleep. Send the text anyway?")

    def queue(self) -> None:
        if not self.check():
            return
        anyway = self.app.in_quiet_hours()
        if anyway and not self.ask_quiet_hours():
            return
        try:
            self.queued_id = self.app.send_text(self.patient.currentData(), self.text.toPlainText(),
                                                even_in_quiet_hours=anyway)
        except PracticeMailError as exc:
            self.problem.setText(f"Not sent: {exc.message}. {exc.hint}")
            return
        self.accept()
