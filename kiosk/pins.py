"""Signing in at the desk: choose your name, type your PIN (never shown, never kept), Sign in.
Someone signed in can Sign out here too, back to the desk's own permissions."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPushButton, QVBoxLayout,
                             QWidget)

from engine.errors import PracticeMailError
from kiosk import plain


class SignInDialog(QDialog):
    signed_in = pyqtSignal(object)  # SignedIn
    signed_out = pyqtSignal()

    def __init__(self, roles: Any, someone_signed_in: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in")
        self.roles = roles
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.user = QComboBox()
        for u in roles.users():
            self.user.addItem(plain.shown(f"{u.name} ({u.group})"), u.name)
        form.addRow("Name", self.user)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        form.addRow("PIN", self.pin)
        layout.addLayout(form)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet("color: #a01c1c; font-weight: bold")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setDefault(True)
        self.out = QPushButton("Sign out")
        buttons.addButton(self.out, QDialogButtonBox.ButtonRole.ResetRole)
        self.out.setVisible(someone_signed_in)  # after addButton, which shows it
        self.out.clicked.connect(lambda: (self.signed_out.emit(), self.accept()))
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.pin.setFocus()

    def apply(self) -> bool:
        """Signed in, or the dialog stays with the reason and the PIN field emptied."""
        try:
            who = self.roles.sign_in(self.user.currentData(), self.pin.text())
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            self.pin.clear()
            self.pin.setFocus()
            return False
        self.pin.clear()
        self.signed_in.emit(who)
        self.accept()
        return True
