"""File a message to the patient or specialist it is about: the address's family first, any other
patient found as typed (kiosk/patient_choice.py), or a specialist. The message leaves the view it
was in; the status bar says where it went (kiosk/inbox_page.py)."""

from __future__ import annotations

from PyQt6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QVBoxLayout, QWidget

from engine.core.directory import person_name
from engine.service.app import App
from kiosk import plain
from kiosk.patient_choice import PatientChoice
from kiosk.people import patient_label
from kiosk.widgets import keyed_box


class FileTo(QDialog):
    def __init__(self, app: App, subject: str, candidates: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("File the message")
        layout = QVBoxLayout(self)
        layout.addWidget(plain.label(f"File \u201c{plain.shown(subject)}\u201d to the patient or specialist it is about."
                                     + ("\nThe patients at this address are listed first." if candidates else ""),
                                     wrap=True))
        form = QFormLayout()
        self.choice = PatientChoice(app, patient_label, top=candidates,
                                    placeholder="Find: name, date of birth, phone")
        self.patient = self.choice.combo
        form.addRow("Patient", self.choice.row())
        self.specialist = QComboBox()
        self.specialist.addItem("(not a specialist)", "")
        for s in sorted(app.directory.list("specialists"), key=person_name):
            self.specialist.addItem(plain.shown(f"Specialist: {person_name(s) or s['id']}"), s["id"])
        form.addRow("Or", self.specialist)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.file = buttons.addButton("File", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
        if candidates:
            self.patient.setCurrentIndex(1)  # the first of the family: the likeliest, still to confirm
        self.patient.currentIndexChanged.connect(lambda i: i > 0 and self.specialist.setCurrentIndex(0))
        self.specialist.currentIndexChanged.connect(lambda i: i > 0 and self.patient.setCurrentIndex(0))
        for signal in (self.patient.currentIndexChanged, self.specialist.currentIndexChanged, self.choice.found):
            signal.connect(lambda *_a: self.file.setEnabled(bool(self.chosen() != ("", ""))))
        self.file.setEnabled(self.chosen() != ("", ""))
        self.resize(680, 180)

    def chosen(self) -> tuple[str, str]:
        """(patient id, specialist id): one of them, or neither yet."""
        return str(self.patient.currentData() or ""), str(self.specialist.currentData() or "")
