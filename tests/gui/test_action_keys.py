"""Every action reachable by keyboard with visible shortcuts (issue 19, Build): each view's
buttons have a key, named in the tooltip, no key does two things in the window while the view
shows, and a key pressed does what its button does (a sample per view)."""

from __future__ import annotations

from collections import Counter

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import QApplication, QDialog, QHBoxLayout, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk.main_window import VIEWS, MainWindow
from kiosk.message_view import MessageView
from tests.gui.helpers import settle

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def _native(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.NativeText)


def _shown_buttons(widget: QWidget) -> list[QPushButton]:
    return [b for b in widget.findChildren(QPushButton) if b.isVisible()]


def _key(button: QPushButton) -> QKeySequence:
    """The button's own key (kiosk/widgets.keyed)."""
    own = button.findChildren(QShortcut)
    return own[0].key() if own else QKeySequence()


def _live_keys(window: MainWindow) -> list[str]:
    """Every key that does something in the window now: the toolbar's and the navigation's
    actions and shortcuts, and the shown buttons' keys (a hidden tab's buttons take no key)."""
    keys = [_native(a.shortcut()) for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    keys += [_native(s.key()) for s in window.findChildren(QShortcut)
             if s.isEnabled() and not s.key().isEmpty() and s.parent().isVisible()]
    return keys


def _action_rows(page: QWidget) -> list[list[str]]:
    """Rows of two or more shown buttons in the view, the reading pane's own row apart."""
    rows = []
    for layout in page.findChildren(QHBoxLayout):
        shown = [layout.itemAt(i).widget() for i in range(layout.count())]
        buttons = [w.text() for w in shown if isinstance(w, QPushButton) and w.isVisible()]
        if len(buttons) >= 2 and not isinstance(layout.parentWidget(), MessageView):
            rows.append(buttons)
    return rows


@pytest.mark.parametrize("view", VIEWS)
def test_every_button_of_a_view_has_its_key_in_its_tooltip_and_no_key_does_two_things(
        qtbot: QtBot, window: MainWindow, view: str) -> None:
    window.show_view(view)
    settle(qtbot, window)
    page = window.tabs.currentWidget()
    buttons = _shown_buttons(page)
    assert buttons
    keyless = [b.text() for b in buttons if _key(b).isEmpty()]
    assert not keyless, f"{view}: no key for {keyless}"
    untold = [(b.text(), b.toolTip()) for b in buttons if f"({_native(_key(b))})" not in b.toolTip()]
    assert not untold, f"{view}: the tooltip does not name the key: {untold}"
    doubled = [k for k, n in Counter(_live_keys(window)).items() if n > 1]
    assert not doubled, f"{view}: a key does two things: {doubled}"
    rows = _action_rows(page)
    assert len(rows) <= 2, f"{view}: rows of buttons {rows}"  # the list's actions (and a day's navigation)


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    window.activateWindow()
    qtbot.wait_until(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window.tabs.currentWidget(), key, modifiers)  # the button's key clicks it at once
    qtbot.keyRelease(window, Qt.Key.Key_Control)  # Qt keeps the last modifiers application-wide


def test_a_key_does_what_its_button_does(qtbot: QtBot, window: MainWindow) -> None:
    """Patients: Ctrl+Shift+A adds a patient, Ctrl+O opens the one selected. Appointments:
    Alt+Right is the next day, Ctrl+T today. Outbox: Ctrl+O opens the item selected."""
    window.show_view("patients")
    settle(qtbot, window)
    window.dialog = None
    _press(qtbot, window, Qt.Key.Key_A, CTRL | SHIFT)
    qtbot.wait_until(lambda: isinstance(window.dialog, QDialog) and window.dialog.isVisible())
    qtbot.add_widget(window.dialog)
    window.dialog.close()
    window.patients.selectRow(0)
    shown_before = {w for w in window.findChildren(QDialog) if w.isVisible()}
    _press(qtbot, window, Qt.Key.Key_O, CTRL)

    def opened() -> list[QDialog]:
        return [w for w in window.findChildren(QDialog) if w.isVisible() and w not in shown_before]

    qtbot.wait_until(lambda: bool(opened()))
    assert window.patients.model_.text(0, 0) in opened()[0].windowTitle()
    opened = opened()
    for dialog in opened:
        qtbot.add_widget(dialog)
        dialog.close()

    window.show_view("appointments")
    day = window.day_list.chosen_day()
    _press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: (window.day_list.chosen_day() - day).days == 1)
    _press(qtbot, window, Qt.Key.Key_T, CTRL)
    qtbot.wait_until(lambda: window.day_list.chosen_day() == day)  # today (the demo's day list opens on today)
