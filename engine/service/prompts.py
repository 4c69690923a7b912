"""Prompt-before-send, asked by the worker: "send this confirmation now?" raised the moment a
confirmation that waits for reception's answer falls due (its delay run out), not at booking and
not at a desk's next look. A part of `Engine` (engine/service/engine.py), kept apart by topic.

The worker emits `prompt_due` with the item (a frozen OutboxItem) to the listeners that said they
answer prompts (`Engine.subscribe(listener, answers_prompts=True)`: the kiosk's bridge, which turns
it into a Qt signal on the GUI thread). Each item is asked once; an Undo of a No (`ask_again`)
asks it again. The worker wakes for the next such moment as it does for any due item.

With no desk that answers (a headless `serve` on TinyDB), nothing is asked and nothing is marked
asked: the item waits, is never sent unasked (engine/core/outbox.py `is_due`), and the outbox's
Reason says it waits for a desk to confirm (App.waiting_words). The first desk that subscribes is
asked about everything then waiting.

On a database other desks answer too (engine/service/desk_prompts.py): as each confirmation falls
due the worker marks it asked in its record (`Outbox.mark_asked`), which every desk hears as an
outbox notice and reads, also a desk opened later and after a restart (the mark is stored). An
answer taken here or from another desk (a desk command) ends the question: the worker tells its
own desks it was withdrawn (`prompt_withdrawn`, with who answered in words), other desks read it
from the record. In memory only: which items this process's desks were asked about, so after a
restart a waiting item is asked again here, as a person at the desk needs (the question was on a
screen that is gone).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.errors import PracticeMailError
from engine.service.outbox_prompts import answered_words

if TYPE_CHECKING:
    from engine.service.outbox import Outbox

log = logging.getLogger("practicemail.service")
PROMPT_DUE = "prompt_due"
PROMPT_WITHDRAWN = "prompt_withdrawn"  # answered (here or at another desk), cancelled or deleted


class PromptAsking:
    clock: Any
    outbox: Outbox
    practice: Any
    _wake: threading.Event

    def _init_prompts(self) -> None:
        self._askers: list[Callable[[str, dict[str, Any]], None]] = []
        self._joined: list[Callable[[str, dict[str, Any]], None]] = []  # desks not yet asked what is out
        self._asked: set[int] = set()  # items whose question is out (at a desk, unanswered)
        self._asked_lock = threading.Lock()
        self._next_prompt: datetime | None = None  # when the next waiting confirmation falls due
        self.outbox.prompt_waits = self._wake.set  # a confirmation queued to ask about: plan its moment

    def answers_prompts(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """A desk that asks reception (the kiosk's bridge); the worker looks again at once."""
        with self._asked_lock:
            self._askers.append(listener)
            self._joined.append(listener)  # asked about the questions already out, at the next look
        self._wake.set()

    @property
    def desk_answers(self) -> bool:
        """Some desk listens for the question (else confirmations wait, unasked and unsent)."""
        return bool(self._askers)

    def ask_again(self, rid: int) -> None:
        """A No taken back (Undo): the item is asked about once more, by the worker, now."""
        with self._asked_lock:
            self._asked.discard(rid)
        self._wake.set()

    @property
    def other_desks_answer(self) -> bool:
        """On a database, desks other than this process's may answer (engine/service/desk_prompts.py)."""
        return callable(getattr(self.practice.store, "commands", None))

    def _ask_due_prompts(self) -> None:
        """On the worker: each confirmation that waits for an answer and has fallen due is marked
        asked (other desks read the mark) and asked about once, to every desk here that answers;
        those answered since are withdrawn from them; and the moment the next one falls due is
        kept for the worker's wake (`_next_wake`). With no desk anywhere: nothing read, nothing asked."""
        self._next_prompt = None
        if not self._askers and not self.other_desks_answer:
            return
        now = self.clock.now()
        waiting = self.outbox.awaiting_prompt()
        due = [i for i in waiting if i.deliver_after is None or i.deliver_after <= now]
        later = [i.deliver_after for i in waiting if i.deliver_after is not None and i.deliver_after > now]
        self._next_prompt = min(later) if later else None
        with self._asked_lock:
            gone = self._asked - {i.id for i in waiting}  # answered, cancelled or deleted
            self._asked -= gone
            fresh = [i for i in due if i.id not in self._asked]
            out = [i for i in due if i.id in self._asked]  # asked before a desk here joined (a database)
            self._asked.update(i.id for i in fresh)
            joined, self._joined = self._joined, []
        for item in fresh:
            if not item.record.get("asked"):
                self.outbox.mark_asked(item.id, now)  # the other desks hear it (an outbox notice)
            self._tell_desks(PROMPT_DUE, {"item": item})
        for item in out:
            self._tell_desks(PROMPT_DUE, {"item": item}, joined)
        for rid in sorted(gone):
            try:
                self._tell_desks(PROMPT_WITHDRAWN, withdrawn(self.outbox, rid))
            except PracticeMailError:  # the item is gone altogether: nothing to say about it
                continue

    def _tell_desks(self, name: str, details: dict[str, Any], only: list[Any] | None = None) -> None:
        """The desks here that answer (`only` those): asked, or told the question is withdrawn."""
        tell(list(self._askers if only is None else only), name, details)


def tell(desks: list[Callable[[str, dict[str, Any]], None]], name: str, details: dict[str, Any]) -> None:
    """Each desk asked or told; one desk's failure neither stops the engine nor the others hearing."""
    for listener in desks:
        try:
            listener(name, details)
        except Exception:  # noqa: BLE001 - a desk must never stop the engine
            log.exception("a desk failed to take %s", name)


def withdrawn(outbox: Any, rid: int) -> dict[str, Any]:
    """A question's end as a desk hears it: the item as it is now, and who answered, in words."""
    item = outbox.item(rid)
    return {"item": item, "rid": rid, "answered": answered_words(item.record)}
