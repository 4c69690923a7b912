"""Prompt-before-send at the desk: "Send this confirmation now?" when the worker says a
confirmation has fallen due (engine/service/prompts.py, through the bridge's `prompt_due`; not at
booking, not at a timer's next look); Yes sends it by a real pass at once, No cancels it, says so
and offers Undo (the confirmation ready again, and the worker asks again). On every desk: another
desk hears the question through the database (engine/service/desk_prompts.py), and a question
answered at one desk is withdrawn from the others, saying who answered. Part of the main window
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
    _prompt_boxes: dict[int, QMessageBox]  # the questions open here, by item
    refresh_outbox: Any
    jobs: Any
    role: Any

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
            self._prompt_boxes[item.id] = box
            box.show()
            boxes.append(box)
        return boxes

    def withdraw_prompt(self, details: dict[str, Any]) -> None:
        """Answered at another desk (or the item cancelled or deleted there): the question closes
        here, and the status bar says who answered and what."""
        rid = details["rid"]
        box = self._prompt_boxes.pop(rid, None)
        if box is None or rid not in self._asking:
            return  # not asked here, or answered here already
        self._asking.discard(rid)
        box.finished.disconnect()  # closing it is no answer
        box.done(QMessageBox.StandardButton.Cancel.value)
        to, words = plain.shown(", ".join(details["item"].to)), details.get("answered")
        self.status_line.setText(f"The confirmation to {to} was answered at another desk: {plain.shown(words)}."
                                 if words else f"The confirmation to {to} no longer waits for an answer "
                                 f"({details['item'].status.value}).")
        self.refresh_outbox()

    def answer_prompt(self, rid: int, send: bool) -> None:
        """Yes: sent now, by a real pass. No: cancelled, and said so here and in the contact history.
        Off the GUI thread (on another desk the service takes it through the database); the
        other desks are told who answered: the person signed in here, else reception."""
        self._asking.discard(rid)
        self._prompt_boxes.pop(rid, None)
        who = getattr(self.role, "user", "") or ""

        def answer() -> Any:
            self.app.answer_prompt(rid, send, who)
            return self.app.outbox_item(rid)

        self.jobs.run(answer, lambda item: self._answered(item, send), self._not_answered)

    def _answered(self, item: Any, send: bool) -> None:
        if not send:
            to = ", ".join(item.to)
            self.status_line.setText(f"The confirmation to {plain.shown(to)} will not be sent.")
            self.offer_undo(item.id, to)
        self.refresh_outbox()
        if send and self.send_receive.isEnabled():
            self.start_send_receive()

    def _not_answered(self, exc: Exception) -> None:
        """Answered first at another desk (its words say who), or the service not there."""
        message = exc.message if isinstance(exc, PracticeMailError) else f"the answer was not taken ({exc})"
        self.status_line.setText(f"{message[:1].upper()}{message[1:]}.")
        self.refresh_outbox()

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
        at once, at every desk (through the bridge, as it asked the first time)."""
        self.undo_prompt.hide()
        self.jobs.run(lambda rid=self._undo_rid: self.app.undo_prompt(rid), self._taken_back,
                      lambda exc: self.status_line.setText(f"{exc.message}. {exc.hint}" if isinstance(
                          exc, PracticeMailError) else f"Could not take the answer back ({exc})."))

    def _taken_back(self, item: Any) -> None:
        self.status_line.setText(f"The confirmation to {plain.shown(', '.join(item.to))} is back in the outbox.")
        self.refresh_outbox()
