"""Prompt-before-send on every desk (#19, issue 21): "send this confirmation now?" asked at each
desk that answers prompts, not only at the one that runs the service, and answered at any of them.

The worker marks a confirmation asked the moment it falls due (engine/service/prompts.py,
`Outbox.mark_asked`); that write is an outbox notice every other desk hears (LISTEN/NOTIFY), and
such a desk reads the items marked asked and still waiting (`_look_at_prompts`): a new one is
asked (`prompt_due`, as the service's own desk hears it from the worker), one no longer waiting
is withdrawn (`prompt_withdrawn`, with who answered, in words). A desk opened later is asked at
once (its first look, after its LISTEN is in place); a restarted service finds the marks stored.

An answer (and Undo's ask-again) from another desk is a desk command the service carries out in
one transaction with its answer row (engine/service/desks.py). The answer is taken once, the
item's row locked (Outbox.answer_prompt): of two desks answering at once the first wins, the
second is refused with who answered and what, so an item is sent at most once.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import ServiceUnavailable
from engine.service.desks import prompt_from
from engine.service.prompts import PROMPT_DUE, PROMPT_WITHDRAWN, tell, withdrawn
from engine.service.values import OutboxItem

if TYPE_CHECKING:
    from engine.service.app import App

log = logging.getLogger("practicemail.service")
Listener = Callable[[str, dict[str, Any]], None]
LOOK_ON = (None, "outbox", "heartbeat")  # notices after which a desk looks again (a service back: its beat)


def times_asked(item: OutboxItem) -> int:
    """How often the item was asked (an Undo asks again: a new question, even in the same second)."""
    return sum(h.get("event") == "prompt_asked" for h in item.record.get("history", []))


class DeskPrompts:
    """Mixed into the App through DesksDoor (engine/service/app_desks.py)."""

    def _init_desk_prompts(self) -> None:
        self._desk_askers: list[Listener] = []
        self._desk_asked: dict[int, int] = {}  # asked here: item -> times asked (see `times_asked`)
        self._desk_prompt_lock = threading.Lock()

    @property
    def desk_name(self) -> str:
        """This desk as other desks are told it: the computer's name."""
        return socket.gethostname() or "another desk"

    def answer_prompt(self: "App", rid: int, send: bool, who: str = "") -> None:
        """'Send this confirmation now?': yes makes it due at once (the caller runs a pass), no
        cancels it. `who`: the person at this desk ("": reception); the other desks are told.
        On another desk the service takes it (a desk command); answered already at another desk,
        it is refused with who answered and what."""
        by = f"{who or 'reception'} at {self.desk_name}"
        if self.on_another_desk:
            try:
                self.ask_service("answer_prompt", {"rid": rid, "send": bool(send), "by": by})
            except ServiceUnavailable:
                self._forget_asked(rid)  # asked again when the service is back (its next notice)
                raise
            return
        self._command("answer a confirmation")
        self.reminders.answer_prompt(rid, send, self.now(), by)
        self.engine.wake()  # the worker withdraws the question from this process's other desks

    def undo_prompt(self: "App", rid: int) -> OutboxItem:
        """Reception's No to a confirmation taken back (the desk's Undo): ready, and the worker asks
        again, at every desk."""
        if self.on_another_desk:
            self.ask_service("undo_prompt", {"rid": rid, "send": False, "by": ""})
            return self.outbox.item(rid)
        self._command("take back an answer")
        self.outbox.undo_prompt_answer(rid, self.now())
        self.engine.ask_again(rid)
        return self.outbox.item(rid)

    def _carry_out_prompt(self: "App", kind: str, args: dict[str, Any]) -> dict[str, Any]:
        """Another desk's answer or Undo, done here (the service) as its desk command."""
        rid, send, by = prompt_from(args)
        if kind == "undo_prompt":
            self.undo_prompt(rid)
            return {"rid": rid}
        self.reminders.answer_prompt(rid, send, self.now(), by)
        return {"rid": rid, "send": send}

    # -- another desk: asked by the marks it reads ------------------------------------------
    def _hear_prompts(self: "App", listener: Listener) -> None:
        """A listener on another desk that answers prompts; asked at once about what waits."""
        with self._desk_prompt_lock:
            self._desk_askers.append(listener)
        threading.Thread(target=self._first_look, name="practicemail-desk-prompts", daemon=True).start()

    def _first_look(self: "App") -> None:
        try:
            if self.hearing(30.0):  # after the LISTEN: no mark slips between this read and the notices
                self._look_at_prompts()
        except Exception as exc:  # noqa: BLE001 - the database gone or the desk closing: the next notice looks again
            log.warning("could not read the confirmations waiting for an answer: %s", exc)

    def _look_at_prompts(self: "App") -> None:
        """The items marked asked and still waiting, against those this desk was asked about:
        new ones asked, those no longer waiting withdrawn (with who answered)."""
        if not self._desk_askers:
            return
        with self._desk_prompt_lock:  # one look at a time (the first look and the watcher)
            asked = {i.id: i for i in self.outbox.awaiting_prompt() if i.record.get("asked")}
            times = {rid: times_asked(i) for rid, i in asked.items()}
            fresh = [asked[rid] for rid in sorted(asked) if self._desk_asked.get(rid) != times[rid]]
            gone = sorted(set(self._desk_asked) - set(asked))
            for rid in gone:
                del self._desk_asked[rid]
            self._desk_asked.update(times)
            for rid in gone:
                self._tell_desk(PROMPT_WITHDRAWN, withdrawn(self.outbox, rid))
            for item in fresh:
                self._tell_desk(PROMPT_DUE, {"item": item})

    def _tell_desk(self, name: str, details: dict[str, Any]) -> None:
        tell(list(self._desk_askers), name, details)

    def _forget_asked(self, rid: int) -> None:
        with self._desk_prompt_lock:
            self._desk_asked.pop(rid, None)
