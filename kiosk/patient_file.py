"""A patient's file: details, family, appointments (book, move, cancel), and every email
sent to or received from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from PyQt6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.core.directory import person_name
from engine.core.sms import shown_mobile
from engine.service.app import App, Patient
from kiosk import plain, printing
from kiosk.appointments import AppointmentsPanel
from kiosk.bounced import bounced_label
from kiosk.jobs import Jobs
from kiosk.patient_edit import PatientEditDialog
from kiosk.people import born
from kiosk.tables import RecordTable
from kiosk.widgets import keyed, no_checked


class PatientFile(QDialog):
    def __init__(self, patient: dict[str, Any], family: list[dict[str, Any]], history: list[dict[str, Any]],
                 on_email: Any, when: Callable[[str], str], app: App | None = None,
                 on_change: Callable[[], None] = lambda: None, parent: QWidget | None = None,
                 provider_name: str = "", short: Callable[[str], str] | None = None, jobs: Jobs | None = None) -> None:
        super().__init__(parent)
        self.patient = patient
        name = plain.shown(person_name(patient) or patient["id"])  # a patient's record is data, too
        self.setWindowTitle(name)
        layout = QVBoxLayout(self)
        heading = plain.label(name)
        heading.setStyleSheet("font-size: 14pt; font-weight: bold")
        layout.addWidget(heading)
        self.heading = heading
        heading.setToolTip(plain.tip(f"Patient code {patient['id']}"))
        self.app = app
        self.when = when  # the full time, for what is printed or kept
        self.short = short or when  # 'Today 08:14', 'Fri 4 Dec 08:00': the tables a person scans
        self.jobs = jobs if jobs is not None else Jobs(self)  # the desk's jobs thread: edits and bookings written there
        self.form = QFormLayout()
        self.show_details(patient, family, provider_name)
        layout.addLayout(self.form)
        self.appointments = AppointmentsPanel(app, patient, self.short, on_change, self.jobs) if app is not None else None
        if self.appointments is not None:
            layout.addWidget(self.appointments)
        layout.addWidget(QLabel("<b>Contact history</b>"))
        self.history = RecordTable(("Date", "Type", "Subject", "Category", "Description"))
        self.history.fill([(h["id"], (self.short(h["date"]), h["type"], h["subject"], h.get("category", ""),
                                      h.get("description", ""))) for h in history])
        layout.addWidget(self.history)
        row = QHBoxLayout()
        self.email = QPushButton("Email")
        self.email.clicked.connect(lambda: on_email(patient["id"]))
        row.addWidget(self.email)
        self.edit = QPushButton("Edit details...")
        self.edit.clicked.connect(no_checked(self.edit_details))
        self.edit.setEnabled(app is not None and app.writer)
        row.addWidget(self.edit)
        self.history_rows = history
        # set by the main window: open compose for the patient with the PDF attached
        self.on_edited: Callable[[], None] = lambda: None  # set by the main window: the Patients list again
        self.last_edit: PatientEditDialog | None = None
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        self.email_history = QPushButton("Email history as PDF...")
        self.email_history.clicked.connect(self.email_history_as_pdf)
        row.addWidget(self.email_history)
        for b, key in ((self.email, "Alt+E"), (self.edit, "Alt+D"), (self.email_history, "Alt+H")):
            keyed(b, key)
        row.addStretch(1)
        layout.addLayout(row)
        self.resize(760, 640)

    def show_details(self, patient: dict[str, Any], family: list[dict[str, Any]], provider_name: str = "") -> None:
        """The details block, built again after an edit."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.patient, self.family, self.provider_name = patient, family, provider_name
        provider = provider_name or patient.get("usual_provider_id") or ""
        mobile = shown_mobile(str(patient.get("mobile") or ""), str(self.app.settings.get("practice.country"))) \
            if self.app is not None else patient.get("mobile")  # as reception dials it, not E.164
        for label, value in (("Email", patient.get("email")), ("Mobile", mobile),
                             ("Date of birth", born(patient)), ("Usual provider", provider),
                             ("Preferred location", patient.get("preferred_location"))):
            self.form.addRow(label, plain.label(plain.shown(value or "-")))
            if label == "Email" and patient.get("email_bad"):
                self.form.addRow("", bounced_label(patient["email_bad"], self.when))
        others = [person_name(p) for p in family if p["id"] != patient["id"]]
        self.form.addRow("Family", plain.label(plain.shown(", ".join(others) or "-")))

    def edit_details(self) -> PatientEditDialog:
        """The patient edit dialog; on Save the file shows the stored details."""
        assert self.app is not None
        dialog = PatientEditDialog(self.app, self.patient["id"], self, jobs=self.jobs)
        dialog.accepted.connect(lambda: self._edited(dialog.saved))
        dialog.show()
        self.last_edit = dialog
        return dialog

    def _edited(self, saved: Patient) -> None:
        """The file shows the record the save answered with (it was read again by code on the GUI
        thread); a changed family or usual provider is read on the jobs thread, then shown."""
        assert self.app is not None
        old = self.patient
        patient = {**old, **asdict(saved)}
        name = plain.shown(person_name(patient) or patient["id"])
        self.heading.setText(name)
        self.setWindowTitle(name)
        if (old.get("family_id") or "", old.get("usual_provider_id") or "") == (saved.family_id, saved.usual_provider_id):
            self.show_details(patient, self.family, self.provider_name)
        else:
            d, pid = self.app.directory, saved.usual_provider_id
            self.jobs.run(lambda: (d.family(patient), d.names("providers", [pid]).get(pid, "")),
                          lambda read: self.show_details(patient, *read))
        self.on_edited()

    def history_document(self) -> Any:
        """The contact history as the print would show it."""
        lines = [f"{self.when(h['date'])}  {h['type']:<10}  {h['subject']}" for h in self.history_rows]
        return printing.document([("Patient", f"{person_name(self.patient)} ({self.patient['id']})"),
                                  ("Contact history", f"{len(lines)} email(s)")], "\n".join(lines))

    def email_history_as_pdf(self) -> Any:
        return self.on_email_pdf(self.patient["id"], printing.pdf_attachment(self.history_document(),
                                                                             "contact-history.pdf"))
