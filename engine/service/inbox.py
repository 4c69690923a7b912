"""The inbox: the one owner of message records. Intake from IMAP or POP3 stores them
(engine/service/inbox_intake.py, filing in inbox_shelf.py, their shape in inbox_records.py);
reception reads them and acts on them (read, file, tag, action, reply, forward, delete,
restore), each action a line on the message's timeline.

No lock that a command takes is held across the network: a pass holds only the intake's own
pass lock; reception's actions go straight to the store, whose writes are short (one
partition file). So opening a message while Send/Receive waits for a slow server marks it
read at once (tests/integration/test_inbox_no_lock_across_io.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.adapters.incoming import IncomingSettings
from engine.adapters.storage import RID, Storage
from engine.core import filing, incoming
from engine.core.directory import person_name
from engine.errors import InputInvalid, NotFound
from engine.service.inbox_intake import Intake
from engine.service.inbox_records import InboxMessage, timeline_entry
from engine.service.inbox_search import FIELDS, InboxSearch, found, haystack
from engine.service.inbox_text import TextSearch
from engine.service.inbox_shelf import ReceiveReport, Shelf
from engine.service.outbox import Outbox

__all__ = ["Inbox", "InboxMessage", "ReceiveReport", "TextReply"]
UNREAD = ("read", "deleted")  # neither set: unread (postgres/schema.py indexes the same two)
TEXT_TAG = "SMS"  # a text-message reply's tag (the kiosk marks such rows with their own icon)


@dataclass(frozen=True)
class TextReply:
    """A text reply as the SMS provider gave it, already matched by number (engine/service/sms.py):
    one patient on the number -> `patient_id`; a shared family number -> `candidates`."""

    sender_number: str
    text: str
    received: datetime
    provider_sid: str
    patient_id: str = ""
    candidates: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # besides SMS: what the reply did (opt-out, confirmed)


class Inbox:
    @classmethod
    def for_practice(cls, practice: Any, outbox: Outbox | None = None) -> "Inbox":
        """The inbox of an open practice (our own address is the practice's). `outbox`: the
        practice's one Outbox (the engine's); a new one over the same store when not given."""
        from engine.service.bounces import Bounces
        from engine.service.calendar_answers import CalendarAnswers

        outbox = outbox if outbox is not None else Outbox(practice.store)
        return cls(practice.store, practice.directory, lambda: [practice.settings.get("practice.email")],
                   answers=[Bounces(outbox, practice.directory),
                            CalendarAnswers(practice.store, lambda: practice.settings.get("practice.email"))],
                   outbox=outbox)

    def __init__(self, store: Storage, directory: Any, own_addresses: Callable[[], list[str]],
                 answers: Iterable[Any] = (), outbox: Outbox | None = None) -> None:
        self.store = store
        self.messages = store.partitioned("messages")
        self.sync = store.collection("sync")
        self.directory = directory
        self.outbox = outbox if outbox is not None else Outbox(store)  # sent mail is read through it only
        self.shelf = Shelf(store, self.messages, self.outbox, directory, own_addresses, answers)
        self.intake = Intake(self.sync, self.shelf)
        self.searcher = InboxSearch(self.messages)

    # -- intake (the worker's) ---------------------------------------------------------------
    def receive_imap(self, settings: IncomingSettings, now: datetime,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        return self.intake.receive_imap(settings, now, on_session)

    def receive_pop3(self, settings: IncomingSettings, now: datetime, leave_on_server: bool,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        return self.intake.receive_pop3(settings, now, leave_on_server, on_session)

    def sync_state(self) -> list[dict[str, Any]]:
        return self.intake.sync_state()

    def take_text(self, reply: TextReply, now: datetime) -> int | None:
        """A text reply as an inbox message tagged SMS, filed like mail (the patient on the number,
        or the family's candidates). Its words are kept as a small text/plain blob, so reading and
        forwarding it work as for mail. Taken once per provider sid: None when already taken
        (a pass that stopped before noting it fetches it again)."""
        origin = f"sms sid {reply.provider_sid}"
        if self.messages.find(lambda r: r.get("origin") == origin):
            return None
        raw = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" \
            + reply.text.encode("utf-8", "replace")
        sha = self.store.blobs.put(raw)
        if reply.patient_id:
            reason, tags = "the sender's mobile number is this patient's", [filing.PATIENT_TAG]
        elif reply.candidates:
            reason, tags = "the mobile number is shared by several patients", []
        else:
            reason, tags = "the number is not in the practice's records", []
        timeline = [timeline_entry(now, "received", f"text from {reply.sender_number}")]
        if reply.patient_id:
            timeline.append(timeline_entry(now, "filed", f"automatically: {reason}"))
        message = InboxMessage(
            from_address=reply.sender_number, subject=incoming.preview(reply.text), received=reply.received.isoformat(),
            blob=sha, size=len(raw), source="sms", origin=origin, patient_id=reply.patient_id,
            candidates=reply.candidates, filing_reason=reason, tags=(TEXT_TAG, *tags, *reply.tags),
            timeline=tuple(timeline))
        return self.messages.insert_many([message.record()], owned=True)[0]

    # -- the inbox as reception sees it ---------------------------------------------------
    def list(self, show_all: bool = False, tags: Iterable[str] = (), include_actioned: bool = False,
             deleted: bool = False, limit: int | None = None, any_tags: bool = False,
             search: str = "") -> list[dict[str, Any]]:
        """Default view: not deleted, not actioned, untagged ('Patient'/'Specialist' filing tags count
        as tags: filed mail lives on the patient's file; the SMS mark does not: a text from a number
        nobody has waits there to be filed, as mail does). `tags`: carrying all of them. `any_tags`:
        tagged or not (actioned still as asked). `show_all`: everything not deleted. `search`: every
        word in the sender, the subject or the day received (2026-11-30 or 30/11/2026)."""
        wanted = set(tags)
        words = search.casefold().split()
        shown = _viewer(wanted, show_all, include_actioned, deleted, any_tags)

        def view(r: Any) -> bool:
            return shown(r) and (not words or _found(r, words))

        if words:
            return self._search(words, view, limit)
        if wanted and not (show_all or deleted or any_tags):
            return self._holding(sorted(wanted), view, limit)
        if limit is not None:
            return self.messages.newest(limit, view)
        return list(self.messages.iter_newest(view))

    def text_search(self, search: str, limit: int = 500, shape: Callable[[dict[str, Any]], Any] = dict,
                    show_all: bool = False, tags: Iterable[str] = (), include_actioned: bool = False,
                    deleted: bool = False, any_tags: bool = False) -> TextSearch[Any]:
        """The search's slower stage: every word in the sender, subject, day OR the message's text
        (engine/service/inbox_text.py), over the view `list` would show, newest first; walked by
        the caller (`results`, or `step` by step), at most `limit` found."""
        shown = _viewer(set(tags), show_all, include_actioned, deleted, any_tags)
        return TextSearch(self.messages.iter_newest(shown), self.store.blobs.get, search.casefold().split(),
                          limit, shape)

    def warm_search(self) -> None:
        """Build (or bring up to date) the search's index and the store's tag lists now (the
        kiosk asks on its jobs thread), so the next search or tag filter need not: the first tag
        filter of a day would otherwise read every message to make them (0.2-0.7 s at 250,000)."""
        self.searcher.catch_up()
        self.messages.prepare_holding("tags")

    def _search(self, words: list[str], view: Callable[[Any], bool], limit: int | None) -> list[dict[str, Any]]:
        """The messages the index names, newest first, each read and checked whole (the view's
        other filters, and the words again on the record as stored)."""
        out: list[dict[str, Any]] = []
        for rid in self.searcher.newest(words):
            if limit is not None and len(out) >= limit:
                break
            r = self.messages.get(rid)
            if r is not None and view(r):
                out.append(r)
        return out

    def _holding(self, tags: list[str], view: Callable[[Any], bool], limit: int | None) -> list[dict[str, Any]]:
        """A tag filter (issue 19: 124 ms at 250,000 messages when every one was read): the
        messages the store's tag index names, newest first, each checked whole by the view."""
        out: list[dict[str, Any]] = []
        for r in self.messages.newest_holding("tags", tags):
            if limit is not None and len(out) >= limit:
                break
            if view(r):
                out.append(r)
        return out

    def get(self, rid: int) -> dict[str, Any]:
        return self.messages.require(rid)

    def unread(self) -> int:
        """Messages not yet read and not deleted (the kiosk's navigation count, asked often):
        the store keeps the count (TinyDB per partition until it changes; PostgreSQL from a
        partial index), never a read of every message."""
        return self.messages.count_unflagged(UNREAD)

    def raw(self, rid: int) -> bytes:
        """The message's bytes as they arrived (what a forward attaches)."""
        return self.store.blobs.get(self.get(rid)["blob"])

    def content(self, rid: int) -> incoming.Content:
        return incoming.content(self.raw(rid))

    def _change(self, rid: int, now: datetime, event: str, detail: str, fields: dict[str, Any]) -> dict[str, Any]:
        """One change of a message and its timeline line, in one short store write (the
        partition's own lock: never the intake's, so never behind a server)."""
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            new = dict(stored)
            new.update(fields)
            new["timeline"] = [*stored.get("timeline", []), timeline_entry(now, event, detail)]
            return new

        try:
            return self.messages.modify_many([rid], change)[rid]
        except NotFound:
            raise NotFound(f"no message {rid} in the inbox") from None

    def file(self, rid: int, now: datetime, patient_id: str = "", specialist_id: str = "") -> dict[str, Any]:
        if bool(patient_id) == bool(specialist_id):
            raise InputInvalid("file to a patient or to a specialist", hint="Give exactly one of --patient, --specialist.")
        if patient_id:
            whom = self.directory.require("patients", patient_id)
            tag = filing.PATIENT_TAG
        else:
            whom = self.directory.require("specialists", specialist_id)
            tag = filing.SPECIALIST_TAG
        msg = self.get(rid)
        tags = [t for t in msg.get("tags", []) if t not in (filing.PATIENT_TAG, filing.SPECIALIST_TAG)] + [tag]
        return self._change(rid, now, "filed", f"by reception to {person_name(whom) or patient_id or specialist_id}",
                            {"patient_id": patient_id, "specialist_id": specialist_id, "tags": tags, "candidates": []})

    def mark_read(self, rid: int, now: datetime, read: bool = True) -> dict[str, Any]:
        return self._change(rid, now, "read" if read else "unread", "", {"read": read})

    def set_actioned(self, rid: int, now: datetime, actioned: bool = True) -> dict[str, Any]:
        return self._change(rid, now, "actioned" if actioned else "not actioned", "", {"actioned": actioned})

    def set_tags(self, rid: int, now: datetime, tags: list[str]) -> dict[str, Any]:
        clean = sorted({t.strip()[:40] for t in tags if t.strip() and "\n" not in t})
        return self._change(rid, now, "tagged", ", ".join(clean) or "(none)", {"tags": clean})

    def delete(self, rid: int, now: datetime) -> dict[str, Any]:
        return self._change(rid, now, "deleted", "", {"deleted": True})

    def restore(self, rid: int, now: datetime) -> dict[str, Any]:
        return self._change(rid, now, "restored", "", {"deleted": False})

    def mark_replied(self, rid: int, now: datetime, item_id: int) -> dict[str, Any]:
        """A reply to the message was queued as outbox item `item_id`."""
        return self._change(rid, now, "replied", f"outbox item {item_id}", {})

    def mark_forwarded(self, rid: int, now: datetime, detail: str) -> dict[str, Any]:
        """The message was forwarded (`detail`: to whom, and any confirmation reception gave)."""
        return self._change(rid, now, "forwarded", detail, {})

    def contact_history(self, patient_id: str) -> list[dict[str, Any]]:
        """Every email to or from the patient: derived from the inbox and outbox, never copied."""
        out = [{"type": "received", "date": r["received"], "subject": r["subject"], "id": r[RID]}
               for r in self.messages.find(lambda r: r.get("patient_id") == patient_id)]
        out += [{"type": "sent" if r["status"] == "sent" else r["status"], "date": r.get("sent_at") or r["created"],
                 "subject": r["subject"], "id": r[RID], "category": r.get("category", ""),
                 "description": r.get("description", "")}
                for r in self.outbox.for_patient(patient_id)]
        return sorted(out, key=lambda x: x["date"], reverse=True)


def _viewer(wanted: set[str], show_all: bool, include_actioned: bool, deleted: bool,
            any_tags: bool) -> Callable[[Any], bool]:
    """Which messages a view shows, the search aside (see Inbox.list)."""
    def view(r: Any) -> bool:
        if bool(r.get("deleted")) != deleted:
            return False
        if show_all or deleted:  # the Deleted folder shows everything in it
            return True
        if r.get("actioned") and not include_actioned:
            return False
        if any_tags:
            return True
        if wanted:
            return wanted <= set(r.get("tags", []))
        return not r.get("tags") or not set(r["tags"]) - {TEXT_TAG}
    return view


def _found(r: Any, words: list[str]) -> bool:
    """The inbox search: each word in the sender's address or name, the subject or the day."""
    return found(haystack(*(r.get(f) for f in FIELDS)), words)
