"""Security groups at the desk (#19): each permission both ways, by clicks and keys. The super
user ticks one permission for a group "Trial" on the Users and groups page, its user Tess signs
in with her PIN and can; the super user unticks it, Tess signs in again and cannot."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PyQt6.QtCore import QPoint, Qt, QTimer, QUrl
from PyQt6.QtWidgets import QApplication, QToolBar
from pytestqt.qtbot import QtBot

from engine.service.app import PERMISSIONS, SUPER
from kiosk.main_window import MainWindow
from kiosk.wizard import SetupWizard
from tests.gui.helpers import send_receive, settle
from tests.gui.test_reading import HTML_MAIL, open_first
from tools.fakemail import FakeMail

PIN = "2580"
SU_PIN = "8642"


def click_action(qtbot: QtBot, w: MainWindow, action) -> None:  # noqa: ANN001 - a QAction
    button = w.findChild(QToolBar).widgetForAction(action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_box(qtbot: QtBot, box) -> None:  # noqa: ANN001 - a QCheckBox: clicked on its square
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def sign_in(qtbot: QtBot, w: MainWindow, name: str, pin: str) -> None:
    click_action(qtbot, w, w.role_action)
    dialog = w.sign_in_dialog
    qtbot.add_widget(dialog)
    dialog.user.setCurrentIndex(dialog.user.findData(name))
    qtbot.keyClicks(dialog.pin, pin)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.checking, timeout=15000)  # the PIN is checked off the GUI thread
    assert w.role.user == name, dialog.problem.text()


def tick_trial(qtbot: QtBot, w: MainWindow, ticked: set[str]) -> None:
    """As the super user: the Trial group with exactly `ticked`, and its user Tess."""
    if not w.roles.has_pin(SUPER):
        w.roles.update_user(SUPER, pin=SU_PIN)  # a super user manages once they have a PIN
    sign_in(qtbot, w, SUPER, SU_PIN)
    w.users_dialog = None
    click_action(qtbot, w, w.pins)
    dialog = w.users_dialog
    qtbot.add_widget(dialog)
    page = dialog.page
    page.group_name.clear()
    qtbot.keyClicks(page.group_name, "Trial")
    for key, box in page.ticks.items():
        if box.isChecked() != (key in ticked):
            click_box(qtbot, box)
    qtbot.mouseClick(page.save_group, Qt.MouseButton.LeftButton)
    assert "saved" in page.said.text(), page.problem.text()
    if not any(u.name == "Tess" for u in w.roles.users()):
        page.user_name.clear()
        qtbot.keyClicks(page.user_name, "Tess")
        page.user_group.setCurrentIndex(page.user_group.findData("Trial"))
        qtbot.keyClicks(page.pin, PIN)
        qtbot.keyClicks(page.again, PIN)
        qtbot.mouseClick(page.add_user, Qt.MouseButton.LeftButton)
        assert "added" in page.said.text(), page.problem.text()
    dialog.close()
    sign_in(qtbot, w, "Tess", PIN)


# -- what each permission lets a person do, tried by clicks; True when it could be done ----------------
def sees_html(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    open_first(qtbot, w)
    view = w.message_view
    click_box(qtbot, view.formatted)
    shown = view.formatted.isChecked() and "<b>" in view.body.toHtml().replace('font-weight:700', '<b>')
    view.formatted.setChecked(False)
    return shown


def follows_links(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    open_first(qtbot, w)
    asked: list[str] = []
    w.message_view.confirm_link = lambda address: bool(asked.append(address))  # shown, then refused
    w.message_view.follow_link(QUrl("http://bank.example/"))
    return asked == ["http://bank.example/"] and 'href="http://bank.example/"' in w.message_view.safe.html


def opens_setup(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    click_action(qtbot, w, w.setup)
    wizards = [x for x in QApplication.topLevelWidgets() if isinstance(x, SetupWizard) and x.isVisible()]
    for wizard in wizards:
        qtbot.add_widget(wizard)
        wizard.done(0)
    return bool(wizards)


def manages_users(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    w.users_dialog = None
    click_action(qtbot, w, w.pins)
    if w.users_dialog is None:
        return False
    qtbot.add_widget(w.users_dialog)
    w.users_dialog.close()
    return True


def runs_actions(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    page = w.admin_page
    page.select_book("outbox_health")
    page.cells.setCurrentRow(page.cells.count() - 1)  # the reset action
    page.last_page = ""
    asked: list[str] = []

    def say_no() -> None:
        box = QApplication.activeModalWidget()
        if box is not None:
            asked.append(box.windowTitle())
            box.reject()
        elif not page.last_page:
            QTimer.singleShot(10, say_no)

    QTimer.singleShot(10, say_no)
    qtbot.mouseClick(page.run_cell, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(page.last_page), timeout=20000)
    return bool(asked) and "may not run it" not in page.output.toPlainText()


def changes_templates(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    editor = w.template_editor
    editor.list.setCurrentRow(0)
    code = editor.loaded.code
    before = w.app.templates.get(code).description
    qtbot.keyClicks(editor.description, "!")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    after = w.app.templates.get(code).description
    editor.description.setText(after)  # nothing left typed
    return after == before + "!"


def mass_emails(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    w.last_mass_mail = None
    click_action(qtbot, w, w.mass_mail)
    if w.last_mass_mail is None:
        return False
    qtbot.add_widget(w.last_mass_mail)
    w.last_mass_mail.close()
    return True


def deletes(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    open_first(qtbot, w)
    before = w.inbox.model_.rowCount()
    w.inbox.setFocus()
    qtbot.keyClick(w.inbox, Qt.Key.Key_Delete)
    settle(qtbot, w)
    w.inbox_page.refresh()
    settle(qtbot, w)
    gone = w.inbox.model_.rowCount() == before - 1
    assert gone == w.outbox_page.buttons["Delete"].isEnabled()  # the outbox's Delete goes with it
    return gone


def exports_patient_data(qtbot: QtBot, w: MainWindow, tmp: Path) -> bool:
    page = w.admin_page
    box = page.with_patient_data
    click_box(qtbot, box)
    target = tmp / f"diagnostics-{box.isChecked()}.zip"
    page.note.setText("")
    page.save_diagnostics(target)
    qtbot.wait_until(lambda: "Diagnostics" in page.note.text(), timeout=60000)
    with zipfile.ZipFile(target) as z:
        included = json.loads(z.read("versions.json"))["patient data included"]
    box.setChecked(False)
    return bool(included)


def unlocks_sms(qtbot: QtBot, w: MainWindow, _tmp: Path) -> bool:
    """The SMS page's Unlock, on a practice ID locked by a passed test, works only when allowed."""
    from tests.gui.test_sms_setup import open_sms_page

    wizard = open_sms_page(qtbot, w)
    try:
        return wizard.sms.unlock.isVisible() and wizard.sms.unlock.isEnabled()
    finally:
        wizard.reject()


