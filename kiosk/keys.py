"""A button's own key, named in its tooltip: the views' action rows and every dialog's buttons
(tests/gui/test_action_keys.py, tests/gui/test_dialog_keys.py). Qt only, so kiosk/plain.py's
message and input boxes can use it too."""

from __future__ import annotations

from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QDialogButtonBox, QPushButton


def keyed(button: QPushButton, key: str) -> QPushButton:
    """`key` clicks `button` while it shows (a view's buttons are hidden with their tab, so
    views may reuse a key; tests/gui/test_action_keys.py checks none is doubled in a window),
    and its tooltip names the key as the keyboard does ("Open (Ctrl+O)"). A shortcut of the
    button's own, not QAbstractButton.setShortcut: that one clicks 100 ms later (animateClick),
    this one at once, and not while the button is disabled (a group without the permission)."""
    shortcut = QShortcut(QKeySequence(key), button)
    shortcut.activated.connect(button.click)
    shown = shortcut.key().toString(QKeySequence.SequenceFormat.NativeText)
    tip = button.toolTip() or button.text().replace("&", "").rstrip(".")
    button.setToolTip(f"{tip} ({shown})")
    return button


ACCEPT_KEY, CLOSE_KEY = "Ctrl+Return", "Esc"  # a dialog's Send/OK (the mail clients' key) and Cancel/Close


def keyed_box(box: QDialogButtonBox, others: dict[str, str] | None = None) -> QDialogButtonBox:
    """A dialog's row of buttons keyed (tests/gui/test_dialog_keys.py walks every dialog): its
    accepting button (Send, OK, Save) Ctrl+Return, its Cancel or Close Esc, each named in the
    tooltip; any other button by its text in `others` ({"Save Draft": "Ctrl+S"})."""
    roles = {QDialogButtonBox.ButtonRole.AcceptRole: ACCEPT_KEY, QDialogButtonBox.ButtonRole.RejectRole: CLOSE_KEY}
    for button in box.buttons():
        key = (others or {}).get(button.text().replace("&", "")) or roles.get(box.buttonRole(button))
        if key and isinstance(button, QPushButton):
            keyed(button, key)
    return box
