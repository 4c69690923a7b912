"""Small pieces the kiosk's pages share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import QHBoxLayout, QMessageBox, QPushButton, QVBoxLayout, QWidget

from engine.core.confidentiality import FORWARD_OUTSIDE_PRACTICE
from engine.errors import RuleRefused
from kiosk import plain
from kiosk.keys import ACCEPT_KEY, CLOSE_KEY, keyed, keyed_box  # noqa: F401 - the kiosk's keys, used from here


def no_checked(slot: Callable[[], Any]) -> Callable[..., Any]:
    """A slot for clicked/triggered that never receives Qt's `checked` (a slot taking a
    positional argument would get False: "Mark read" marked the message unread)."""
    return lambda *_args: slot()


def confirm_outside(parent: QWidget, patients: list[str], to: str) -> bool:
    """Forwarding a patient's mail to an address that is no patient, provider or specialist:
    asked in words that name the patient (the answer is written in their contact history).
    Names and the address are a stranger's or a record's text: drawn as text, hidden
    characters written out (kiosk/plain.py)."""
    whose = " and ".join(patients) or "the patient"
    box = plain.box(QMessageBox.Icon.Warning, "Forward outside the practice?",
                    f"{to} is not a patient, provider or specialist of the practice.\n\n"
                    f"Forward {whose}'s mail there? Your answer is recorded in {whose}'s contact history.",
                    parent, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes.value


def forward_confirmed(parent: QWidget, send: Callable[[bool], int], patients: Callable[[], list[str]],
                      to: str) -> int:
    """Forward, and when the only refusal is that `to` is outside the practice, ask reception
    (naming whose mail it is) and forward as confirmed. Any other refusal is raised as it came."""
    try:
        return send(False)
    except RuleRefused as exc:
        if exc.rule != FORWARD_OUTSIDE_PRACTICE or not confirm_outside(parent, patients(), to):
            raise
    return send(True)


def with_buttons(table: QWidget, buttons: list[tuple[str, Any]], keys: dict[str, str] | None = None) -> QWidget:
    """A row of buttons above a table; a button given a key in `keys` is clicked by it and
    names it in its tooltip ("Reply (Ctrl+R)"), so the keys are found where the action is."""
    box = QWidget()
    layout = QVBoxLayout(box)
    row = QHBoxLayout()
    box.buttons = {}  # type: ignore[attr-defined]
    for label, slot in buttons:
        b = QPushButton(label)
        b.clicked.connect(no_checked(slot))
        if keys and label in keys:
            keyed(b, keys[label])
        box.buttons[label] = b  # type: ignore[attr-defined]
        row.addWidget(b)
    row.addStretch(1)
    layout.addLayout(row)
    layout.addWidget(table)
    return box


SAVE, DISCARD, KEEP = "save", "discard", "keep"


def ask_unsaved(parent: QWidget, what: str, can_save: bool = True, save_label: str = "Save draft") -> str:
    """Typed work is never thrown away without asking: Save draft / Discard / Keep editing
    (SAVE, DISCARD or KEEP; Escape keeps editing). Each has its underlined letter: S, D, K (with
    Alt or alone, as a message box takes them)."""
    question = plain.box(QMessageBox.Icon.Question, "Unsaved changes", f"{what} has changes that are not saved.",
                         parent, QMessageBox.StandardButton.NoButton)
    save = question.addButton(f"&{save_label}", QMessageBox.ButtonRole.AcceptRole)
    save.setVisible(can_save)
    discard = question.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
    keep = question.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
    question.setDefaultButton(keep)
    question.setEscapeButton(keep)
    question.exec()
    clicked = question.clickedButton()
    return SAVE if clicked is save and can_save else DISCARD if clicked is discard else KEEP
