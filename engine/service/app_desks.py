"""The App's part for several desks (issue 21): a desk that does not run the service asks it
through the database, and hears at once what the service changed.

A kiosk on a database opens with `App.open_desk`: the writer when the writer's lock is free (it
then runs the service itself, as the one-desk kiosk does), else a reader, "another desk". On
another desk the App's Send/Receive, Reset failed, Restart, new-email and prompt-answer commands
become command rows the service carries out (engine/service/desks.py), and `subscribe` listeners also
hear the database's change notices as the engine events the kiosk knows (`new_mail`,
`outbox_changed`, `service_state`, their details `{"notice": collection}`; `None` after a quiet
poll, when every event is sent). The desk that runs the service answers other desks' rows, and
hears the messages notices too (another desk marked, tagged, filed or deleted one).

Reception's own changes to a received message (read, unread, tags, actioned, filed, deleted,
restored) are not asked of the service: the desk's own Inbox changes the one row in one
transaction, its row locked (engine/adapters/postgres/store.py DESK_WRITES), as the service's
Inbox would; they touch no mail server, so they need not wait for the service, nor for it to run.
A user signs in with their PIN at any desk: the desk checks the PIN itself and counts a wrong
one in the shared database (engine/service/pin_tries.py, postgres/store.py DESK_ADDS), so a
lockout counts across desks; users and groups stay the service desk's to change.
Everything else a desk asks of the App is refused in one line, as a reader's commands are.

On TinyDB (one desk) none of this applies: `on_another_desk` is False and nothing starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ServiceCommandFailed, ServiceUnavailable, StoreLocked
from engine.service.desk_prompts import LOOK_ON, DeskPrompts
from engine.service.desks import ASK_SECONDS, EVERY_EVENT, NOTICE_EVENTS, WATCH_SECONDS, Runner, email_from, rids_from

if TYPE_CHECKING:
    from engine.service.app import App

Listener = Callable[[str, dict[str, Any]], None]


class DesksDoor(DeskPrompts):
    """Mixed into the App (engine/service/app.py); prompt-before-send at every desk in
    engine/service/desk_prompts.py."""

    watch_poll: float = WATCH_SECONDS  # seconds between the slow polls under the notices

    def _init_desks(self: "App") -> None:
        self._desk_listeners: list[Listener] = []
        self._desk_watcher: Any = None
        self._runner: Runner | None = None
        self._desks_guard = threading.Lock()
        self._init_desk_prompts()

    @classmethod
    def open_desk(cls, folder: Path, database: str | None = None, url_typed: bool = False,
                  command: str = "practicemail kiosk", clock: Any = None) -> "App":
        """The writer when the store is free; on a database whose writer's lock another process
        holds (the service), a reader that asks that service. On TinyDB a held folder is refused
        as before. `url_typed`: the URL came on the command line, so a password in it is refused."""
        from engine.service.practice import default_database

        if database and url_typed:
            from engine.adapters.postgres import refuse_password

            refuse_password(database)
        try:
            return cls.open(folder, writer=True, command=command, clock=clock, database=database)  # type: ignore[attr-defined]
        except StoreLocked:
            if not (database or default_database()):
                raise
        return cls.open(folder, writer=False, command=command, clock=clock, database=database)  # type: ignore[attr-defined]

    @property
    def on_another_desk(self: "App") -> bool:
        """A reader of a database: the service runs elsewhere and this desk asks it."""
        return not self.writer and callable(getattr(self.practice.store, "commands", None))

    # -- asking the service ---------------------------------------------------------------
    def ask_service(self: "App", kind: str, args: dict[str, Any], timeout: float | None = None) -> Any:
        """One command to the service through the database, and its result (see `asked`)."""
        return self.asked(kind, args, timeout)[0]

    def asked(self: "App", kind: str, args: dict[str, Any], timeout: float | None = None) -> tuple[Any, str]:
        """One command to the service through the database: its result, and who carried it out
        (the service's program, pid and machine). ServiceUnavailable when no service runs, or
        none answered within `timeout` (None: the kind's own bound): the line says whether the
        service never took it (then it was withdrawn and will never run) or took it and is still
        at it (it finishes there). ServiceCommandFailed with the service's own words when it
        tried and failed."""
        from engine.adapters.postgres.commands import Unanswered

        commands = self.practice.store.commands()  # type: ignore[attr-defined]
        if not commands.service_runs():
            raise ServiceUnavailable("the email service is not running, so this desk cannot ask it")
        wait = ASK_SECONDS[kind] if timeout is None else timeout
        answer = commands.ask(kind, args, timeout=wait)
        if isinstance(answer, Unanswered) and not answer.taken_by:
            raise ServiceUnavailable(f"the email service did not take the request within {wait:.0f} s, so it was "
                                     "withdrawn: nothing was done",
                                     hint="It may be busy or restarting; the light shows whether it runs. "
                                          "Try again in a minute.")
        if isinstance(answer, Unanswered):
            raise ServiceUnavailable(f"the email service ({answer.taken_by}) took the request but had not finished "
                                     f"it within {wait:.0f} s; it finishes it there",
                                     hint="Look at the outbox and the inbox in a minute for its result.")
        result = answer.result if isinstance(answer.result, dict) else {}
        if not answer.ok:
            raise ServiceCommandFailed(str(result.get("error") or "the email service could not do it"),
                                       str(result.get("hint") or "") or None)
        return answer.result, answer.taken_by

    def _inbox_command(self: "App", what: str) -> None:
        """Reception's change to a received message: on another desk done here, not asked of the
        service. The desk's own Inbox (the one code that writes message records, in whichever
        process) changes the one row, locked, changed and written back in one transaction, as the
        service's Inbox does; nothing talks to a mail server, so nothing waits on the service,
        and it works while the service is stopped."""
        if not self.on_another_desk:
            self._command(what)

    # -- answering other desks (the desk that runs the service) ------------------------------
    def _serve_other_desks(self: "App") -> None:
        store = self.practice.store
        if self._runner is not None or not callable(getattr(store, "commands", None)):
            return  # TinyDB: one desk
        taken_by = getattr(getattr(store, "db", None), "application", "practicemail")
        self._runner = Runner(store.commands(), self._carry_out, store.transaction,  # type: ignore[attr-defined]
                              self.engine.wake, taken_by, poll=self.watch_poll).start()

    def _stop_serving_desks(self: "App") -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()

    def _carry_out(self: "App", kind: str, args: dict[str, Any]) -> Any:
        """What another desk asked, done here through the App's own commands."""
        if kind == "send_receive":
            return self.engine.send_receive_now(ASK_SECONDS["send_receive"])
        if kind == "reset_failed":
            return {"reset": self.reset_failed(rids_from(args))}
        if kind == "restart":
            self.restart()
            return {"restarted": True}
        if kind == "compose":
            return {"rid": self.composer.compose(email_from(args), self.now())}
        if kind in ("answer_prompt", "undo_prompt"):
            return self._carry_out_prompt(kind, args)
        raise ServiceCommandFailed(f"this service does not know the command {kind[:40]!r}",
                                   hint="Update practicemail on the server to the desks' version.")

    # -- hearing what the service changed --------------------------------------------------------
    def _hear_other_desks(self: "App", listener: Listener, answers_prompts: bool = False) -> None:
        """Another desk hears every change the database announces. The desk that runs the service
        hears its own engine's events, and from the database only what other desks change
        themselves: the messages reception reads, tags, files and deletes (`mark_read` ...)."""
        if not callable(getattr(self.practice.store, "watch", None)):
            return  # TinyDB: one desk
        with self._desks_guard:
            self._desk_listeners.append(listener)
            if self._desk_watcher is None:
                self._desk_watcher = self.practice.store.watch(self._notice, self.watch_poll)  # type: ignore[attr-defined]
        if answers_prompts and self.on_another_desk:  # asked "send this confirmation now?" (desk_prompts.py)
            self._hear_prompts(listener)

    def hearing(self: "App", timeout: float = 10.0) -> bool:
        """Whether the database's notices reach this desk's listeners: waits up to `timeout` for
        the watcher's first LISTEN. False on a store without notices or before `subscribe`."""
        watcher = self._desk_watcher
        return watcher is not None and watcher.ready.wait(timeout)

    def _notice(self: "App", collection: str | None) -> None:
        """On the watcher's thread: each listener as the engine would call it."""
        if not self.on_another_desk and collection != "messages":
            return  # the service's own engine already told its listeners
        if collection in LOOK_ON:
            self._look_at_prompts()
        names = EVERY_EVENT if collection is None else NOTICE_EVENTS.get(collection, ())
        for name in names:
            for listener in list(self._desk_listeners):
                listener(name, {"notice": collection})

    def _stop_hearing(self: "App") -> None:
        with self._desks_guard:
            watcher, self._desk_watcher = self._desk_watcher, None
        if watcher is not None:
            watcher.stop()