def _mail(qtbot: QtBot, w: MainWindow, fakemail: FakeMail, permission: str) -> None:
    fakemail.deliver("practice", HTML_MAIL)
    if permission == "delete":  # one to delete, one left to try again
        fakemail.deliver("practice", b"From: a@example.com\r\nSubject: Two\r\nMessage-ID: <two@x>\r\n\r\nHi\r\n")
    send_receive(qtbot, w)


CAN: dict[str, Callable[[QtBot, MainWindow, Path], bool]] = {
    "view_html": sees_html, "hyperlinks": follows_links, "setup_wizard": opens_setup, "manage_pins": manages_users,
    "admin_actions": runs_actions, "templates": changes_templates, "mass_email": mass_emails, "delete": deletes,
    "export_patient_data": exports_patient_data, "unlock_sms_account": unlocks_sms,
}
ALSO = {"hyperlinks": {"view_html"},  # links are in the formatted version
        "unlock_sms_account": {"setup_wizard"}}  # the Unlock is on the setup's text-message page
MAIL = {"view_html", "hyperlinks", "delete"}


def test_every_permission_has_a_test() -> None:
    assert set(CAN) == set(PERMISSIONS)


@pytest.mark.parametrize("permission", list(PERMISSIONS))
def test_each_permission_both_ways(qtbot: QtBot, window: MainWindow, fakemail: FakeMail, tmp_path: Path,
                                   permission: str) -> None:
    if permission in MAIL:
        _mail(qtbot, window, fakemail, permission)
    if permission == "unlock_sms_account":  # a test that passed locked the practice ID
        from tests.integration.test_sms import configure_sms

        configure_sms(window.app.practice, fakemail)
        window.app.test_sms()
    also = ALSO.get(permission, set())
    tick_trial(qtbot, window, {permission} | also)
    assert CAN[permission](qtbot, window, tmp_path), f"ticked, {permission} could not be done"
    tick_trial(qtbot, window, also)
    assert not CAN[permission](qtbot, window, tmp_path), f"unticked, {permission} could still be done"


