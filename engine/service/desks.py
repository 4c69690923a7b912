"""Several desks (issue 21): other desks' commands carried out by the service, and what a desk's
commands look like on the way there.

On a database, the desk that runs the service (`serve`, or a kiosk that took the writer's lock)
runs a `Runner`: a thread that hears the database's notices of new command rows (and polls
slowly as a fallback), takes each row in turn, has the App carry it out, and writes the answer
back (engine/adapters/postgres/commands.py). A command that only writes records (a new email,
Reset failed) is carried out and answered in one transaction: a service killed between the two
leaves neither, and the standby that takes over carries it out once. Send/Receive and Restart
talk to servers, so no transaction is held across them (DESIGN.md: no lock across network
I/O); one cut short by a crash is simply done again by the next service, which is harmless.

On TinyDB (one desk) there are no other desks and none of this runs.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

from engine.core.names import hidden, shown_name
from engine.errors import InputInvalid, PracticeMailError
from engine.service.values import NewEmail

log = logging.getLogger("practicemail.service")

# how long a desk waits for the service's answer, per kind (a pass may send many items)
ASK_SECONDS = {"send_receive": 600.0, "reset_failed": 60.0, "restart": 60.0, "compose": 60.0,
               "answer_prompt": 60.0, "undo_prompt": 60.0}
KINDS = tuple(ASK_SECONDS)
IN_ONE_TRANSACTION = frozenset({"compose", "reset_failed", "answer_prompt", "undo_prompt"})
WATCH_SECONDS = 30.0  # the slow poll under the notices, on both sides
MOST_RIDS = 10_000
# a notice of a collection, as the engine event a kiosk already listens for
NOTICE_EVENTS = {"messages": ("new_mail",), "outbox": ("outbox_changed",), "heartbeat": ("service_state",)}
EVERY_EVENT = ("new_mail", "outbox_changed", "service_state")

_TEXT = ("patient_id", "subject", "text")
_OPTIONAL_TEXT = ("template", "provider_id", "specialist_id", "html", "category", "description")
_FLAGS = ("cc_specialist", "to_specialist", "signature", "as_draft", "confirmed_outside")
_ADDRESSES = ("extra_cc", "bcc")


def email_args(email: NewEmail) -> dict[str, Any]:
    """A new email as a command's arguments. Files stay on the desk that chose them, out of the
    service's reach, so an email with attachments is refused here, before anything is asked."""
    if email.attachments or email.attached:
        raise InputInvalid("an email with attachments cannot be sent from this desk yet: the files are on "
                           "this computer and the email service runs on another",
                           hint="Attach the files at the computer where the email service runs.")
    args = {k: v for k, v in dataclasses.asdict(email).items() if k not in ("attachments", "attached")}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}


def email_from(args: dict[str, Any]) -> NewEmail:
    """The arguments back as a NewEmail; anything not of its shape is refused, not guessed at."""
    known = {*_TEXT, *_OPTIONAL_TEXT, *_FLAGS, *_ADDRESSES, "scale_images_to"}
    if not isinstance(args, dict) or set(args) - known or not isinstance(args.get("patient_id"), str):
        raise InputInvalid("the desk's email was not understood", hint="Update practicemail on that desk.")
    ok = (all(isinstance(args.get(k, ""), str) for k in _TEXT)
          and all(args.get(k) is None or isinstance(args[k], str) for k in _OPTIONAL_TEXT)
          and all(isinstance(args.get(k, False), bool) for k in _FLAGS)
          and all(isinstance(args.get(k, []), list) and all(isinstance(a, str) for a in args.get(k, []))
                  for k in _ADDRESSES)
          and (args.get("scale_images_to") is None or type(args["scale_images_to"]) is int))
    if not ok:
        raise InputInvalid("the desk's email was not understood", hint="Update practicemail on that desk.")
    return NewEmail(**{k: tuple(v) if k in _ADDRESSES else v for k, v in args.items()})


