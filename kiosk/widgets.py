"""Small pieces the kiosk's pages share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import QHBoxLayout, QInputDialog, QPushButton, QVBoxLayout, QWidget


def no_checked(slot: Callable[[], Any]) -> Callable[..., Any]:
    """A slot for clicked/triggered that never receives Qt's `checked` (a slot taking a
    positional argument would get False: "Mark read" marked the message unread)."""
    return lambda *_args: slot()


def ask_forward_address(parent: QWidget) -> str | None:
    """The address to forward to, or None if reception thought better of it."""
    to, ok = QInputDialog.getText(parent, "Forward", "Forward to (address):")
    return to.strip() if ok and to.strip() else None


def with_buttons(table: QWidget, buttons: list[tuple[str, Any]]) -> QWidget:
    """A row of buttons above a table."""
    box = QWidget()
    layout = QVBoxLayout(box)
    row = QHBoxLayout()
    for label, slot in buttons:
        b = QPushButton(label)
        b.clicked.connect(no_checked(slot))
        row.addWidget(b)
    row.addStretch(1)
    layout.addLayout(row)
    layout.addWidget(table)
    return box
