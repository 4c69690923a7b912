"""Who is at the desk: nobody signed in (the reception group's permissions) by default, a user
of a security group after their PIN, and back to the desk's own after a quiet spell. Every
gated action of the window is set here from `allowed(who, permission)` (engine/service/roles.py).
Part of the main window (kiosk/main_window.py), kept apart so each stays readable; it needs the
window's `app`, `roles`, `status_line`, `idle` timer and the actions and pages whose rights it sets."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QEvent, QObject, QTimer
from PyQt6.QtWidgets import QApplication, QPushButton

from engine.errors import PracticeMailError
from engine.service.app import SignedIn, allowed
from kiosk.pins import SignInDialog
from kiosk.toolbar import shown_key
from kiosk.users_page import UsersDialog

IDLE_MINUTES = 10  # a signed-in user left alone drops back to the desk's own after this


def buttons_named(widget: Any, text: str) -> list[QPushButton]:
    return [b for b in widget.findChildren(QPushButton) if b.text() == text]


class IdleWatch(QObject):
    """Restarts the idle clock at any key or click at the desk, while someone is signed in.

    Why only then (issue 15): an application's event filter sees every event of every widget
    (each paint, timer, posted answer, child added), and a filter written in Python takes the
    GIL for each one from inside Qt's event loop, which runs without it. During a Send/Receive
    the engine's and the jobs thread's Python held the GIL, and each of those events waited up
    to a switch interval for it: the kiosk's longest stalls. With nobody signed in there is
    no clock to restart, so no filter."""

    def __init__(self, idle: QTimer) -> None:
        super().__init__(idle)
        self.idle = idle
        self.installed = False
        self.seen = 0  # keys and clicks that restarted the clock (tests read it)

    def watch(self, on: bool) -> None:
        qt = QApplication.instance()
        if qt is None or on == self.installed:
            return
        if on:
            qt.installEventFilter(self)
        else:
            qt.removeEventFilter(self)
        self.installed = on

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress):
            self.seen += 1
            self.idle.start()
        return False


class RoleDesk:
    role: Any  # a SignedIn once apply_role ran
    app: Any
    roles: Any
    status_line: Any
    idle: Any
    idle_watch: IdleWatch
    role_action: Any
    setup: Any
    pins: Any
    mass_mail: Any
    admin_page: Any
    message_view: Any
    inbox_page: Any
    outbox_page: Any
    template_editor: Any
    jobs: Any

    def sign_out_idle(self) -> None:
        if self.role.user:
            self.apply_role(self.roles.desk())
            self.status_line.setText("Signed out after a quiet spell: back to the desk's own permissions.")

    def sign_out(self) -> None:
        self.apply_role(self.roles.desk())
        self.status_line.setText("Signed out.")

    def apply_role(self, who: SignedIn | str) -> None:
        """What the signed-in user's group may do, on every gated action (a group's name: that
        group as stored, with nobody signed in). Someone signed in lasts until IDLE_MINUTES pass
        without a key or a click."""
        if isinstance(who, str):
            group = self.roles.group(who)
            who = SignedIn("", who, group.permissions if group else frozenset())
        self.role = who
        if who.user:
            self.idle.start(IDLE_MINUTES * 60_000)
        else:
            self.idle.stop()
        self.idle_watch.watch(bool(who.user))  # any key or click restarts the clock
        self.role_action.setText(who.user or "Sign in")
        self.role_action.setToolTip((f"Signed in as {who.user} ({who.group}); click to sign out or change"
                                     if who.user else f"Nobody signed in: the {who.group} group's permissions; "
                                                      "click to sign in") + f" ({shown_key(self.role_action)})")
        self._gate(who)

    def _gate(self, who: SignedIn) -> None:
        may = lambda permission: allowed(who, permission)  # noqa: E731 - read as a sentence below
        self.setup.setEnabled(may("setup_wizard"))
        self.pins.setEnabled(may("manage_pins") or self.app.recovery.must_choose_pin(who.user))  # a PIN first
        self.mass_mail.setEnabled(may("mass_email"))
        for b in buttons_named(self.inbox_page, "Delete"):
            b.setEnabled(may("delete"))
        self.outbox_page.may_delete = may("delete")
        self.outbox_page.buttons["Delete"].setEnabled(may("delete"))
        editor = self.template_editor
        editor.may_change = may("templates")
        for label, b in [("Save", editor.save), *editor.actions.items()]:
            b.setEnabled(may("templates") or label == "Reminder rules...")  # the rules are read by all, changed by few
        self.admin_page.role = who
        self.admin_page.may_export_patient_data(may("export_patient_data"))
        self.message_view.refresh_role()

    def choose_role(self) -> SignInDialog:
        """The sign-in dialog: a user and their PIN; Sign out when someone is signed in."""
        dialog = SignInDialog(self.roles, bool(self.role.user), self, self.jobs)
        dialog.signed_in.connect(self._signed_in)
        dialog.signed_out.connect(self.sign_out)
        dialog.show()
        self.sign_in_dialog = dialog
        return dialog

    def _signed_in(self, who: SignedIn) -> None:
        self.apply_role(who)
        self.activateWindow()  # back to the desk, keys and all
        note = "" if self.roles.has_pin(who.user) else " (no PIN yet: choose one under Users and groups)"
        self.status_line.setText(f"Signed in as {who.user}, {who.group}{note}.")

    def sign_in(self, name: str, pin: str) -> bool:
        """Sign `name` in with `pin` at once, on the calling thread (the demo's user without a PIN,
        tests); False, and said so, when refused. A person signs in through the dialog, whose PIN
        check runs on the jobs thread (kiosk/pins.py)."""
        try:
            who = self.roles.sign_in(name, pin)
        except PracticeMailError as exc:
            self.status_line.setText(f"{exc.message}. {exc.hint}")
            return False
        self._signed_in(who)
        return True

    def open_pins(self) -> UsersDialog | None:
        """Users and groups: for a group allowed to manage them (the action is greyed out too)."""
        if not allowed(self.role, "manage_pins") and not self.app.recovery.must_choose_pin(self.role.user):
            return None
        dialog = UsersDialog(self.app, self, self.role)
        dialog.page.changed.connect(lambda: self.apply_role(self.roles.again(self.role)))
        dialog.page.changed.connect(lambda: dialog.page.set_who(self.role))  # their PIN chosen: the rest opens
        dialog.finished.connect(lambda _result: self.activateWindow())
        dialog.show()
        self.users_dialog = dialog
        return dialog
