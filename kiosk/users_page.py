"""Users and groups, for whoever may manage them: each security group with a tick box per
permission, and the users (a name, a group, a PIN typed twice, stored hashed). The engine
refuses what would lock the practice out (the super user group's own tick, the last super
user); the page says why in words and keeps what was typed. A user locked out by wrong PINs
shows so in the list, and "Let sign in again" (after a question naming them) ends the wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                             QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from engine.errors import PracticeMailError
from engine.service.app import PERMISSIONS, SUPER, App, SignedIn
from kiosk import plain
from kiosk.widgets import keyed, keyed_box


def _button(text: str, slot: Callable[[], Any], row: QHBoxLayout, key: str = "") -> QPushButton:
    b = keyed(QPushButton(text), key) if key else QPushButton(text)
    b.clicked.connect(lambda _checked=False: slot())
    row.addWidget(b)
    return b


class UsersPage(QWidget):
    changed = pyqtSignal()  # a group or user was saved: the window sets its rights again

    def __init__(self, app: App, who: SignedIn | None = None) -> None:
        """`who`: the user at the desk (their recovery code; a PIN first when they have none)."""
        super().__init__()
        self.roles = app.roles
        self.recovery = app.recovery
        self.who = who
        layout = QHBoxLayout(self)
        layout.addWidget(self._groups_box(), 1)
        layout.addWidget(self._users_box(), 1)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
        self.said = plain.label(wrap=True)
        self.code = plain.label(wrap=True)  # a recovery code, shown this once
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload()
        self.set_who(who)

    # -- groups -----------------------------------------------------------------------------
    def _groups_box(self) -> QGroupBox:
        box = QGroupBox("Groups")
        v = QVBoxLayout(box)
        self.groups = QListWidget()
        self.groups.currentItemChanged.connect(lambda item, _before: self.show_group(item))
        v.addWidget(self.groups)
        form = QFormLayout()
        self.group_name = QLineEdit()
        self.group_name.setMaxLength(40)
        self.group_name.setPlaceholderText("A new group's name, to add one")
        form.addRow("Group", self.group_name)
        v.addLayout(form)
        self.ticks: dict[str, QCheckBox] = {}
        for key, words in PERMISSIONS.items():
            self.ticks[key] = QCheckBox(words)
            v.addWidget(self.ticks[key])
        row = QHBoxLayout()
        self.save_group = _button("Save group", self.store_group, row, "Alt+G")
        self.remove_group = _button("Remove group", self.drop_group, row, "Alt+Shift+G")
        v.addLayout(row)
        return box

    def show_group(self, item: QListWidgetItem | None) -> None:
        group = self.roles.group(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None
        if group is None:
            return
        self.group_name.setText(group.name)
        for key, tick in self.ticks.items():
            tick.setChecked(key in group.permissions)
            tick.setEnabled(not (group.name == SUPER and key == "manage_pins"))  # nobody locked out

    def store_group(self) -> bool:
        ticked = {k for k, t in self.ticks.items() if t.isChecked()}
        return self._do(lambda: self.roles.save_group(self.group_name.text(), ticked),
                        f"Group {self.group_name.text().strip()} saved.")

    def drop_group(self) -> bool:
        return self._do(lambda: self.roles.remove_group(self.group_name.text()),
                        f"Group {self.group_name.text().strip()} removed.")

    # -- users ------------------------------------------------------------------------------
    def _users_box(self) -> QGroupBox:
        box = QGroupBox("Users")
        v = QVBoxLayout(box)
        self.users = QListWidget()
        self.users.currentItemChanged.connect(lambda item, _before: self.show_user(item))
        v.addWidget(self.users)
        form = QFormLayout()
        self.user_name = QLineEdit()
        self.user_name.setMaxLength(40)
        self.user_group = QComboBox()
        self.pin, self.again = QLineEdit(), QLineEdit()
        for field in (self.pin, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(12)
        for label, widget in (("Name", self.user_name), ("Group", self.user_group),
                              ("New PIN (4 to 12 digits)", self.pin), ("The same again", self.again)):
            form.addRow(label, widget)
        v.addLayout(form)
        row = QHBoxLayout()
        self.add_user = _button("Add user", self.new_user, row, "Alt+A")
        self.save_user = _button("Save user", self.store_user, row, "Alt+U")
        self.remove_user = _button("Remove user", self.drop_user, row, "Alt+Shift+U")
        v.addLayout(row)
        row = QHBoxLayout()
        self.let_in = _button("Let sign in again", self.let_sign_in, row)
        self.let_in.setToolTip("For a user locked out by wrong PINs: forget them, so they may sign in now")
        keyed(self.let_in, "Alt+L")
        self.let_in.setEnabled(False)
        self.new_code = _button("New recovery code", self.make_code, row)
        self.new_code.setToolTip("A new recovery code for you, shown once, for the safe: the old one stops working")
        keyed(self.new_code, "Alt+R")
        row.addStretch(1)
        v.addLayout(row)
        return box

    def show_user(self, item: QListWidgetItem | None) -> None:
        if item is None:
            self.let_in.setEnabled(False)
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        user = next((u for u in self.roles.users() if u.name == name), None)
        if user is not None:
            self.user_name.setText(user.name)
            self.user_group.setCurrentIndex(self.user_group.findData(user.group))
        self.let_in.setEnabled(user is not None and self.roles.locked_until(user.name) is not None)

    def _pin_typed(self) -> str | None:
        """The PIN typed twice (None when none was typed); the difference said, not stored."""
        if self.pin.text() != self.again.text():
            raise PracticeMailError("the two PINs differ", hint="Type them again.")
        return self.pin.text() or None

    def new_user(self) -> bool:
        def add() -> None:
            pin = self._pin_typed()
            self.roles.add_user(self.user_name.text(), self.user_group.currentData(), pin or "")
        return self._do(add, f"User {self.user_name.text().strip()} added.")

    def store_user(self) -> bool:
        if self.who is not None and self.recovery.must_choose_pin(self.who.user):
            self.select(user=self.who.user)  # their own PIN only, until they have one
            self.user_name.setText(self.who.user)
            self.user_group.setCurrentIndex(self.user_group.findData(self.who.group))
        return self._do(lambda: self.roles.update_user(self.user_name.text(), group=self.user_group.currentData(),
                                                       pin=self._pin_typed()),
                        f"User {self.user_name.text().strip()} saved.")

    def let_sign_in(self) -> bool:
        """For the chosen user locked out by wrong PINs, after a question naming them."""
        item = self.users.currentItem()
        name = item.data(Qt.ItemDataRole.UserRole) if item is not None else ""
        until = self.roles.locked_until(name) if name else None
        if until is None:
            return False
        if not plain.ask(self, "Let sign in again",
                            f"Let {name} sign in again now? Their wrong PINs are forgotten and the wait "
                            f"until {self.roles.tries.shown(until)} ends."):
            return False
        return self._do(lambda: self.roles.let_sign_in(name), f"{name} may sign in again.")

    def drop_user(self) -> bool:
        return self._do(lambda: self.roles.remove_user(self.user_name.text()),
                        f"User {self.user_name.text().strip()} removed.")

    def make_code(self) -> bool:
        """A new recovery code for the user at the desk (who signed in with their PIN)."""
        user = self.who.user if self.who is not None else ""
        return self._do(lambda: self._show_code(user, self.recovery.issue(user)),
                        f"A new recovery code for {user}: the old one no longer works.")

    def _show_code(self, user: str, code: str | None) -> None:
        if code:
            self.code.setText(f"Recovery code for {user}: {code}. It is shown only this once: print it or write it "
                              "down and keep it in the practice's safe (it gives a new PIN if the PIN is forgotten).")

    def set_who(self, who: SignedIn | None) -> None:
        """A user who manages users but has no PIN yet (a fresh practice) chooses one first: only
        their own name, the PIN fields and Save user until then."""
        self.who = who
        choose = who is not None and self.recovery.must_choose_pin(who.user)
        for widget in (self.groups, self.group_name, *self.ticks.values(), self.save_group, self.remove_group,
                       self.users, self.user_group, self.add_user, self.remove_user, self.user_name):
            widget.setEnabled(not choose)
        self.new_code.setEnabled(not choose and who is not None and self.roles.has_pin(who.user))
        if choose and who is not None:
            self.select(user=who.user)
            self.problem.setText(f"{who.user} has no PIN yet: choose one (type it twice, then Save user) before "
                                 "changing users and groups.")
        if not choose:
            self.show_group(self.groups.currentItem())  # the super user group's own tick stays greyed

    # -- both -------------------------------------------------------------------------------
    def _do(self, change: Callable[[], Any], done: str) -> bool:
        """Run a change: its refusal in words (nothing typed is cleared), or done and shown."""
        try:
            change()
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            self.said.setText("")
            return False
        self.problem.setText("")
        self.said.setText(plain.shown(done))
        if self.pin.text():
            self._show_code(self.user_name.text().strip(), self.recovery.first_code(self.user_name.text()))
        self.pin.clear()
        self.again.clear()
        self.reload()
        self.changed.emit()
        return True

    def reload(self) -> None:
        """The lists as stored, the chosen group and user kept chosen."""
        group_now, user_now = self.group_name.text(), self.user_name.text()
        self.groups.clear()
        self.user_group.clear()
        for g in self.roles.groups():
            item = QListWidgetItem(plain.shown(g.name))
            item.setData(Qt.ItemDataRole.UserRole, g.name)
            self.groups.addItem(item)
            self.user_group.addItem(plain.shown(g.name), g.name)
        self.users.clear()
        for u in self.roles.users():
            until = self.roles.locked_until(u.name)
            item = QListWidgetItem(plain.shown(f"{u.name} ({u.group})" + ("" if u.has_pin else ", no PIN yet")
                                               + (f", locked out until {self.roles.tries.shown(until)}"
                                                  if until else "")))
            item.setData(Qt.ItemDataRole.UserRole, u.name)
            self.users.addItem(item)
        self.select(group_now, user_now)

    def select(self, group: str = "", user: str = "") -> None:
        for widget, name in ((self.groups, group), (self.users, user)):
            for n in range(widget.count()):
                if name and widget.item(n).data(Qt.ItemDataRole.UserRole).casefold() == name.strip().casefold():
                    widget.setCurrentRow(n)


class UsersDialog(QDialog):
    def __init__(self, app: App, parent: QWidget | None = None, who: SignedIn | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Users and groups")
        layout = QVBoxLayout(self)
        self.page = UsersPage(app, who)
        layout.addWidget(self.page)
        for label in (self.page.problem, self.page.said, self.page.code):
            layout.addWidget(label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
