"""The outbox's part in prompt-before-send (engine/service/prompts.py asks, a desk answers): the
question marked out to the desks, reception's answer, and a No taken back. A part of `Outbox`
(engine/service/outbox.py), kept apart by topic; every change is an event of engine/core/outbox.py.

The mark (`asked`, by the `prompt_asked` event) is what other desks go by: written by the worker
the moment the confirmation falls due, it changes the item's row, so every desk hears an outbox
notice and reads the item as asked (engine/service/desk_prompts.py); a desk opened later reads it
at once; a service restarted finds it still asked. The answer is taken once: the first one wins,
a second is refused naming who answered (`answered_by`), so an item is sent at most once.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from engine.core import outbox as rules
from engine.core.outbox import Event, State
from engine.errors import InputInvalid


def answered_words(stored: Any) -> str:
    """Who answered a confirmation, and what, in words ("" when it was not answered at a prompt)."""
    answer = next((h for h in reversed(stored.get("history", [])) if h.get("event") == Event.PROMPT_ANSWERED.value),
                  None)
    if answer is None:
        return ""
    what = "Yes (send it)" if answer.get("detail") == "send" else "No (do not send it)"
    return f"{stored.get('answered_by') or 'someone'} answered {what}"


class PromptAnswers:
    _items: Any
    _lock: threading.RLock

    def mark_asked(self, rid: int, now: datetime) -> bool:
        """The question is out (the worker, as the confirmation falls due): False when it already
        was, or the item no longer waits for an answer (answered, cancelled, deleted since)."""
        def change(_rid: int, stored: Any) -> dict[str, Any] | None:
            if not stored.get("prompt") or stored["status"] != State.READY.value or stored.get("asked"):
                return None
            return rules.apply(stored, Event.PROMPT_ASKED, now, fields={"asked": now.isoformat()})[0]

        with self._lock:
            return bool(self._items.modify_many([rid], change).get(rid))

    def answer_prompt(self, rid: int, send: bool, now: datetime, by: str = "") -> dict[str, Any]:
        """Reception's answer to 'send this confirmation now?', in one write. Yes: it goes at the
        next pass (no more holding). No: it is cancelled. `by`: who answered, in words. Answered
        already (at another desk), it is refused with who answered and what."""
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            if not stored.get("prompt") or stored["status"] != State.READY.value:
                done = answered_words(stored)
                raise InputInvalid(f"the confirmation was already answered: {done}" if done else
                                   f"outbox item {rid} is not waiting for an answer", hint="Refresh the outbox.")
            fields = {"prompt": False, "answered_by": by[:200], **({"deliver_after": now.isoformat()} if send else {})}
            new = rules.apply(stored, Event.PROMPT_ANSWERED, now, error="send" if send else "do not send",
                              fields=fields)[0]
            return new if send else rules.apply(new, Event.CANCEL, now)[0]

        with self._lock:
            return self._items.modify_many([rid], change)[rid]

    def undo_prompt_answer(self, rid: int, now: datetime) -> dict[str, Any]:
        """Reception's No taken back: the confirmation is ready again and asked about again. Only
        while nothing else happened to it since the No (its last two events are that answer)."""
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            last = [h.get("event") for h in stored.get("history", [])[-2:]]
            if stored["status"] != State.CANCELLED.value or last != [Event.PROMPT_ANSWERED.value, Event.CANCEL.value]:
                raise InputInvalid(f"outbox item {rid} was not declined at the prompt just now",
                                   hint="Refresh the outbox; queue the confirmation again from the appointment.")
            return rules.apply(stored, Event.PROMPT_UNDONE, now, error="asked again",
                               fields={"prompt": True, "asked": None, "answered_by": None})[0]

        with self._lock:
            return self._items.modify_many([rid], change)[rid]
