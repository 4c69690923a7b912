"""Forwarding a received message: a window like compose's, not an address prompt, so
reception can say why it is forwarded and cut what the other side need not see. The body
starts with the original quoted as plain text (the sender's words are untrusted, never drawn
as rich text); the original itself still goes attached whole, and the engine's gate decides
who may receive it (kiosk/widgets.py asks, naming the patient, for an outside address). The
outbox's Forward opens the same window for a sent item (kiosk/outbox_page.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.widgets import KEEP, ask_unsaved, keyed_box

QUOTE_MARK = "---- Forwarded message ----"


def forward_subject(subject: str) -> str:
    """The "Fwd: " mark once, however often the message was forwarded before."""
    return subject if subject.lower().startswith("fwd:") else f"Fwd: {subject}"


def quoted(message: dict[str, Any], original: str) -> str:
    """The original as the body's plain-text quote: who sent it, when, about what, then its words."""
    sender = message.get("from") or "(no sender)"
    name = message.get("from_name") or ""
    to = [f"To: {', '.join(message['to'])}"] if message.get("to") else []  # a sent item: who it went to
    return "\n".join(["", "", QUOTE_MARK, f"From: {name} <{sender}>" if name else f"From: {sender}",
                      f"Date: {message.get('date') or message.get('received') or ''}", *to,
                      f"Subject: {message.get('subject', '')}", "", original])


def files_note(names: list[str]) -> str:
    """What goes with the forward besides the words: the original whole, and the files in it."""
    if not names:
        return "The original message goes attached as it came."
    return "The original message goes attached as it came, with its files: " + ", ".join(names)


class ForwardDialog(QDialog):
    """`send(to, subject, text)` queues the forward and returns its outbox id; it raises the
    engine's refusal (a patient of another family, an outside address not confirmed), which is
    shown here in plain words and leaves the window open to fix the address."""

    def __init__(self, message: dict[str, Any], original: str, send: Callable[[str, str, str], int],
                 parent: QWidget | None = None, files: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Forward")
        self._send = send
        self.queued_id: int | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.to = QLineEdit()
        self.to.setPlaceholderText("Forward to (address)")
        form.addRow("To", self.to)
        self.subject = QLineEdit(forward_subject(message.get("subject", "")))
        form.addRow("Subject", self.subject)
        layout.addLayout(form)
        self.text = QPlainTextEdit(quoted(message, original))
        layout.addWidget(self.text, 1)
        self.files = plain.label(files_note(files or []), wrap=True)  # file names are anyone's: text
        layout.addWidget(self.files)
        self.problem = plain.label()
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
        self._as_opened = self._state()
        self.resize(640, 520)

    def _state(self) -> tuple[str, str, str]:
        return self.to.text(), self.subject.text(), self.text.toPlainText()

    def reject(self) -> None:
        """A forward with typed changes is not thrown away without asking (Discard / Keep editing)."""
        if self.queued_id is None and self._state() != self._as_opened \
                and ask_unsaved(self, "This forward", can_save=False) == KEEP:
            return
        super().reject()

    def apply(self) -> bool:
        to = self.to.text().strip()
        if not to:
            self.problem.setText("Write the address to forward to first.")
            return False
        try:
            self.queued_id = self._send(to, self.subject.text().strip(), self.text.toPlainText())
        except PracticeMailError as exc:
            self.problem.setText(f"Not forwarded: {exc.message}. {exc.hint}")
            return False
        self.accept()
        return True
