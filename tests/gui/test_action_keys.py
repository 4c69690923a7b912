"""Every action reachable by keyboard with visible shortcuts (issue 19, Build): each view's
buttons have a key, named in the tooltip, no key does two things in the window while the view
shows, and a key pressed does what its button does (a sample per view)."""

from __future__ import annotations

from collections import Counter

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QDialog, QHBoxLayout, QLineEdit,
                             QPushButton, QWidget)
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


def _in_pane(widget: QWidget) -> bool:
    """Inside the inbox's reading pane (its message buttons are a row of the pane's own)."""
    while widget is not None:
        if isinstance(widget, MessageView):
            return True
        widget = widget.parentWidget()
    return False


def _action_rows(page: QWidget) -> list[list[QPushButton]]:
    """The view's shown buttons (the reading pane's apart) by the row they sit in on screen:
    buttons whose heights overlap are one row, whatever layouts hold them."""
    rows: list[list[QPushButton]] = []
    for b in sorted((b for b in _shown_buttons(page) if not _in_pane(b)), key=lambda b: _top(b, page)):
        if rows and _top(b, page) < _top(rows[-1][0], page) + rows[-1][0].height():
            rows[-1].append(b)
        else:
            rows.append([b])
    return rows


def _beside_a_field(button: QPushButton) -> bool:
    """A lone button that belongs to the field beside it (the template editor's Insert field by
    its merge-field choice): part of that field, not a row of actions."""
    layout = next((lay for lay in button.parentWidget().findChildren(QHBoxLayout)
                   if lay.indexOf(button) >= 0), None)
    return layout is not None and any(isinstance(layout.itemAt(i).widget(), (QComboBox, QLineEdit))
                                      for i in range(layout.count()))


def _top(widget: QWidget, page: QWidget) -> int:
    return widget.mapTo(page, QPoint(0, 0)).y()


def _lists(page: QWidget) -> list[QAbstractItemView]:
    """The view's shown lists and tables (the reading pane's apart)."""
    return [v for v in page.findChildren(QAbstractItemView) if v.isVisible() and not _in_pane(v)
            and v.parentWidget() is not None and not isinstance(v.parentWidget(), QComboBox)]


@pytest.mark.parametrize("view", VIEWS)
def test_every_button_of_a_view_has_its_key_in_its_tooltip_and_no_key_does_two_things(
        qtbot: QtBot, window: MainWindow, view: str) -> None:
    window.resize(1280, 800)
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
    rows = [r for r in _action_rows(page) if not (len(r) == 1 and _beside_a_field(r[0]))]
    assert len(rows) == 1, f"{view}: rows of buttons {[[b.text() for b in r] for r in rows]}"
    bottom = max(_top(b, page) + b.height() for b in rows[0])
    below = [type(v).__name__ for v in _lists(page) if _top(v, page) < bottom]
    assert below == [], f"{view}: the action row is not above {below}"


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
