"""Setting a role's PIN at the desk (the super user's job): typed twice, stored hashed."""

from __future__ import annotations

from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout,
                             QWidget)

from engine.errors import PracticeMailError
from engine.service.app import ROLES, App
from kiosk import plain


class PinDialog(QDialog):
    def __init__(self, app: App, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set a PIN")
        self.roles = roles = app.roles
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.role = QComboBox()
        for role in ROLES:
            self.role.addItem(f"{role}" + ("" if roles.has_pin(role) else " (no PIN yet)"), role)
        form.addRow("Role", self.role)
        self.pin = QLineEdit()
        self.again = QLineEdit()
        for field in (self.pin, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(12)
        form.addRow("New PIN (4 to 12 digits)", self.pin)
        form.addRow("The same again", self.again)
        layout.addLayout(form)
        self.problem = plain.label()
        self.problem.setStyleSheet("color: #a01c1c; font-weight: bold")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def apply(self) -> bool:
        if self.pin.text() != self.again.text():
            self.problem.setText("The two PINs differ; type them again.")
            return False
        try:
            self.roles.set_pin(self.role.currentData(), self.pin.text())
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return False
        self.accept()
        return True
