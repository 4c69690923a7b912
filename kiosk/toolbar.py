"""The kiosk's toolbar: Send/Receive (F9), Cancel (Shift+F9), Create New Email (Ctrl+N), Mass Email
(Ctrl+Shift+M), Setup (Ctrl+Shift+S), Users and groups (Ctrl+Shift+U), the role (Ctrl+Shift+L);
then the service light with its words, the new-mail and to-act-on notes. Each button shows a
picture from the icon theme and its words (kiosk/icons.py)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QToolBar

from kiosk import plain
from kiosk.icons import icon
from kiosk.status_light import ServiceLight


def build_toolbar(self: Any) -> None:
    """Send/Receive, Create New Email, Setup, PINs, the role; the light and the counts."""
    bar = QToolBar("Main")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)  # a picture and its words
    self.addToolBar(bar)
    self.send_receive = QAction("Send/Receive", self)
    self.send_receive.triggered.connect(self.start_send_receive)
    self.send_receive.setIcon(icon("send_receive"))
    bar.addAction(self.send_receive)
    self.cancel_pass = QAction("Cancel Send/Receive", self)  # a pass hung on a silent server
    self.cancel_pass.setEnabled(False)
    self.cancel_pass.triggered.connect(lambda: self.cancel_send_receive())
    self.cancel_pass.setIcon(icon("cancel"))
    bar.addAction(self.cancel_pass)
    self.new_email = QAction("Create New Email", self)
    self.new_email.triggered.connect(lambda: self.open_compose())
    self.new_email.setIcon(icon("new_email"))
    bar.addAction(self.new_email)
    self.mass_mail = QAction("Mass Email...", self)  # kiosk/mass_mail.py
    self.mass_mail.triggered.connect(lambda: self.open_mass_mail())
    self.mass_mail.setIcon(icon("mass_email"))
    bar.addAction(self.mass_mail)
    self.setup = QAction("Setup...", self)
    self.setup.triggered.connect(lambda: self.open_wizard())
    self.setup.setIcon(icon("setup"))
    bar.addAction(self.setup)
    self.pins = QAction("Users and groups...", self)  # kiosk/users_page.py
    self.pins.triggered.connect(lambda: self.open_pins())
    self.pins.setIcon(icon("pins"))
    bar.addAction(self.pins)
    self.role_action = QAction("Sign in", self)  # its words and tooltip: kiosk/roles_desk.py
    self.role_action.triggered.connect(self.choose_role)
    self.role_action.setIcon(icon("role"))
    bar.addAction(self.role_action)
    # every button a key, named in its tooltip (#19: every action reachable by keyboard, visibly)
    keyed(self.send_receive, "F9", "Send and receive now")
    keyed(self.cancel_pass, "Shift+F9", "Stop the Send/Receive under way; nothing is lost")
    keyed(self.new_email, "Ctrl+N", "Write to a patient")
    keyed(self.mass_mail, "Ctrl+Shift+M", "One email to many patients, a family once")
    keyed(self.setup, "Ctrl+Shift+S", "The setup wizard: the account, the practice's details, reminders")
    keyed(self.pins, "Ctrl+Shift+U", "Security groups and their permissions, users and their PINs")
    keyed(self.role_action, "Ctrl+Shift+L", "Sign in or out")
    bar.addSeparator()
    self.light = ServiceLight()
    self.light.clicked.connect(self.open_service_dialog)
    bar.addWidget(self.light)
    self.new_mail = plain.label()
    bar.addWidget(self.new_mail)
    self.to_act_on = plain.label()  # calendar declines and proposals waiting for reception
    self.to_act_on.setStyleSheet("color: #a05a00; font-weight: bold")
    bar.addWidget(self.to_act_on)


def shown_key(action: QAction) -> str:
    """The action's key as the desk's keyboard names it ("Ctrl+N")."""
    return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


def keyed(action: QAction, key: str, tip: str) -> None:
    """`key` triggers `action`, and its tooltip says so."""
    action.setShortcut(QKeySequence(key))
    action.setToolTip(f"{tip} ({shown_key(action)})")
