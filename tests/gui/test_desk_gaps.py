"""Issue 19's last gaps, found by the audit (docs/issue19-proof.md), each driven by clicks and keys:
the inbox's "replied" and "forwarded" marks (item 8), the appointment's date and time picker
(item 8), the diagnostics button (item 8), a key for every toolbar button, named in its tooltip
(Build: every action reachable by keyboard with visible shortcuts)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QApplication, QDateTimeEdit, QFileDialog, QPushButton, QToolBar
from pytestqt.qtbot import QtBot

from kiosk.appointments import SlotDialog
from kiosk.forward_compose import ForwardDialog
from kiosk.main_window import MainWindow
from kiosk.reply import ReplyDialog
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def button(widget: object, text: str) -> QPushButton:
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def shown(kind: type) -> object:
    (found,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    return found


def marks(window: MainWindow) -> dict[str, str]:
    m = window.inbox.model_
    return {m.text(r, 3): m.text(r, 0) for r in range(m.rowCount())}


def select(window: MainWindow, subject: str) -> None:
    m = window.inbox.model_
    window.inbox.selectRow(next(r for r in range(m.rowCount()) if m.text(r, 3) == subject))


def test_replied_and_forwarded_are_marked_in_the_inbox(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """The list said only "new": which message had been answered was found by opening each one's Info."""
    for n, subject in enumerate(("Can I come at 3?", "Invoice query")):
        fakemail.deliver("practice", f"From: caller{n}@example.com\r\nSubject: {subject}\r\n"
                                     f"Message-ID: <gap{n}@example.com>\r\n\r\nHello\r\n".encode())
    send_receive(qtbot, window)
    window.show_view("inbox")
    page = window.inbox_page
    assert sorted(marks(window)) == ["Can I come at 3?", "Invoice query"]
    assert not [m for m in marks(window).values() if "replied" in m or "forwarded" in m]

    select(window, "Can I come at 3?")
    settle(qtbot, window)
    qtbot.mouseClick(button(page, "Reply..."), Qt.MouseButton.LeftButton)
    reply = shown(ReplyDialog)
    qtbot.add_widget(reply)
    qtbot.keyClicks(reply.text, "Yes, 3 o'clock is free.")
    qtbot.mouseClick(reply.send, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert marks(window)["Can I come at 3?"] == "replied"

    select(window, "Invoice query")
    settle(qtbot, window)
    qtbot.mouseClick(button(page, "Forward..."), Qt.MouseButton.LeftButton)
    forward = shown(ForwardDialog)
    qtbot.add_widget(forward)
    qtbot.keyClicks(forward.to, "accounts@example.com")
    qtbot.mouseClick(forward.send, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert marks(window)["Invoice query"] == "forwarded"

    select(window, "Can I come at 3?")  # unread again: "new" and still "replied", at once and once read back
    qtbot.mouseClick(button(page, "Mark unread"), Qt.MouseButton.LeftButton)
    assert marks(window)["Can I come at 3?"] == "new replied"
    settle(qtbot, window)
    page.refresh()
    settle(qtbot, window)
    assert marks(window)["Can I come at 3?"] == "new replied"


def test_an_appointment_is_booked_and_moved_with_the_date_and_time_picker(qtbot: QtBot, window: MainWindow) -> None:
    """Book... and Move... open a calendar date and time (the practice's), chosen with keys."""
    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    seen: list[str] = []

    def pick(days: int, hours: int) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SlotDialog):
            QTimer.singleShot(10, lambda: pick(days, hours))
            return
        seen.append(dialog.windowTitle())
        edit = dialog.start
        assert edit.calendarPopup()
        edit.setFocus()
        edit.setCurrentSection(QDateTimeEdit.Section.DaySection)
        for _ in range(days):
            qtbot.keyClick(edit, Qt.Key.Key_Up)
        edit.setCurrentSection(QDateTimeEdit.Section.HourSection)
        for _ in range(hours):
            qtbot.keyClick(edit, Qt.Key.Key_Up)
        qtbot.keyClick(edit, Qt.Key.Key_Return)  # Enter takes the dialog's default: OK

    tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    before = {r["id"] for r in window.reminders.for_patient("P010")}
    QTimer.singleShot(0, lambda: pick(2, 5))  # the day after tomorrow's day, 14:00
    qtbot.mouseClick(button(pfile, "Book..."), Qt.MouseButton.LeftButton)
    settle(qtbot, window)  # booked on the jobs thread
    (appt,) = [r for r in window.reminders.for_patient("P010") if r["id"] not in before]
    start = datetime.fromisoformat(appt["start"]).astimezone(window.app.zone()).replace(tzinfo=None)
    booked = tomorrow + timedelta(days=2, hours=5)
    assert seen == ["Book an appointment"] and start == booked
    assert appt["provider_id"] == window.app.directory.require("patients", "P010")["usual_provider_id"]

    table = pfile.appointments.table
    table.selectRow([table.id_at(n) for n in range(table.model_.rowCount())].index(appt["id"]))
    QTimer.singleShot(0, lambda: pick(1, 1))  # a day later, an hour later
    qtbot.mouseClick(button(pfile, "Move..."), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    moved = datetime.fromisoformat(window.reminders.get(appt["id"])["start"]).astimezone(window.app.zone())
    assert seen[-1] == "Move the appointment" and moved.replace(tzinfo=None) == booked + timedelta(days=1, hours=1)


def test_the_diagnostics_button_saves_the_bundle_support_asks_for(qtbot: QtBot, window: MainWindow,
                                                                  tmp_path: Path) -> None:
    """One click on the Admin page, a file chosen, the bundle written (no patient data unless ticked)."""
    target = tmp_path / "for-support.zip"

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(10, choose)
            return
        dialog.selectFile(str(target))  # the name typed, then Save
        dialog.accept()

    window.show_view("admin")
    page = window.admin_page
    QTimer.singleShot(0, choose)
    qtbot.mouseClick(page.save_bundle, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: "Diagnostics saved" in page.note.text(), timeout=60000)
    assert "no patient data" in page.note.text()
    with zipfile.ZipFile(target) as z:
        assert json.loads(z.read("versions.json"))["patient data included"] is False


def test_every_toolbar_button_has_a_key_named_in_its_tooltip(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.findChild(QToolBar)
    actions = [a for a in bar.actions() if not a.isSeparator() and a.text() and bar.widgetForAction(a) is not None
               and a.icon() and not a.icon().isNull()]
    assert len(actions) >= 7
    keys = [a.shortcut() for a in actions]
    assert all(not k.isEmpty() for k in keys), [a.text() for a in actions if a.shortcut().isEmpty()]
    assert len({k.toString() for k in keys}) == len(keys)  # no key does two things
    for a in actions:
        assert f"({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" in a.toolTip(), a.toolTip()
    window.apply_role("reception")  # the role's tooltip is rewritten on each sign-in: the key stays in it
    assert f"({window.role_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" \
        in window.role_action.toolTip()

    window.last_mass_mail = None
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.last_mass_mail is not None and window.last_mass_mail.isVisible()
    qtbot.add_widget(window.last_mass_mail)
    window.last_mass_mail.close()
    window.sign_in_dialog = None
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.sign_in_dialog is not None and window.sign_in_dialog.isVisible()
    qtbot.add_widget(window.sign_in_dialog)
    window.sign_in_dialog.close()
    qtbot.keyRelease(window, Qt.Key.Key_Control)  # Ctrl and Shift let go (Qt keeps the last modifiers)


def test_the_inbox_buttons_name_the_keys_that_do_the_same(window: MainWindow) -> None:
    """The action row's buttons say their keys where reception looks ("Reply (Ctrl+R)"), and each
    key named is the button's own (pressing it clicks the button: tests/gui/test_action_keys.py)."""
    page = window.inbox_page
    named = {}
    for b in page.findChildren(QPushButton):
        tip = b.toolTip()
        if tip.endswith(")") and "(" in tip:
            named[b.text()] = tip[tip.rindex("(") + 1:-1]
    assert {"Reply...", "Forward...", "Delete"} <= set(named), named
    from PyQt6.QtGui import QShortcut

    answered = {b.text(): s.key().toString(QKeySequence.SequenceFormat.NativeText)
                for b in page.findChildren(QPushButton) for s in b.findChildren(QShortcut)}
    for label, key in named.items():
        assert answered[label] == key, (label, key, answered)
