"""Checking a dialog's keys (tests/gui/test_dialog_keys.py, test_box_keys.py): every shown push
button has a key of its own, named in its tooltip (kiosk/keys.keyed) or underlined (a mnemonic),
and no key does two things in the dialog. And finding every dialog and box the kiosk builds, by
walking kiosk's modules, so a new one cannot go unchecked."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import Counter
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import QAbstractButton, QApplication, QDialog, QLabel, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

import kiosk
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def native(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.NativeText)


def own(widget: QWidget, dialog: QDialog) -> bool:
    return widget.isVisible() and widget.window() is dialog


def key_of(button: QAbstractButton) -> tuple[str, bool]:
    """The button's key, and whether it is shown: its own shortcut named in the tooltip
    (kiosk/widgets.keyed), or the underlined letter of its text."""
    own = [s for s in button.findChildren(QShortcut) if s.parent() is button]
    if own:
        key = native(own[0].key())
        return key, f"({key})" in button.toolTip()
    key = native(QKeySequence.mnemonic(button.text()))
    return key, bool(key)


def live_keys(dialog: QDialog) -> list[str]:
    """Every key that does something in the dialog as it shows: shortcuts, actions, underlined letters."""
    keys = [native(s.key()) for s in dialog.findChildren(QShortcut)
            if not s.key().isEmpty() and isinstance(s.parent(), QWidget) and own(s.parent(), dialog)]
    keys += [native(a.shortcut()) for a in dialog.findChildren(QAction) if not a.shortcut().isEmpty()]
    keys += [native(QKeySequence.mnemonic(w.text())) for w in dialog.findChildren(QAbstractButton)
             if own(w, dialog) and "&" in w.text().replace("&&", "")]
    keys += [native(QKeySequence.mnemonic(w.text())) for w in dialog.findChildren(QLabel)
             if own(w, dialog) and w.buddy() is not None and "&" in w.text().replace("&&", "")]
    return [k for k in keys if k]


def problems(dialog: QDialog, where: str) -> list[str]:
    out = []
    buttons = [b for b in dialog.findChildren(QPushButton) if own(b, dialog)]
    assert buttons, f"{where}: no button shown"
    if isinstance(dialog, QMessageBox) and len(buttons) == 1:
        return []  # a message box's only button (OK): Enter and Esc both press it, and there is nothing else
    for b in buttons:
        key, told = key_of(b)
        if not key:
            out.append(f"{where}: {b.text()!r} has no key")
        elif not told:
            out.append(f"{where}: {b.text()!r} does not show its key {key} (tooltip {b.toolTip()!r})")
    doubled = [k for k, n in Counter(live_keys(dialog)).items() if n > 1]
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
MESSAGE_BOXES = {"plain.box", "widgets.ask_unsaved",  # test_box_keys.py::test_every_message_box_button_has_a_key
                 "plain.input_dialog"}  # test_box_keys.py::test_every_input_dialog_has_its_keys


def shown(qtbot: QtBot, dialog: QDialog | None) -> QDialog:
    assert dialog is not None
    if not isinstance(dialog.parent(), QDialog):  # else closed with the dialog it came from
        qtbot.add_widget(dialog)
    qtbot.wait_until(dialog.isVisible)
    return dialog


def select_first(qtbot: QtBot, window: MainWindow, view: str) -> None:
    window.show_view(view)
    settle(qtbot, window)
    table = {"inbox": window.inbox, "outbox": window.outbox, "patients": window.patients}[view]
    assert table.model_.rowCount(), f"nothing in {view}"
    table.selectRow(0)


def a_message(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: Priya Patel <patel.family@mailhome.example>\r\nSubject: Dev's x-ray\r\n"
                                 b"Message-ID: <keys@p>\r\n\r\nhere\r\n")
    send_receive(qtbot, window)
    select_first(qtbot, window, "inbox")


def press(qtbot: QtBot, dialog: QDialog, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    dialog.activateWindow()
    qtbot.wait_until(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(QApplication.focusWidget() or dialog, key, modifiers)
    qtbot.keyRelease(dialog, Qt.Key.Key_Control)  # Qt keeps the last modifiers application-wide
