"""Replying to a patient: the reply written above the message it answers, which is shown
quoted beneath; the practice signature on request. Threaded by the engine (In-Reply-To,
References), so the patient's answer comes back to the same file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout,
                             QWidget)

from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.widgets import KEEP, ask_unsaved, keyed_box


class ReplyDialog(QDialog):
    def __init__(self, message: dict[str, Any], original: str, send: Callable[[str, bool], int],
                 has_signature: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reply")
        self._send = send
        self.queued_id: int | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        sender = message.get("from") or "(no sender)"
        form.addRow("To", plain.label(plain.shown(f"{message.get('from_name', '')} <{sender}>")))
        subject = message["subject"]
        subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        form.addRow("Subject", plain.label(plain.shown(subject)))
        layout.addLayout(form)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Your reply")
        layout.addWidget(self.text, 2)
        layout.addWidget(QLabel("The message you are answering (sent quoted below your reply):"))
        self.quote = QPlainTextEdit(original)
        self.quote.setReadOnly(True)
        layout.addWidget(self.quote, 1)
        self.signature = QCheckBox("Add the practice signature")
        self.signature.setChecked(has_signature)
        self.signature.setEnabled(has_signature)
        layout.addWidget(self.signature)
        self.problem = plain.label()
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send.setEnabled(bool(message.get("from")))
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
        self.resize(640, 520)

    def reject(self) -> None:
        """A reply typed and not sent is not thrown away without asking (Discard / Keep editing)."""
        if self.queued_id is None and self.text.toPlainText().strip() \
                and ask_unsaved(self, "This reply", can_save=False) == KEEP:
            return
        super().reject()

    def apply(self) -> bool:
        if not self.text.toPlainText().strip():
            self.problem.setText("Write the reply first.")
            return False
        try:
            self.queued_id = self._send(self.text.toPlainText(), self.signature.isChecked())
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return False
        self.accept()
        return True
