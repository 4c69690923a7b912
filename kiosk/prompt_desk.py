"""Prompt-before-send at the desk: "Send this confirmation now?" when the worker says a
confirmation has fallen due (engine/service/prompts.py, through the bridge's `prompt_due`; not at
booking, not at a timer's next look); Yes sends it by a real pass at once, No cancels it, says so
and offers Undo (the confirmation ready again, and the worker asks again). Part of the main window
(kiosk/main_window.py), kept apart so each stays readable."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QMessageBox, QPushButton

from engine.errors import PracticeMailError
from kiosk import plain


class PromptDesk:
    app: Any
    status_line: Any
    _asking: set[int]
    refresh_outbox: Any

    def ask_prompts(self, waiting: list[Any]) -> list[QMessageBox]:
        """'Send this confirmation now?' for each confirmation the worker says is due; one question
        per item while it is open. Not modal: the desk goes on working while it waits."""
        boxes = []
        for item in waiting:
            if item.id in self._asking:
                continue
            self._asking.add(item.id)
            box = plain.box(QMessageBox.Icon.Question, "Confirmation",
                            f"Send this confirmation now?\n\n{plain.shown(item.subject)}\n"
                            f"to {plain.shown(', '.join(item.to))}",
                            self, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            box.finished.connect(lambda result, rid=item.id: self.answer_prompt(
                rid, result == QMessageBox.StandardButton.Yes.value))
            box.show()
            boxes.append(box)
        return boxes

    def answer_prompt(self, rid: int, send: bool) -> None:
        """Yes: sent now, by a real pass. No: cancelled, and said so here and in the contact history."""
        try:
            self.app.answer_prompt(rid, send)
        except PracticeMailError as exc:
            self.status_line.setText(f"{exc.message}")
            send = False
        else:
            if not send:
                to = ", ".join(self.app.outbox_item(rid).to)
                self.status_line.setText(f"The confirmation to {plain.shown(to)} will not be sent.")
                self.offer_undo(rid, to)
        self._asking.discard(rid)
        self.refresh_outbox()
        if send and self.send_receive.isEnabled():
            self.start_send_receive()

    def offer_undo(self, rid: int, to: str) -> QPushButton:
        """Undo beside the status bar's words, until used or another No takes its place."""
        button = getattr(self, "undo_prompt", None)
        if button is None:
            self.undo_prompt = button = QPushButton("Undo")
            button.clicked.connect(lambda _checked=False: self.take_back_prompt())
            self.statusBar().addPermanentWidget(button)
        self._undo_rid = rid
        button.setToolTip(f"Ask again about the confirmation to {plain.shown(to)}")
        button.show()
        return button

    def take_back_prompt(self) -> None:
        """The No taken back: the confirmation is ready again, and the worker asks about it again
        at once (through the bridge, as it asked the first time)."""
        self.undo_prompt.hide()
        try:
            item = self.app.undo_prompt(self._undo_rid)
        except PracticeMailError as exc:
            self.status_line.setText(f"{exc.message}. {exc.hint}")
            return
        self.status_line.setText(f"The confirmation to {plain.shown(', '.join(item.to))} is back in the outbox.")
        self.refresh_outbox()
