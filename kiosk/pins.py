"""Signing in at the desk: choose your name, type your PIN (never shown, never kept), Sign in.
Someone signed in can Sign out here too, back to the desk's own permissions.

The PIN is checked on the kiosk's jobs thread (kiosk/jobs.py): scrypt is slow on purpose, and on
the GUI thread the window froze for it. Meanwhile the dialog says it is checking and takes no
second Sign in (a second Return would have been a second try, counted against the user)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPushButton, QVBoxLayout,
                             QWidget)

from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.jobs import Jobs
from kiosk.widgets import keyed_box

CHECKING = "Checking the PIN…"


class SignInDialog(QDialog):
    signed_in = pyqtSignal(object)  # SignedIn
    signed_out = pyqtSignal()

    def __init__(self, roles: Any, someone_signed_in: bool, parent: QWidget | None = None,
                 jobs: Jobs | None = None) -> None:
        """`jobs`: the window's (one thread, in the order clicked); the dialog's own if None."""
        super().__init__(parent)
        self.setWindowTitle("Sign in")
        self.roles = roles
        self.jobs = jobs if jobs is not None else Jobs(self)
        self.checking = False
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
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
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
        layout.addWidget(keyed_box(buttons, {"Sign out": "Alt+O"}))
        for other in (buttons.button(QDialogButtonBox.StandardButton.Cancel), self.out):
            other.setAutoDefault(False)  # else, Sign out shown, Cancel became the default on show: Return cancelled
        self.pin.setFocus()

    def apply(self) -> bool:
        """Start checking the PIN (False, and nothing asked, while one is being checked): signed in,
        or the dialog stays with the reason and the PIN field emptied, when the answer comes."""
        if self.checking:
            return False
        name, pin = self.user.currentData(), self.pin.text()
        self.pin.clear()  # the PIN lives on only in the check's closure, until it has run
        self._checking(True)
        self.jobs.run(lambda: self.roles.sign_in(name, pin), self._answered, self._refused)
        return True

    def _checking(self, on: bool) -> None:
        self.checking = on
        for widget in (self.go, self.user, self.pin, self.out):
            widget.setEnabled(not on)
        if not on:
            self.go.setDefault(True)  # a disabled default button loses it: Return signs in again
        self.problem.setStyleSheet("" if on else plain.PROBLEM_BOLD)
        self.problem.setText(CHECKING if on else "")

    def _answered(self, who: Any) -> None:
        self._checking(False)
        if not self.isVisible():  # cancelled while it was being checked: nobody signs in
            return
        self.signed_in.emit(who)
        self.accept()

    def _refused(self, exc: Exception) -> None:
        self._checking(False)
        if isinstance(exc, PracticeMailError):
            self.problem.setText(f"{exc.message}. {exc.hint}")
        else:  # a store that failed under the check: said, the dialog kept
            self.problem.setText(f"The PIN could not be checked: {type(exc).__name__}. Try again.")
        self.pin.setFocus()
