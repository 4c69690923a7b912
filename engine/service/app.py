"""The one door on the engine: everything outside `engine/service` starts here.

    with App.open(folder, writer=True, command="practicemail kiosk") as app:
        app.start()                              # the worker and its heartbeat
        rid = app.compose(NewEmail("P001", subject="Hello", text="..."))
        items = app.outbox_items(limit=50)       # frozen OutboxItem values

One App per process owns the object graph: the practice (store, settings, directory), the
one Engine (worker + heartbeat) with the single Outbox and Inbox, and one each of Reminders,
Composer, Templates and Roles. Before it, the kiosk and the admin built their own, and two
parts of one window could disagree about what they had cached. Like aiosmtpd's Controller,
one owner holds the state and other threads cross in only through its methods.

A reader App (writer=False: a status window or a runbook on a folder the service holds)
builds the same parts to read with, never starts the worker and refuses every command with
`ReadOnly`, before anything is tried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.documents import Document, list_documents, looks_like_dicom
from engine.adapters.durable import atomic_write, make_private
from engine.adapters.logs import forget_lost_lines, lost_lines, redact as redact_secrets
from engine.adapters.storage import RID
from engine.core.outbox import Event
from engine.core.templates import Template
from engine.errors import ReadOnly
from engine.service.compose import Composer
from engine.service.engine import Engine
from engine.service.inbox_text import TextSearch, TextStep
from engine.service.practice import Practice, default_data_folder
from engine.service.recalls import Recalls
from engine.service.reminder_rules import ReminderRules
from engine.service.reminders import Reminders
from engine.service.recovery import Recovery
from engine.service.roles import DESK, PERMISSIONS, ROLES, SUPER, Group, PinRefused, Roles, SignedIn, User, allowed
from engine.service.sms import Texts
from engine.service.standby import Standby
from engine.service.templates import Templates
from engine.service.app_commandline import CommandLineDoor, _signin
from engine.service.app_desk import DeskDoor
from engine.service.app_desks import DesksDoor
from engine.service.desks import email_args
from engine.service.app_mail import MailDoor
from engine.service.values import (Contact, DayAppointment, InboxMessage, MassPreview, NewEmail, OutboxItem, Patient,
                                   RecallLine)

# the value types and pure helpers the door hands out, so callers need nothing behind it
# (`make_private`, `atomic_write`, `redact_secrets`: the few adapter helpers the command line and
# the admin need, handed out here so that no module outside the service imports an adapter)
__all__ = ["App", "Contact", "DayAppointment", "DESK", "Document", "Event", "Group", "InboxMessage", "MassPreview",
           "NewEmail", "OutboxItem", "PERMISSIONS", "Patient", "PinRefused", "RID", "ROLES", "SUPER", "SignedIn", "User",
           "ReadOnly", "RecallLine", "Standby", "Template", "allowed", "atomic_write",
           "default_data_folder", "looks_like_dicom", "make_private", "migrate_practice", "redact_secrets",
           "refuse_password", "TextSearch", "TextStep"]

Listener = Callable[[str, dict[str, Any]], None]

def refuse_password(url: str) -> None:
    """A database URL typed on the command line must not carry a password (ps shows argv)."""
    from engine.adapters.postgres import refuse_password as refuse

    refuse(url)


def migrate_practice(from_dir: Path | None, to_url: str | None, url_typed: bool) -> Any:
    """`practicemail migrate`: a data folder's practice copied into PostgreSQL (engine/service/migrate.py).
    `url_typed`: the URL came on the command line, which every user of the machine can read, so
    a password in it is refused before anything is tried."""
    from engine.adapters.postgres import refuse_password
    from engine.errors import InputInvalid
    from engine.service.migrate import run
    from engine.service.practice import default_database

    if to_url and url_typed:
        refuse_password(to_url)
    url = to_url or default_database()
    if not url:
        raise InputInvalid("no database to migrate to",
                           hint="Give --to postgresql://server/database, or set PRACTICEMAIL_DATABASE.")
    return run(from_dir or default_data_folder(), url)


class App(DeskDoor, DesksDoor, MailDoor, CommandLineDoor):
    """Build with `App.open(...)` (it opens and closes the data folder) or `App(practice)`
    over a Practice the caller opened and will close (tests, the CLI until it moves here)."""

    def __init__(self, practice: Practice, clock: Any = None) -> None:
        self.practice = practice
        self.engine = Engine(practice, clock)
        self.outbox = self.engine.outbox
        self.inbox = self.engine.inbox
        self.heartbeat = self.engine.heartbeat
        self.templates: Templates = self.engine.templates  # one Templates for the whole graph
        self.reminders: Reminders = self.engine.reminders  # the worker's own (it resolves booking links)
        self.composer = Composer(practice, self.outbox, self.inbox, self.templates)
        self.roles = Roles(practice.store, now=self.now, zone=self.zone)
        self.recovery = Recovery(self.roles)  # a super user's way back in (engine/service/recovery.py)
        self._owns_practice = False
        self._init_desks()

    @classmethod
    def open(cls, folder: Path, writer: bool = True, command: str = "practicemail", clock: Any = None,
             wait: Callable[[str], bool] | None = None, database: str | None = None) -> "App":
        """The data folder opened once for this process (the writer's lock held when `writer`).
        `wait`: how a writer waits while another holds the lock (a standby, engine/service/standby.py).
        `database`: a PostgreSQL URL (None: PRACTICEMAIL_DATABASE; unset or "": the folder's TinyDB)."""
        practice = Practice(folder, writer=writer, command=command, wait=wait, database=database)
        try:
            app = cls(practice, clock)
        except BaseException:
            practice.close()
            raise
        app._owns_practice = True
        return app

    def hold(self, standby: Standby) -> bool:
        """While the service runs: True when told to stop, False once the writer's lock is lost."""
        return standby.watch(self.practice.store)

    @property
    def where(self) -> str:
        """Where the records live, in words: 'the database' or the data folder."""
        return "the database" if self.practice.database else str(self.folder)

    # -- the parts, by name --------------------------------------------------------------
    @property
    def writer(self) -> bool:
        return self.practice.writer

    @property
    def folder(self) -> Path:
        return self.practice.folder

    @property
    def settings(self) -> Any:  # engine.service.settings.Settings
        return self.practice.settings

    @property
    def directory(self) -> Any:  # engine.service.directory.Directory
        return self.practice.directory

    @property
    def clock(self) -> Any:
        return self.engine.clock

    @cached_property
    def recalls(self) -> Recalls:
        """Built on first use (most commands never need it), over the graph's Outbox and Templates."""
        return Recalls(self.practice, self.outbox, self.templates)

    @cached_property
    def texts(self) -> Texts:
        """Text messages: built on first use; its provider session is closed with the App."""
        return Texts(self.practice, self.outbox, inbox=self.inbox)

    @property
    def reminder_rules(self) -> ReminderRules:
        return self.reminders.rules

    def now(self) -> datetime:
        return self.engine.clock.now()

    def zone(self) -> ZoneInfo:
        """The practice's time zone: the desk shows and takes times in it."""
        return ZoneInfo(self.settings.get("practice.timezone"))

    # -- life ----------------------------------------------------------------------------
    def _command(self, what: str) -> None:
        if self.on_another_desk:
            raise ReadOnly(f"cannot {what} from this desk: the email service runs on another computer",
                           hint="Do it at the computer where the email service runs.")
        if not self.writer:
            raise ReadOnly(f"cannot {what}: this program opened the data folder only to read",
                           hint="Do it where the email service runs (the kiosk or `practicemail serve`).")

    def start(self) -> None:
        """The worker and its heartbeat; only the writer runs them."""
        self._command("start the email service")
        self.clean_opened_copies()  # files opened from compose a day ago or more (engine/adapters/opened.py)
        self.engine.start()
        self._serve_other_desks()  # on a database: other desks' commands (engine/service/desks.py)

    def stop(self) -> None:
        self._stop_serving_desks()
        self.engine.stop()

    def restart(self) -> None:
        """The service restarts; asked from another desk, the service there restarts (for every desk)."""
        if self.on_another_desk:
            self.ask_service("restart", {})
            return
        self._command("restart the email service")
        self.engine.restart()

    @property
    def running(self) -> bool:
        return self.engine.running

    def subscribe(self, listener: Listener, answers_prompts: bool = False) -> None:
        """Engine events, from the worker thread (the kiosk's bridge re-emits them); on another desk, also the
        database's notices as those events (app_desks.py). `answers_prompts`: asks reception (prompts.py)."""
        self.engine.subscribe(listener, answers_prompts)
        self._hear_other_desks(listener, answers_prompts)

    def close(self) -> None:
        self._stop_hearing()
        self._stop_serving_desks()
        self.engine.stop()
        if "texts" in self.__dict__:  # built: its provider's session ends with the App
            self.texts.close()
        if self._owns_practice:
            self.practice.close()

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The service light's facts (state, reason, hint, last send and check) as of now."""
        return self.heartbeat.status(self.now())

    def outbox_items(self, wanted: Callable[[OutboxItem], bool] | None = None, limit: int = 500) -> list[OutboxItem]:
        """The newest outbox items first, those `wanted` says yes to, at most `limit`."""
        out: list[OutboxItem] = []
        for item in self.outbox.iter_newest():
            if wanted is None or wanted(item):
                out.append(item)
                if len(out) >= limit:
                    break
        return out

    def outbox_item(self, rid: int) -> OutboxItem:
        return self.outbox.item(rid)

    def inbox_messages(self, limit: int = 500, **view: Any) -> list[InboxMessage]:
        """A view of the inbox (the filters of `Inbox.list`: tags, search, actioned, deleted)."""
        return [InboxMessage.from_record(r) for r in self.inbox.list(limit=limit, **view)]

    def inbox_text_search(self, search: str, limit: int = 500, **view: Any) -> TextSearch[InboxMessage]:
        """The search's slower stage, the messages' text too (Inbox.text_search), walked by the caller."""
        return self.inbox.text_search(search, limit, InboxMessage.from_record, **view)

    def inbox_message(self, rid: int) -> InboxMessage:
        return InboxMessage.from_record(self.inbox.get(rid))

    def patient(self, patient_id: str) -> Patient:
        return Patient.from_record(self.directory.require("patients", patient_id))

    def patients(self, search: str = "", limit: int | None = None) -> list[Patient]:
        """Patients matching every word of `search` (see Directory.search), or, with no words,
        everyone by last then first name; at most `limit`."""
        if search.strip():
            return [Patient.from_record(r) for r in self.directory.search(search, limit=limit or 200)]
        if limit is not None:  # the first few by name, from the search's index (not everyone read and sorted)
            return [Patient.from_record(r) for r in self.directory.first_patients(limit)]
        everyone = sorted(self.directory.list("patients"),
                          key=lambda r: (str(r.get("last_name") or "").lower(), str(r.get("first_name") or "").lower(),
                                         str(r.get("id", ""))))  # a record without a name is listed too
        return [Patient.from_record(r) for r in everyone[:limit]]

    def documents(self, patient_id: str) -> list[Document]:
        """The files kept in the patient's documents folder, to attach."""
        return list_documents(self.folder, patient_id)

    def preview(self, hours: int = 24) -> list[Any]:
        """What the engine will send and check in the next hours (reminders' preview lines)."""
        return self.reminders.preview(self.now(), hours)

    # -- commands ----------------------------------------------------------------------------
    def compose(self, email: NewEmail) -> int:
        """One email to or about a patient, checked by the rules, queued (or kept as a draft)."""
        if self.on_another_desk:
            return int(self.ask_service("compose", email_args(email))["rid"])
        self._command("queue an email")
        rid = self.composer.compose(email, self.now())
        self.engine.wake()
        return rid

    def send_receive_now(self, timeout: float | None = None) -> dict[str, Any]:
        if self.on_another_desk:  # the service's report, and which service made it
            report, done_by = self.asked("send_receive", {}, timeout)
            return {**dict(report), "done_by": done_by}
        self._command("send and receive")
        return self.engine.send_receive_now(timeout)

    def cancel_send_receive(self) -> bool:
        """Cut short a Send/Receive hung on a server (waits up to a few seconds: call it off the
        GUI thread). Unsent items stay ready; the pass's report says `cancelled`."""
        self._command("cancel send and receive")
        return self.engine.cancel_pass()

    def test_credentials(self) -> dict[str, Any]:
        """The setup test (nothing is sent); a reader may run it, it records nothing."""
        return self.engine.test_credentials()

    def apply_to_outbox(self, rid: int, event: Event) -> OutboxItem:
        """Delete or restore an outbox item (the outbox's own table decides what is allowed)."""
        self._command("change the outbox")
        self.outbox.apply(rid, event, self.now())
        return self.outbox.item(rid)

    def reset_failed(self, rids: list[int], timeout: float | None = None) -> list[int]:
        """The failed items named (all of them when none is) are tried again at the next pass.
        `timeout`: on another desk, how long to wait for the service (None: its usual bound)."""
        if self.on_another_desk:
            return [int(r) for r in self.ask_service("reset_failed", {"rids": list(rids)}, timeout)["reset"]]
        self._command("reset failed items")
        return self.outbox.reset_failed(rids, self.now())

    # -- the inbox: what reception does with a message (on another desk too: app_desks.py) -----
    def mark_read(self, rid: int, read: bool = True) -> None:
        self._inbox_command("mark a message")
        self.inbox.mark_read(rid, self.now(), read)

    def set_tags(self, rid: int, tags: list[str]) -> None:
        """The message's tags become `tags` (empty: none)."""
        self._inbox_command("tag a message")
        self.inbox.set_tags(rid, self.now(), tags)

    def set_actioned(self, rid: int, actioned: bool = True) -> None:
        self._inbox_command("mark a message actioned")
        self.inbox.set_actioned(rid, self.now(), actioned)

    def file_message(self, rid: int, patient_id: str = "", specialist_id: str = "") -> InboxMessage:
        """Filed to the patient or the specialist (one of them)."""
        self._inbox_command("file a message")
        return InboxMessage.from_record(self.inbox.file(rid, self.now(), patient_id=patient_id,
                                                        specialist_id=specialist_id))

    def delete_message(self, rid: int) -> None:
        self._inbox_command("delete a message")
        self.inbox.delete(rid, self.now())

    def restore_message(self, rid: int) -> None:
        self._inbox_command("restore a message")
        self.inbox.restore(rid, self.now())

    def reply(self, rid: int, text: str, signature: bool = False) -> int:
        """A reply to a received message, queued; the outbox item's id."""
        self._command("reply")
        return self.composer.reply(rid, self.now(), text, signature=signature)

    def forward(self, rid: int, to: str, confirmed_outside: bool = False, subject: str = "", text: str = "") -> int:
        """A received message forwarded (the rules decide who may receive it); `subject` and
        `text` as reception edited them in the forward window (empty: the defaults)."""
        self._command("forward a message")
        return self.composer.forward(rid, to, self.now(), text=text, confirmed_outside=confirmed_outside,
                                     subject=subject)

    def forward_sent(self, item_id: int, to: str, confirmed_outside: bool = False, subject: str = "",
                     text: str = "") -> int:
        """An outbox item forwarded, attached as it went; `subject` and `text` as reception edited
        them in the forward window (empty: the defaults)."""
        self._command("forward an item")
        return self.composer.forward_sent(item_id, to, self.now(), text=text, confirmed_outside=confirmed_outside,
                                          subject=subject)

    # -- signing in (OAuth), for the setup wizard: each may wait on a person or a server ----------
    def suggest_sign_in(self, address: str) -> str:
        """The provider an address's domain most likely signs in with ("" when unknown), asked
        through the practice's proxy when it has one."""
        return _signin().suggest(address, proxy=_signin().practice_proxy(self.practice))

    def sign_in(self, open_browser: Callable[[str], Any], cancel: Any) -> dict[str, Any]:
        self._command("sign in")
        return _signin().sign_in(self.practice, open_browser=open_browser, cancel=cancel)

    def begin_device_sign_in(self) -> Any:
        """A code to type on another device (signin.DeviceCode)."""
        self._command("sign in")
        return _signin().begin_device(self.practice)

    def finish_device_sign_in(self, device: Any, wait: Callable[[float], bool]) -> dict[str, Any]:
        self._command("sign in")
        return _signin().finish_device(self.practice, device, wait)

    def set_settings(self, values: dict[str, Any]) -> None:
        """Checked against the catalogue first; a bad value changes nothing."""
        self._command("change settings")
        self.settings.set_many(values)
