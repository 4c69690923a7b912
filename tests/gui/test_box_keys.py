"""Every button of the kiosk's message and input boxes has a key (issue 19): plain.box's Yes and
No (Qt's underlined Y and N), Save draft / Discard / Keep editing (S, D, K), an input dialog's OK
and Cancel (Ctrl+Return, Esc). Only those builders make boxes (tests/gui/dialog_keys.py walks
kiosk for them, test_dialog_keys.py::test_every_dialog_of_the_kiosk_is_walked)."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from kiosk import plain
from kiosk.main_window import MainWindow
from tests.gui.dialog_keys import a_message, press, problems, shown
from tools.fakemail import FakeMail


def test_every_message_box_button_has_a_key(qtbot: QtBot, window: MainWindow) -> None:
    """plain.box's Yes/No (Qt's underlined Y and N) and OK; and Save draft / Discard / Keep editing,
    asked by Esc in a compose with typed words: K (alone, as a message box takes it) keeps editing."""
    for buttons in (QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Ok):
        box = plain.box(QMessageBox.Icon.Question, "Sure?", "Sure?", window, buttons)
        qtbot.add_widget(box)
        box.show()
        assert not problems(box, f"plain.box {buttons}")
        box.close()
    compose = shown(qtbot, window.open_compose("P043"))
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
        press(qtbot, compose, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
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
    compose = shown(qtbot, window.open_compose("P043"))
    found, frame = _answered(qtbot, lambda: compose.files.ask_frame("xray.dcm", 3), Qt.Key.Key_Return,
                             Qt.KeyboardModifier.ControlModifier, lambda box: box.setIntValue(2))
    assert (found, frame) == ([], 1)
    a_message(qtbot, window, fakemail)
    rid = window.inbox.id_at(0)
    found, _ = _answered(qtbot, lambda: window.inbox_page.new_tag([rid]), Qt.Key.Key_Escape,
                         Qt.KeyboardModifier.NoModifier)
    assert found == [] and not window.app.inbox_message(rid).tags
