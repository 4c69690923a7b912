"""A whole day at the desk (issue 19): buttons that do what they say, an empty compose, names
not codes, nothing typed lost without asking, a readable outbox, searches, feedback."""

from __future__ import annotations

import ast
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive
from tools.fakemail import FakeMail

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
CLICKS = {"clicked", "triggered"}  # Qt passes `checked` into a slot that takes a positional argument


def button(widget: object, text: str) -> QPushButton:
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def _deliver(fakemail: FakeMail, n: int) -> None:
    for i in range(n):
        fakemail.deliver("practice", f"From: stranger{i}@example.com\r\nSubject: Question {i}\r\n"
                                     f"Message-ID: <q{i}@example.com>\r\n\r\nHello\r\n".encode())


def test_mark_read_button_and_menu_mark_read(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """Issue 19 item 13: the button passed checked=False into mark_selected_read(read)."""
    _deliver(fakemail, 1)
    send_receive(qtbot, window)
    window.inbox.selectRow(0)
    rid = window.inbox.selected_ids()[0]
    qtbot.mouseClick(button(window.inbox_page, "Mark unread"), Qt.MouseButton.LeftButton)
    assert not window.engine.inbox.get(rid)["read"]
    qtbot.mouseClick(button(window.inbox_page, "Mark read"), Qt.MouseButton.LeftButton)
    assert window.engine.inbox.get(rid)["read"]
    window.inbox_page.mark_selected_read(False)
    menu = window.inbox_page.menu()
    next(a for a in menu.actions() if a.text() == "Mark read").trigger()
    assert window.engine.inbox.get(rid)["read"]


def _methods(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}


def _takes_positional(f: ast.FunctionDef) -> bool:
    names = [a.arg for a in [*f.args.posonlyargs, *f.args.args] if a.arg != "self"]
    return bool(names or f.args.vararg)


def _slot_problem(slot: ast.expr, methods: dict[str, ast.FunctionDef]) -> str | None:
    """A slot Qt would hand `checked` to: a method of ours taking a positional argument, or a
    bare name (a slot from a list, which could be anything)."""
    if isinstance(slot, ast.Lambda):
        return None
    if isinstance(slot, ast.Attribute) and isinstance(slot.value, ast.Name) and slot.value.id == "self":
        f = methods.get(slot.attr)
        return f"self.{slot.attr} takes a positional argument" if f and _takes_positional(f) else None
    if isinstance(slot, ast.Name):
        return f"{slot.id}: a slot from a variable, not wrapped"
    return None


def test_no_click_or_trigger_hands_checked_to_a_slot() -> None:
    """Every clicked/triggered connection (and QMenu.addAction(text, slot)) in kiosk/ reaches a
    slot that takes no positional argument, or goes through a lambda that drops it."""
    found = []
    for path in sorted(KIOSK.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        methods = _methods(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            slot = None
            if node.func.attr == "connect" and isinstance(node.func.value, ast.Attribute) \
                    and node.func.value.attr in CLICKS and node.args:
                slot = node.args[0]
            elif node.func.attr == "addAction" and len(node.args) >= 2:
                slot = node.args[-1]
            problem = _slot_problem(slot, methods) if slot is not None else None
            if problem:
                found.append(f"{path.name}:{node.lineno}: {problem}")
    assert found == []


def test_create_new_email_opens_with_no_patient_chosen(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 3: Ctrl+N chose the alphabetically first patient; two clicks sent to them."""
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.last_compose
    assert dialog is not None
    qtbot.add_widget(dialog)
    assert not dialog.patient.currentData()
    assert not dialog.send.isEnabled() and not dialog.save_draft.isEnabled()
    assert "patient" in dialog.problem.text().lower()
    qtbot.keyClicks(dialog.subject, "Hello")
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)
    assert dialog.queued_id is None and dialog.isVisible()
    dialog.patient.setCurrentIndex(dialog.patient.findData("P001"))
    assert dialog.send.isEnabled() and dialog.problem.text() == ""
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert dialog.queued_id is not None and window.engine.outbox.get(dialog.queued_id)["patient_id"] == "P001"