def test_a_wrong_pin_keeps_the_dialog_and_sign_out_goes_back_to_the_desk(qtbot: QtBot, window: MainWindow) -> None:
    window.roles.add_user("Tess", "dentist", PIN)
    click_action(qtbot, window, window.role_action)
    dialog = window.sign_in_dialog
    qtbot.add_widget(dialog)
    assert not dialog.out.isVisible()  # nobody to sign out
    dialog.user.setCurrentIndex(dialog.user.findData("Tess"))
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: not dialog.checking, timeout=15000)
    assert dialog.isVisible() and "do not match" in dialog.problem.text() and dialog.pin.text() == ""
    assert window.role.user == "" and window.role.group == "reception"
    qtbot.keyClicks(dialog.pin, PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: not dialog.checking, timeout=15000)
    assert not dialog.isVisible() and window.role.user == "Tess" and window.role_action.text() == "Tess"
    click_action(qtbot, window, window.role_action)
    dialog = window.sign_in_dialog
    qtbot.add_widget(dialog)
    assert dialog.out.isVisible()
    qtbot.mouseClick(dialog.out, Qt.MouseButton.LeftButton)
    assert window.role.user == "" and "Signed out" in window.status_line.text()


def test_the_users_page_says_why_it_cannot_lock_the_practice_out(qtbot: QtBot, window: MainWindow) -> None:
    window.roles.update_user(SUPER, pin=SU_PIN)
    sign_in(qtbot, window, SUPER, SU_PIN)
    click_action(qtbot, window, window.pins)
    page = window.users_dialog.page
    qtbot.add_widget(window.users_dialog)
    page.select(group=SUPER)
    assert page.ticks["manage_pins"].isChecked() and not page.ticks["manage_pins"].isEnabled()
    page.select(user=SUPER)
    qtbot.mouseClick(page.remove_user, Qt.MouseButton.LeftButton)
    assert "last super user" in page.problem.text() and any(u.name == SUPER for u in window.roles.users())
    page.user_group.setCurrentIndex(page.user_group.findData("reception"))
    qtbot.mouseClick(page.save_user, Qt.MouseButton.LeftButton)
    assert "last super user" in page.problem.text() and window.role.group == SUPER
    qtbot.keyClicks(page.pin, "12")  # too short: said, nothing stored
    qtbot.keyClicks(page.again, "12")
    page.user_group.setCurrentIndex(page.user_group.findData(SUPER))
    qtbot.mouseClick(page.save_user, Qt.MouseButton.LeftButton)
    assert "4 to 12 digits" in page.problem.text() and window.roles.verify(SUPER, SU_PIN)
