"""Who is at the desk: reception by default, a dentist or super user after a PIN, and back to
reception after a quiet spell. Part of the main window (kiosk/main_window.py), kept apart so
each stays readable; it needs the window's `app`, `roles`, `status_line`, `idle` timer and the
actions and pages whose rights it sets."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QEvent
from PyQt6.QtWidgets import QInputDialog, QLineEdit

from engine.errors import PracticeMailError
from engine.service.app import ROLES, allowed
from kiosk.pins import PinDialog

IDLE_MINUTES = 10  # a dentist or super user left signed in drops back to reception after this


class RoleDesk:
    role: str
    app: Any
    roles: Any
    status_line: Any
    idle: Any
    role_action: Any
    setup: Any
    pins: Any
    admin_page: Any
    message_view: Any

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        """Any key or click at the desk restarts the idle clock of a signed-in role."""
        if self.role != "reception" and event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self.idle.start()
        return False

    def sign_out_idle(self) -> None:
        if self.role != "reception":
            self.apply_role("reception")
            self.status_line.setText("Signed out after a quiet spell: back to reception.")

    def apply_role(self, role: str) -> None:
        """What the role may do: the setup wizard and runbook actions are the super user's. A
        role above reception lasts until IDLE_MINUTES pass without a key or a click."""
        self.role = role
        if role != "reception":
            self.idle.start(IDLE_MINUTES * 60_000)
        else:
            self.idle.stop()
        self.role_action.setText(role.capitalize())
        self.setup.setEnabled(allowed(role, "setup_wizard"))
        self.pins.setEnabled(allowed(role, "manage_pins"))
        self.admin_page.role = role
        self.message_view.refresh_role()

    def choose_role(self) -> None:
        role, ok = QInputDialog.getItem(self, "Role", "Sign in as:", list(ROLES), 0, False)
        if not ok:
            return
        pin = ""
        if self.roles.has_pin(role):
            pin, ok = QInputDialog.getText(self, "PIN", f"PIN for {role}:", QLineEdit.EchoMode.Password)
            if not ok:
                return
        self.sign_in(role, pin)

    def sign_in(self, role: str, pin: str) -> bool:
        try:
            self.apply_role(self.roles.sign_in(role, pin))
        except PracticeMailError as exc:
            self.status_line.setText(f"{exc.message}. {exc.hint}")
            return False
        self.status_line.setText(f"Signed in as {role}.")
        return True

    def open_pins(self) -> PinDialog | None:
        if not allowed(self.role, "manage_pins"):  # the action is greyed out too
            return None
        dialog = PinDialog(self.app, self)
        dialog.accepted.connect(lambda: self.status_line.setText("PIN saved."))
        dialog.show()
        return dialog

