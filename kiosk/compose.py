"""Compose from a patient's file: the confidentiality rules shown inline, before Send."""

from __future__ import annotations

from datetime import datetime, timezone

from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QLabel, QLineEdit,
                             QPlainTextEdit, QVBoxLayout, QWidget)

from engine.core import confidentiality as rules
from engine.core.directory import person_name
from engine.errors import PracticeMailError
from engine.service.compose import Composer


class ComposeDialog(QDialog):
    def __init__(self, composer: Composer, patient_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create New Email")
        self.composer = composer
        self.queued_id: int | None = None
        d = composer.practice.directory
        self.patients = sorted(d.list("patients"), key=lambda p: (p["last_name"], p["first_name"]))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.patient = QComboBox()
        for p in self.patients:
            self.patient.addItem(f"{person_name(p)} ({p['id']})" + ("" if p.get("email") else " - no address"), p["id"])
        if patient_id:
            self.patient.setCurrentIndex(max(0, self.patient.findData(patient_id)))
        form.addRow("To patient", self.patient)
        self.cc = QLineEdit()
        self.cc.setPlaceholderText("other addresses, separated by commas")
        form.addRow("Cc", self.cc)
        self.template = QComboBox()
        self.template.addItem("(no template)", "")
        for t in composer.templates.list():
            self.template.addItem(f"{t.code} - {t.description}", t.code)
        form.addRow("Template", self.template)
        self.subject = QLineEdit()
        form.addRow("Subject", self.subject)
        layout.addLayout(form)
        self.body = QPlainTextEdit()
        layout.addWidget(self.body)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a01c1c; font-weight: bold")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._queue)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for signal in (self.patient.currentIndexChanged, self.template.currentIndexChanged):
            signal.connect(self.check)
        self.cc.textChanged.connect(self.check)
        self.resize(640, 480)
        self.check()

    def _address_given(self) -> bool:
        """No address on the record: ask for one; the address given is saved to the patient's record."""
        d = self.composer.practice.directory
        patient = d.require("patients", self.patient.currentData())
        if patient.get("email"):
            return True
        address, ok = self.ask_address(person_name(patient))
        if not ok or not address.strip():
            self.problem.setText(f"{person_name(patient)} has no email address; nothing was sent.")
            return False
        try:
            d.update("patients", patient["id"], {"email": address.strip()})
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return False
        return True

    def ask_address(self, name: str) -> tuple[str, bool]:
        return QInputDialog.getText(self, "Email address", f"{name} has no email address. Their address:")

    def _cc(self) -> list[str]:
        return [a.strip() for a in self.cc.text().split(",") if a.strip()]

    def check(self) -> list[rules.RuleRefused] | list:
        """The rules, checked on every change; Send is only possible when none is broken
        (a missing address is asked for at Send, not a reason to disable it)."""
        d = self.composer.practice.directory
        patient = d.require("patients", self.patient.currentData())
        cc = [rules.person_for(a, self.patients, d.list("providers"), d.list("specialists")) for a in self._cc()]
        refused = [r for r in self.composer.check_rules(patient, [self.composer._person("patient", patient)], cc, False)
                   if r.rule != rules.NO_ADDRESS]
        self.problem.setText("\n".join(f"{r.message}. {r.hint}" for r in refused))
        self.send.setEnabled(not refused)
        return refused

    def _queue(self) -> None:
        if self.check():
            return
        if not self._address_given():
            return
        try:
            self.queued_id = self.composer.from_patient(
                self.patient.currentData(), datetime.now(timezone.utc), template=self.template.currentData() or None,
                subject=self.subject.text(), text=self.body.toPlainText(), extra_cc=self._cc())
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return
        self.accept()
