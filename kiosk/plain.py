"""Untrusted text in Qt is plain text: one place says how.

Qt guesses. A QLabel, a QMessageBox or a tooltip whose first line looks like HTML is drawn
as rich text, so a sender named `"<b>Dr Okafor</b>" <x@evil.example>` showed as a bold
"Dr Okafor" with the real address gone, and a subject could draw fonts or ask for
`<img src=file:...>`. Everything the desk shows from mail, patients' records or servers goes
through here: labels and message boxes are told PlainText, a tooltip (which has no format
setting) is escaped when Qt would take it for HTML, and a name is shown with its hidden
bidi and control characters written out (`\\u202e`) by engine/core/names.py.

Our own fixed words may still use markup (`<b>Appointments</b>`); values never do.
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox, QInputDialog, QLabel, QMessageBox, QWidget

from engine.core.names import shown_name
from kiosk.keys import keyed_box

PLAIN = Qt.TextFormat.PlainText


def shown(text: object) -> str:
    """A value from outside as one line of a list or label: hidden characters made visible."""
    return shown_name("" if text is None else str(text))


def visible(text: str) -> str:
    """Several lines of such text: each line as `shown`, the line breaks kept."""
    return "\n".join(shown(line) for line in (text or "").split("\n"))


class PlainLabel(QLabel):
    """A label that draws its text as text, hidden characters made visible, whatever is set."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(PLAIN)
        self.setText(text)

    def setText(self, text: str | None) -> None:  # noqa: N802 - Qt's name
        super().setText(visible(text or ""))


PROBLEM = "color: #a01c1c"  # what is wrong, said in red: one colour for every view
PROBLEM_BOLD = PROBLEM + "; font-weight: bold"


def label(text: str = "", parent: QWidget | None = None, wrap: bool = False) -> PlainLabel:
    """A label that never draws its text as markup."""
    out = PlainLabel(text, parent)
    out.setWordWrap(wrap)
    return out


def tip(text: str) -> str:
    """A tooltip that shows exactly its text: Qt has no plain setting for tooltips and draws
    anything that looks like HTML as HTML, so such text is escaped (line breaks kept)."""
    text = visible(text)
    if not text or not Qt.mightBeRichText(text):
        return text
    return '<p style="white-space:pre-wrap">' + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


def box(icon: QMessageBox.Icon, title: str, text: str, parent: QWidget | None = None,
        buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> QMessageBox:
    """A message box (not yet shown) whose text is drawn as text."""
    out = QMessageBox(icon, title, visible(text), buttons, parent)
    out.setTextFormat(PLAIN)
    return out


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """QMessageBox.warning, with the text drawn as text."""
    box(QMessageBox.Icon.Warning, title, text, parent).exec()


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """QMessageBox.question (Yes/No), with the text drawn as text; True for Yes."""
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    question = box(QMessageBox.Icon.Question, title, text, parent, yes | no)
    return question.exec() == yes.value


def input_dialog(parent: QWidget | None, title: str, prompt: str) -> QInputDialog:
    """A QInputDialog (not yet shown) whose prompt (it may name a patient or a file) is drawn as
    text, its OK and Cancel keyed Ctrl+Return and Esc like every dialog's (kiosk/keys.py)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(visible(prompt))
    dialog.sizeHint()  # lays the dialog out: Qt makes its OK and Cancel then
    for child in dialog.findChildren(QLabel):
        child.setTextFormat(PLAIN)
    for box in dialog.findChildren(QDialogButtonBox):
        keyed_box(box)
    return dialog


def get_text(parent: QWidget | None, title: str, prompt: str, text: str = "") -> tuple[str, bool]:
    """QInputDialog.getText, the prompt drawn as text."""
    dialog = input_dialog(parent, title, prompt)
    dialog.setTextValue(text)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted.value
    return dialog.textValue(), ok


def get_item(parent: QWidget | None, title: str, prompt: str, items: list[str]) -> tuple[str, bool]:
    """QInputDialog.getItem (a list to choose from, not edited), the prompt drawn as text."""
    dialog = input_dialog(parent, title, prompt)
    dialog.setComboBoxItems(items)
    dialog.setComboBoxEditable(False)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted.value
    return dialog.textValue(), ok
