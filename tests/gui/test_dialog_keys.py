"""Every action reachable by keyboard with visible shortcuts, in the dialogs too (issue 19): every
shown push button of every dialog the kiosk opens has a key of its own, named in its tooltip
(kiosk/widgets.keyed) or underlined (a mnemonic), and no key does two things in the dialog; a
sample of keys pressed does what the button does. The dialogs are found by walking kiosk's modules
(every QDialog subclass, every function building a bare QDialog), so a new one must be added here."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QAbstractButton, QApplication, QDialog, QInputDialog, QLabel, QMessageBox, QPushButton,
                             QWidget, QWizard)
from pytestqt.qtbot import QtBot

import kiosk
from engine.service.app import NewEmail
from kiosk import plain
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail

Opener = Callable[[QtBot, MainWindow, FakeMail], QDialog]
OPENERS: dict[str, Opener] = {}


def opens(*names: str) -> Callable[[Opener], Opener]:
    def register(opener: Opener) -> Opener:
        for name in names:
            OPENERS[name] = opener
        return opener
    return register


def _native(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.NativeText)


def _own(widget: QWidget, dialog: QDialog) -> bool:
    return widget.isVisible() and widget.window() is dialog


def _key(button: QAbstractButton) -> tuple[str, bool]:
    """The button's key, and whether it is shown: its own shortcut named in the tooltip
    (kiosk/widgets.keyed), or the underlined letter of its text."""
    own = [s for s in button.findChildren(QShortcut) if s.parent() is button]
    if own:
        key = _native(own[0].key())
        return key, f"({key})" in button.toolTip()
    key = _native(QKeySequence.mnemonic(button.text()))
    return key, bool(key)


def _live_keys(dialog: QDialog) -> list[str]:
    """Every key that does something in the dialog as it shows: shortcuts, actions, underlined letters."""
    keys = [_native(s.key()) for s in dialog.findChildren(QShortcut)
            if not s.key().isEmpty() and isinstance(s.parent(), QWidget) and _own(s.parent(), dialog)]
    keys += [_native(a.shortcut()) for a in dialog.findChildren(QAction) if not a.shortcut().isEmpty()]
    keys += [_native(QKeySequence.mnemonic(w.text())) for w in dialog.findChildren(QAbstractButton)
             if _own(w, dialog) and "&" in w.text().replace("&&", "")]
    keys += [_native(QKeySequence.mnemonic(w.text())) for w in dialog.findChildren(QLabel)
             if _own(w, dialog) and w.buddy() is not None and "&" in w.text().replace("&&", "")]
    return [k for k in keys if k]


def problems(dialog: QDialog, where: str) -> list[str]:
    out = []
    buttons = [b for b in dialog.findChildren(QPushButton) if _own(b, dialog)]
    assert buttons, f"{where}: no button shown"
    if isinstance(dialog, QMessageBox) and len(buttons) == 1:
        return []  # a message box's only button (OK): Enter and Esc both press it, and there is nothing else
    for b in buttons:
        key, told = _key(b)
        if not key:
            out.append(f"{where}: {b.text()!r} has no key")
        elif not told:
            out.append(f"{where}: {b.text()!r} does not show its key {key} (tooltip {b.toolTip()!r})")
    doubled = [k for k, n in Counter(_live_keys(dialog)).items() if n > 1]
    if doubled:
        out.append(f"{where}: a key does two things: {doubled}")
    return out


# -- every dialog the kiosk can open -------------------------------------------------------------
def kiosk_dialogs() -> set[str]:
    """module.Class for every QDialog subclass in kiosk/ (QWizard included), and module.function
    for every function that builds a bare QDialog."""
    found = set()
    for info in pkgutil.iter_modules(kiosk.__path__):
        module = importlib.import_module(f"kiosk.{info.name}")
        found |= {f"{info.name}.{name}" for name, cls in vars(module).items()
                  if inspect.isclass(cls) and issubclass(cls, QDialog) and cls.__module__ == module.__name__}
        tree = ast.parse(Path(module.__file__ or "").read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and any(
                    isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "QDialog"
                    for c in ast.walk(fn)):
                found.add(f"{info.name}.{fn.name}")
    return found


def message_box_builders() -> set[str]:
    """module.function for every function in kiosk/ that builds a QMessageBox (or asks Qt's static
    ones to) or adds a button of its own to one."""
    found = set()
    for path in Path(kiosk.__file__).parent.glob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for call in (c for c in ast.walk(fn) if isinstance(c, ast.Call)):
                f = call.func
                built = isinstance(f, ast.Name) and f.id in ("QMessageBox", "QInputDialog") or (
                    isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    and f.value.id in ("QMessageBox", "QInputDialog") and f.attr in STATICS)
                added = isinstance(f, ast.Attribute) and f.attr == "addButton" and "QMessageBox" in ast.unparse(call)
                if built or added:
                    found.add(f"{path.stem}.{fn.name}")
    return found


STATICS = ("question", "warning", "information", "critical", "about",  # Qt's own boxes, keys and all: not used
           "getText", "getItem", "getInt", "getDouble", "getMultiLineText")
MESSAGE_BOXES = {"plain.box", "widgets.ask_unsaved",  # test_every_message_box_button_has_a_key
                 "plain.input_dialog"}  # test_every_input_dialog_has_its_keys


def test_every_dialog_of_the_kiosk_is_walked() -> None:
    assert message_box_builders() == MESSAGE_BOXES, "a message box built elsewhere: walk it below"
    found = kiosk_dialogs()
    assert found - set(OPENERS) == set(), "a dialog no test opens: add its opener to tests/gui/test_dialog_keys.py"
    assert set(OPENERS) - found == set(), "an opener for a dialog that is gone"


def _shown(qtbot: QtBot, dialog: QDialog | None) -> QDialog:
    assert dialog is not None
    if not isinstance(dialog.parent(), QDialog):  # else closed with the dialog it came from
        qtbot.add_widget(dialog)
    qtbot.wait_until(dialog.isVisible)
    return dialog


def _select_first(qtbot: QtBot, window: MainWindow, view: str) -> None:
    window.show_view(view)
    settle(qtbot, window)
    table = {"inbox": window.inbox, "outbox": window.outbox, "patients": window.patients}[view]
    assert table.model_.rowCount(), f"nothing in {view}"
    table.selectRow(0)


def _a_message(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: Priya Patel <patel.family@mailhome.example>\r\nSubject: Dev's x-ray\r\n"
                                 b"Message-ID: <keys@p>\r\n\r\nhere\r\n")
    send_receive(qtbot, window)
    _select_first(qtbot, window, "inbox")


def _an_outbox_item(qtbot: QtBot, window: MainWindow) -> None:
    window.app.compose(NewEmail("P043", subject="Your results", text="Your results are ready."))
    window.refresh_outbox()
    _select_first(qtbot, window, "outbox")


@opens("compose.ComposeDialog")
def _compose(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Create New Email
    qtbot.keyRelease(window, Qt.Key.Key_Control)
    return _shown(qtbot, window.last_compose)


@opens("address_book.AddressBook")
def _address_book(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, _shown(qtbot, window.open_compose("P043")).open_address_book(modal=False))


@opens("text_compose.TextDialog")
def _text(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    compose = _shown(qtbot, window.open_compose("P043"))
    qtbot.mouseClick(compose.text_instead, Qt.MouseButton.LeftButton)
    return _shown(qtbot, compose.last_text)


@opens("reply.ReplyDialog")
def _reply(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _a_message(qtbot, window, fakemail)
    return _shown(qtbot, window.inbox_page.reply_selected())


@opens("forward_compose.ForwardDialog")
def _forward(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _a_message(qtbot, window, fakemail)
    return _shown(qtbot, window.inbox_page.forward_selected())


@opens("file_to.FileTo")
def _file_to(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _a_message(qtbot, window, fakemail)
    return _shown(qtbot, window.inbox_page.file_selected())


@opens("outbox_page.read")
def _outbox_read(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _an_outbox_item(qtbot, window)
    rid = window.outbox.id_at(0)
    return _shown(qtbot, window.outbox_page.read(rid))


@opens("outbox_page.describe_selected")
def _outbox_describe(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _an_outbox_item(qtbot, window)
    return _shown(qtbot, window.outbox_page.describe_selected())


@opens("mass_mail.MassMail")
def _mass_mail(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, window.open_mass_mail())


@opens("patient_file.PatientFile")
def _patient_file(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, window.open_patient("P043"))


@opens("patient_edit.PatientEditDialog")
def _patient_edit(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, window.add_patient())


@opens("appointments.SlotDialog")
def _slot(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    from kiosk.appointments import SlotDialog  # opened by exec() from the patient file's Book...
    dialog = SlotDialog(window.app, window.app.directory.require("patients", "P043"), "Book an appointment", None, window)
    dialog.show()
    return _shown(qtbot, dialog)


@opens("day_list.RecallList")
def _recall_list(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    window.show_view("appointments")
    qtbot.mouseClick(window.day_list.buttons["Recall list..."], Qt.MouseButton.LeftButton)
    return _shown(qtbot, window.day_list.last_recalls)


@opens("recall_run.RecallRunDialog")
def _recall_run(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    recalls = _recall_list(qtbot, window, fakemail)
    qtbot.mouseClick(recalls.buttons["Run recalls..."], Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, recalls.last_run)
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    return dialog


@opens("reminder_rules.ReminderRulesDialog")
def _rules(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    window.show_view("templates")
    qtbot.mouseClick(window.template_editor.actions["Reminder rules..."], Qt.MouseButton.LeftButton)
    return _shown(qtbot, window.template_editor.rules_dialog)


@opens("status_light.ServiceDialog")
def _service(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, window.open_service_dialog())


@opens("users_page.UsersDialog")
def _users(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    assert window.sign_in("super user", "")  # a fresh install: no PIN yet
    return _shown(qtbot, window.open_pins())


@opens("pins.SignInDialog")
def _sign_in(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    assert window.sign_in("super user", "")  # Sign out shown too
    return _shown(qtbot, window.choose_role())


@opens("wizard.SetupWizard")
def _wizard(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return _shown(qtbot, window.open_wizard())


@pytest.mark.parametrize("name", sorted(OPENERS))
def test_every_button_of_a_dialog_has_its_own_key_shown_and_no_key_does_two_things(
        qtbot: QtBot, window: MainWindow, fakemail: FakeMail, name: str) -> None:
    dialog = OPENERS[name](qtbot, window, fakemail)
    found = []
    if isinstance(dialog, QWizard):  # each page as it shows, with the wizard's own buttons
        for page_id in dialog.pageIds():
            dialog.setStartId(page_id)
            dialog.restart()
            found += problems(dialog, f"{name}, page {dialog.currentPage().title()!r}")
    else:
        found = problems(dialog, name)
    assert not found, "\n".join(found)


# -- keys pressed ----------------------------------------------------------------------------------
def _press(qtbot: QtBot, dialog: QDialog, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    dialog.activateWindow()
    qtbot.wait_until(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(QApplication.focusWidget() or dialog, key, modifiers)
    qtbot.keyRelease(dialog, Qt.Key.Key_Control)  # Qt keeps the last modifiers application-wide


def test_ctrl_return_sends_the_email_to_the_server(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    compose = _shown(qtbot, window.open_compose("P043"))
    qtbot.keyClicks(compose.subject, "Your new appointment card")
    compose.body.setFocus()
    qtbot.keyClicks(compose.body, "Here it is.")
    _press(qtbot, compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # typing in the body
    qtbot.wait_until(lambda: compose.queued_id is not None and not compose.isVisible())
    send_receive(qtbot, window)
    assert any(b"Your new appointment card" in m["data"] for m in fakemail.sent())


def test_the_wizards_test_key_runs_the_test_and_esc_cancels(qtbot: QtBot, window: MainWindow,
                                                            fakemail: FakeMail) -> None:
    wizard = _wizard(qtbot, window, fakemail)
    while wizard.currentPage() is not wizard.test:
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    key, _told = _key(wizard.test.run)
    assert key == "Alt+T"
    _press(qtbot, wizard, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    assert wizard.test.passed, wizard.test.verdict.text()
    _press(qtbot, wizard, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    qtbot.wait_until(lambda: not wizard.isVisible())


def test_the_address_books_keys_fill_to_and_cc(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    book = _address_book(qtbot, window, fakemail)
    book.table.selectRow(0)
    book.table.setFocus()
    _press(qtbot, book, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: bool(book.lines["To"].text()))
    assert not book.lines["Cc"].text()
    book.table.selectRow(1)
    _press(qtbot, book, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: bool(book.lines["Cc"].text()))


def test_every_message_box_button_has_a_key(qtbot: QtBot, window: MainWindow) -> None:
    """plain.box's Yes/No (Qt's underlined Y and N) and OK; and Save draft / Discard / Keep editing,
    asked by Esc in a compose with typed words: K (alone, as a message box takes it) keeps editing."""
    for buttons in (QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Ok):
        box = plain.box(QMessageBox.Icon.Question, "Sure?", "Sure?", window, buttons)
        qtbot.add_widget(box)
        box.show()
        assert not problems(box, f"plain.box {buttons}")
        box.close()
    compose = _shown(qtbot, window.open_compose("P043"))
    qtbot.keyClicks(compose.subject, "Half written")
    found: dict[str, list[str]] = {}

    def look() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):  # not asked yet
            QTimer.singleShot(10, look)
            return
        found["problems"] = problems(box, "widgets.ask_unsaved")
        if found["problems"]:  # no K to press: answered by hand, and the test fails below
            box.escapeButton().click()
        else:
            qtbot.keyClick(box, Qt.Key.Key_K)

    QTimer.singleShot(0, look)
    try:
        _press(qtbot, compose, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
        qtbot.wait_until(lambda: "problems" in found and QApplication.activeModalWidget() is None)
        assert found["problems"] == []
        assert compose.isVisible() and compose.subject.text() == "Half written"  # kept editing
    finally:
        compose.discard()  # closed without asking again


def _answered(qtbot: QtBot, ask: Callable[[], object], press: Qt.Key, modifiers: Qt.KeyboardModifier,
              before: Callable[[QInputDialog], None] = lambda _d: None) -> tuple[list[str], object]:
    """`ask()` shows a modal input dialog: its keys are checked, `press` pressed; what it asked
    for comes back (Cancel pressed by hand when it shows no key, so the test fails and ends)."""
    found: list[str] = []

    def look() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QInputDialog):
            QTimer.singleShot(10, look)
            return
        found.extend(problems(box, box.windowTitle()) or [""])
        if found != [""]:
            box.reject()
            return
        before(box)
        qtbot.wait_until(lambda: QApplication.activeWindow() is box)
        qtbot.keyClick(QApplication.focusWidget() or box, press, modifiers)
        qtbot.keyRelease(box, Qt.Key.Key_Control)

    QTimer.singleShot(0, look)
    answer = ask()
    return [f for f in found if f], answer


def test_every_input_dialog_has_its_keys(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """plain.input_dialog's OK and Cancel: Ctrl+Return and Esc, named; Ctrl+Return takes the frame
    typed in an x-ray's "Which frame?", Esc cancels a new tag."""
    compose = _shown(qtbot, window.open_compose("P043"))
    found, frame = _answered(qtbot, lambda: compose.files.ask_frame("xray.dcm", 3), Qt.Key.Key_Return,
                             Qt.KeyboardModifier.ControlModifier, lambda box: box.setIntValue(2))
    assert (found, frame) == ([], 1)
    _a_message(qtbot, window, fakemail)
    rid = window.inbox.id_at(0)
    found, _ = _answered(qtbot, lambda: window.inbox_page.new_tag([rid]), Qt.Key.Key_Escape,
                         Qt.KeyboardModifier.NoModifier)
    assert found == [] and not window.app.inbox_message(rid).tags