def rids_from(args: dict[str, Any]) -> list[int]:
    rids = args.get("rids") if isinstance(args, dict) else None
    if not isinstance(rids, list) or len(rids) > MOST_RIDS or not all(type(r) is int and r > 0 for r in rids):
        raise InputInvalid("the desk's list of outbox items was not understood", hint="Refresh the outbox and try again.")
    return rids


def prompt_from(args: dict[str, Any]) -> tuple[int, bool, str]:
    """An answer to "send this confirmation now?" (or its Undo): the item, yes or no, and who
    answered in words; anything else is refused, not guessed at."""
    rid, send, by = (args.get(k) for k in ("rid", "send", "by")) if isinstance(args, dict) else (None, None, None)
    if type(rid) is not int or rid <= 0 or type(send) is not bool or not isinstance(by, str) \
            or any(hidden(ch) for ch in by):  # who answered is shown at every desk: one line, as written
        raise InputInvalid("the desk's answer was not understood", hint="Update practicemail on that desk.")
    return rid, send, by[:200]


class Runner:
    """The serving side: `perform(kind, args)` carries a command out and returns its JSON-able
    result; `transaction()` is the store's (PgStore.transaction); `after()` runs once a
    command's answer is committed (the engine's wake: a new item is seen only after commit)."""

    def __init__(self, commands: Any, perform: Callable[[str, dict[str, Any]], Any], transaction: Callable[[], Any],
                 after: Callable[[], None], taken_by: str, poll: float = WATCH_SECONDS) -> None:
        self.commands = commands
        self.perform = perform
        self.transaction = transaction
        self.after = after
        self.taken_by = taken_by
        self.poll = poll
        self._due = threading.Event()
        self._stop = threading.Event()
        self._watcher: Any = None
        self._thread = threading.Thread(target=self._run, name="practicemail-desk-commands", daemon=True)

    def start(self) -> "Runner":
        reclaimed = self.commands.reclaim()
        if reclaimed:
            log.info("%d command(s) from other desks were left unanswered by the last service; carrying them out",
                     reclaimed)
        self._watcher = self.commands.watch(self._heard, self.poll)
        self._due.set()  # rows asked while no service ran
        self._thread.start()
        return self

    def _heard(self, collection: str | None) -> None:
        if collection in ("commands", None):
            self._due.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._due.wait(self.poll)
            self._due.clear()
            try:
                while not self._stop.is_set() and self.once():
                    pass
            except PracticeMailError as exc:  # the database went away: the watcher reconnects, we wait
                log.warning("commands from other desks: %s", exc)
                self._stop.wait(2.0)

    def once(self) -> bool:
        """Take, carry out and answer the oldest open command; False when there was none."""
        command = self.commands.take(self.taken_by)
        if command is None:
            return False
        log.info("command %d from %s: %s", command.id, shown_name(command.asked_by[:200]),
                 shown_name(command.kind[:40]))  # anyone who writes the table chooses these: no line of their own
        try:
            if command.stale:
                raise PracticeMailError("the request waited too long and was not carried out",
                                        hint="Ask again if it is still needed.")
            if command.kind in IN_ONE_TRANSACTION:
                with self.transaction():
                    result = self.perform(command.kind, command.args)
                    self.commands.finish(command.id, True, result)
            else:
                self.commands.finish(command.id, True, self.perform(command.kind, command.args))
        except PracticeMailError as exc:
            self.commands.finish(command.id, False, exc.as_dict())
        except Exception as exc:  # noqa: BLE001 - the desk gets an answer whatever happened
            log.exception("command %d (%s) failed", command.id, command.kind)
            self.commands.finish(command.id, False, {"error": f"the service failed: {type(exc).__name__}",
                                                     "hint": PracticeMailError.default_hint})
        self.after()
        return True

    def stop(self) -> None:
        self._stop.set()
        self._due.set()
        if self._watcher is not None:
            self._watcher.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
