"""Adding or correcting a patient at the desk. The checks are the import's own (through the
App): a mobile becomes E.164, a bad one is refused in words, a name with a hidden line end is
refused; nothing is stored until every field is right. A corrected email clears the bounced mark.
The save runs on the desk's jobs thread (kiosk/jobs.py): a check and a write are not the GUI's."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QDate
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLineEdit,
                             QWidget)

from engine.core.sms import shown_mobile
from engine.errors import PracticeMailError
from engine.service.app import App, Patient
from kiosk import plain
from kiosk.jobs import Jobs
from kiosk.widgets import keyed_box

CHANNELS = (("email", "Email"), ("sms", "Text message"), ("both", "Email and text message"),
            ("none", "No automatic messages"))


class PatientEditDialog(QDialog):
    """`patient_id` None: a new patient. `saved` holds the stored Patient after OK. `jobs`: the
    desk's jobs thread, where the save runs (the dialog's own thread when none is given)."""

    def __init__(self, app: App, patient_id: str | None = None, parent: QWidget | None = None,
                 jobs: Jobs | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.patient_id = patient_id
        self.saved: Patient | None = None
        self.jobs = jobs if jobs is not None else Jobs(self)
        self.saving = False  # a save asked for and not yet answered
        rec: dict[str, Any] = app.directory.require("patients", patient_id) if patient_id else {}
        self.setWindowTitle("Edit patient" if patient_id else "Add a patient")
        form = QFormLayout(self)
        self.title_ = self._line(form, "Title", rec.get("title"))
        self.first = self._line(form, "First name", rec.get("first_name"))
        self.last = self._line(form, "Last name", rec.get("last_name"))
        self.known_birth = QCheckBox("Date of birth known")
        self.birth = QDateEdit()
        self.birth.setCalendarPopup(True)
        self.birth.setDisplayFormat("d MMM yyyy")
        self.birth.setMaximumDate(QDate.currentDate())
        born = QDate.fromString(str(rec.get("date_of_birth") or ""), "yyyy-MM-dd")
        self.known_birth.setChecked(born.isValid())
        self.birth.setDate(born if born.isValid() else QDate(1980, 1, 1))
        self.birth.setEnabled(born.isValid())
        self.known_birth.toggled.connect(self.birth.setEnabled)
        form.addRow(self.known_birth, self.birth)
        self.email = self._line(form, "Email", rec.get("email"))
        self.mobile = self._line(form, "Mobile", shown_mobile(str(rec.get("mobile") or ""),
                                                           str(app.settings.get("practice.country"))))
        self.mobile.setPlaceholderText("07700 900123 or +44 7700 900123")
        self.family = self._line(form, "Family code", rec.get("family_id"))
        self.family.setToolTip("Patients with the same family code are one family (the practice system's code).")
        self.provider = QComboBox()
        self.provider.addItem("(none)", "")
        for p in sorted(app.directory.list("providers"), key=lambda r: r.get("last_name", "")):
            self.provider.addItem(plain.shown(Patient.from_record(p).name or p["id"]), p["id"])
        self.provider.setCurrentIndex(max(0, self.provider.findData(rec.get("usual_provider_id") or "")))
        form.addRow("Usual provider", self.provider)
        self.channel = QComboBox()
        for value, words in CHANNELS:
            self.channel.addItem(words, value)
        self.channel.setCurrentIndex(max(0, self.channel.findData(rec.get("preference") or "email")))
        form.addRow("Contact by", self.channel)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(keyed_box(buttons))
        self.resize(480, 420)

    @staticmethod
    def _line(form: QFormLayout, label: str, value: Any) -> QLineEdit:
        edit = QLineEdit(str(value or ""))
        form.addRow(label, edit)
        return edit

    def fields(self) -> dict[str, str]:
        """The form as the import's columns (text as typed: the checks refuse hidden line ends)."""
        return {"title": self.title_.text(), "first_name": self.first.text(), "last_name": self.last.text(),
                "date_of_birth": self.birth.date().toString("yyyy-MM-dd") if self.known_birth.isChecked() else "",
                "email": self.email.text().strip(), "mobile": self.mobile.text().strip(),
                "family_id": self.family.text().strip(), "usual_provider_id": self.provider.currentData(),
                "preference": self.channel.currentData()}

    def save(self) -> bool:
        """Asks the jobs thread to check and store the form (issue 19: 0.5-0.8 s on the GUI thread
        at 20,000 patients): Save says "Saving…" and takes no second click until the answer, then
        the dialog closes, or says the problems in words and stays open. False: already saving."""
        if self.saving:
            return False
        self.saving = True
        self._save_button(saving=True)
        app, patient_id, fields = self.app, self.patient_id, self.fields()

        def command() -> Patient:
            return app.update_patient(patient_id, fields) if patient_id else app.add_patient(fields)
        self.jobs.run(command, self._stored, self._refused)
        return True

    def _save_button(self, saving: bool) -> None:
        """Save as "Saving…" and not clickable while the save runs; as it was after."""
        save = self.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        if saving:
            self._save_text = save.text()
        save.setText("Saving…" if saving else self._save_text)
        save.setEnabled(not saving)

    def _stored(self, patient: Patient) -> None:
        self.saving, self.saved = False, patient
        self._save_button(saving=False)
        self.problem.setText("")
        self.accept()

    def _refused(self, exc: Exception) -> None:
        self.saving = False
        self._save_button(saving=False)
        if not isinstance(exc, PracticeMailError):
            self.problem.setText("Not saved: something went wrong; try again, and tell support if it happens again.")
            raise exc  # reported as an error in a slot was (kiosk/workers.py)
        self.problem.setText(_words(exc))


def _words(exc: PracticeMailError) -> str:
    """Each problem on its own line, by the field's name on the form, not the column's."""
    problems = getattr(exc, "problems", [])
    if not problems:
        return f"{exc.message}. {exc.hint}"
    label = {"first_name": "First name", "last_name": "Last name", "date_of_birth": "Date of birth",
             "family_id": "Family code", "usual_provider_id": "Usual provider", "preference": "Contact by"}
    return "Not saved:\n" + "\n".join(f"{label.get(p.column or '', (p.column or '').capitalize())}: {p.message}"
                                      for p in problems)
