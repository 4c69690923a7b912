"""The outbox as stored: the one door to outbox records.

Records live in the partitioned `outbox` collection (private to this class: nothing else reads
or writes them); the raw message is a blob. Every change of a stored field is an event of the
table in engine/core/outbox.py, applied through its `apply` (a new item through its `create`,
from the one shape in engine/core/outbox_item.py). Queries hand out frozen `OutboxItem`s; `get`
and `list` still return plain dicts for the callers that edit or print them.

A send pass (engine/service/outbox_send.py) claims its items (ready -> sending) through the
store's claim, one write per partition (PostgreSQL: one transaction, rows taken FOR UPDATE SKIP
LOCKED, so two claimers never share an item), *before* any byte goes to the server, then records each outcome as a line in an
append-only journal (engine/service/outbox_journal.py), and folds it into the records every
`FOLD_EVERY` outcomes and at the end. So a crash mid-batch loses no outcome that was journalled:
at start-up the journal is replayed, and only an item whose 250 arrived but whose line did not
reach the journal (the one in flight) is resent, with the same Message-ID, flagged in its history.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from engine.adapters.smtp import SmtpSession
from engine.adapters.storage import RID, Storage
from engine.core import confidentiality
from engine.core import outbox as rules
from engine.core.addresses import domain_of
from engine.core.message import Draft, envelope_recipients
from engine.core.message_bytes import build_bytes
from engine.core.outbox_item import EMAIL, SMS, OutboxItem, new_record
from engine.errors import InputInvalid
from engine.service.outbox_gate import Gate, about_of, judge
from engine.service.outbox_prompts import PromptAnswers
from engine.service.outbox_journal import ATTEMPT, SYNC_EVERY, Journal
from engine.service.outbox_queries import GONE, NewText, OutboxQueries, SmsOutcome, SmsStatus
from engine.service.outbox_send import FOLD_EVERY, SendPass, SendReport

__all__ = ["ATTEMPT", "FOLD_EVERY", "GONE", "SMS", "SYNC_EVERY", "NewText", "Outbox", "OutboxItem", "SendReport",
           "SmsOutcome", "SmsStatus"]
log = logging.getLogger("practicemail.service")
State, Event = rules.State, rules.Event


def _addresses(draft: Draft) -> dict[str, Any]:
    return {"to": [r.address for r in draft.to], "cc": [r.address for r in draft.cc],
            "bcc": [r.address for r in draft.bcc], "envelope_to": envelope_recipients(draft)}


def _sms_record(t: NewText, now: datetime) -> dict[str, Any]:
    extra = {**copy.deepcopy(dict(t.meta or {})), "text": t.text, "parts": t.parts, "provider_sid": "",
             "provider_status": ""}
    return rules.create(new_record(
        kind=SMS, automatic=t.automatic, sender=t.sender, to=[t.to], envelope_to=[t.to], subject=t.text[:60],
        size=len(t.text.encode()), deliver_after=t.deliver_after, patient_id=t.patient_id, extra=extra),
        State.READY, now)


class Outbox(OutboxQueries, PromptAnswers):
    """The one owner of outbox records (queries in engine/service/outbox_queries.py, the
    prompt's answers in engine/service/outbox_prompts.py)."""

    def __init__(self, store: Storage) -> None:
        self.store = store
        self._items = store.partitioned("outbox")
        self.journal_path = store.folder / "db" / "outbox.journal"
        # the store's own journal where it keeps one (PostgreSQL: in the database, so a standby on
        # another machine replays what a dead service wrote), else the local file
        opener = getattr(store, "journal", None)
        self._journal_file = opener("outbox") if opener is not None else Journal(self.journal_path)
        self._lock = threading.RLock()
        self._gate = Gate(store)
        self.prompt_waits: Callable[[], None] = lambda: None  # the engine's wake (engine/service/prompts.py)

    # -- the confidentiality gate (engine/service/outbox_gate.py) ---------------------------
    def book(self) -> confidentiality.Book:
        return self._gate.book()

    _judge = staticmethod(judge)
    _about = staticmethod(about_of)

    # -- adding ---------------------------------------------------------------------
    def _message(self, draft: Draft, now: datetime, message_id: str | None = None) -> tuple[str, str, int]:
        """The draft built and stored as a blob: (Message-ID, blob, size)."""
        message_id = message_id or make_msgid(domain=domain_of(draft.from_address))
        raw = build_bytes(draft, message_id, now)
        return message_id, self.store.blobs.put(raw), len(raw)

    def add_draft(self, draft: Draft, now: datetime, *, as_draft: bool = False, deliver_after: datetime | None = None,
                  patient_id: str | None = None, kind: str = EMAIL, automatic: bool = False,
                  meta: dict[str, Any] | None = None, about: confidentiality.About | None = None) -> int:
        """Queue one email, once the confidentiality gate allows it (`about`: what it is about;
        by default the patient it is filed under)."""
        notes = self._judge(draft, self._about(about, patient_id), self.book())
        message_id, blob, size = self._message(draft, now)
        record = rules.create(new_record(
            kind=kind, automatic=automatic, sender=draft.from_address, subject=draft.subject,
            message_id=message_id, blob=blob, size=size, deliver_after=deliver_after or now,
            patient_id=patient_id or "", extra=meta, **_addresses(draft)),
            State.DRAFT if as_draft else State.READY, now, tuple(notes))
        rid = self._items.insert(record)
        log.info("outbox item %d queued (%s, %d bytes)", rid, record["status"], size)
        if record.get("prompt") and record["status"] == State.READY.value:
            self.prompt_waits()  # the worker plans the moment to ask about it
        return rid

    def add_drafts(self, drafts: list[tuple[Draft, dict[str, Any]]], now: datetime) -> list[int]:
        """Many emails queued in one durable step: blobs in one batch, records in one write per partition.
        Each passes the gate first (about its `patient_id`, or its `family_patients`): all or none."""
        book = self.book()
        for draft, meta in drafts:
            self._judge(draft, self._about(None, meta.get("patient_id"), meta.get("family_patients")), book)
        built = []
        for draft, meta in drafts:
            message_id = make_msgid(domain=domain_of(draft.from_address))
            built.append((draft, meta, message_id, build_bytes(draft, message_id, now)))
        shas = self.store.blobs.put_many([raw for *_, raw in built])
        own = ("kind", "automatic", "deliver_after", "patient_id")  # a batch's meta may set these (recalls do)
        records = [rules.create(new_record(
            kind=meta.get("kind", EMAIL), automatic=meta.get("automatic", True), sender=draft.from_address,
            subject=draft.subject, message_id=message_id, blob=sha, size=len(raw),
            deliver_after=meta.get("deliver_after") or now, patient_id=meta.get("patient_id", ""),
            extra={k: copy.deepcopy(v) for k, v in meta.items() if k not in own}, **_addresses(draft)), State.READY,
            now) for (draft, meta, message_id, raw), sha in zip(built, shas)]
        # every value in these records was made here (the callers' meta copied above), so the store
        # may keep them as they are instead of copying each record again
        return self._items.insert_many(records, owned=True)

    def add_sms(self, to: str, text: str, now: datetime, *, sender: str, parts: int,
                deliver_after: datetime | None = None, patient_id: str = "", automatic: bool = False,
                meta: dict[str, Any] | None = None) -> int:
        """A text message (kind `sms`) in the same outbox, same states; no MIME blob: the text is the
        record's own (engine/service/sms.py sends it through the SMS provider, never through SMTP)."""
        rid = self._items.insert(_sms_record(NewText(to, text, sender, parts, deliver_after or now, patient_id,
                                                     automatic, meta), now))
        log.info("outbox item %d queued (sms, %d part(s))", rid, parts)
        return rid

    def add_sms_many(self, texts: list[NewText], now: datetime) -> list[int]:
        """Many texts queued in one durable step (a recall run's): one write per partition, all or none."""
        return self._items.insert_many([_sms_record(t, now) for t in texts], owned=True)

    def add_pending_link(self, record: Mapping[str, Any], now: datetime) -> int:
        """An item whose message waits for a booking link: no blob until the link is ready.
        `record`: its addresses, kind, patient, deliver_after and what it is for."""
        shaped = {"kind", "automatic", "from", "to", "cc", "bcc", "envelope_to", "subject", "deliver_after",
                  "patient_id"}
        return self._items.insert(rules.create(new_record(
            kind=record.get("kind", EMAIL), automatic=bool(record.get("automatic")), sender=record["from"],
            to=record["to"], cc=record.get("cc", ()), bcc=record.get("bcc", ()), envelope_to=record["envelope_to"],
            subject=record.get("subject", ""), deliver_after=record.get("deliver_after") or now,
            patient_id=record.get("patient_id", ""), extra={k: v for k, v in record.items() if k not in shaped}),
            State.PENDING_LINK, now))

    def link_ready(self, rid: int, draft: Draft, now: datetime) -> None:
        """The link is there: build the message now (its Message-ID from here on) and make it ready
        (through the gate, about the item's patient)."""
        self._judge(draft, self._about(None, self._items.require(rid).get("patient_id")), self.book())
        message_id, blob, size = self._message(draft, now)
        fields = {"blob": blob, "size": size, "message_id": message_id, "subject": draft.subject,
                  "envelope_to": envelope_recipients(draft)}
        with self._lock:
            if self._apply_many([rid], Event.LINK_READY, now, fields=fields)[0].get("prompt"):
                self.prompt_waits()

    def revise_draft(self, rid: int, draft: Draft, now: datetime, queue: bool = False,
                     naming: Mapping[str, str] | None = None) -> dict[str, Any]:
        """A draft edited in the compose window: its message rebuilt (same Message-ID), and
        queued for sending when `queue`. Only a draft can be revised: anything else has left
        reception's hands. `naming`: its category and description, when reception changed them."""
        with self._lock:
            item = self._items.require(rid)
            if item["status"] != State.DRAFT.value:
                raise InputInvalid(f"outbox item {rid} is {item['status']}, not a draft",
                                   hint="Only drafts can be edited; refresh the outbox.")
            self._judge(draft, self._about(None, item.get("patient_id"), item.get("family_patients")), self.book())
            _, blob, size = self._message(draft, now, item["message_id"])
            fields = {**_addresses(draft), "subject": draft.subject, "blob": blob, "size": size,
                      "deliver_after": now.isoformat(), **(naming or {})}

            def change(_rid: int, stored: Any) -> dict[str, Any]:
                new = rules.apply(stored, Event.EDITED, now, fields=fields)[0]
                return rules.apply(new, Event.QUEUE, now)[0] if queue else new

            return self._items.modify_many([rid], change)[rid]

    def describe(self, rid: int, category: str, description: str, now: datetime) -> dict[str, Any]:
        """The email's category and description as reception names it (any state but sending:
        a sent email is still grouped and found by them in the patient's contact history)."""
        return self.apply(rid, Event.DESCRIBED, now, error=f"{category} / {description}".strip(" /"),
                          fields={"category": category, "description": description})

    # -- changing: every change an event of the table -------------------------------------------
    def _apply_many(self, rids: Iterable[int], event: Event, now: datetime, **detail: Any) -> list[dict[str, Any]]:
        """One event on many items, one write per partition; all or none (a refused one raises first)."""
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            return rules.apply(stored, event, now, **detail)[0]

        changed = self._items.modify_many(list(rids), change)
        return [changed[rid] for rid in sorted(changed)]

    def _apply_if_allowed(self, rids: Iterable[int], event: Event, now: datetime, **detail: Any) -> None:
        """One event on the items still in a state that allows it, one write per partition: the
        worker's own changes skip an item reception cancelled or deleted since it was read."""
        def change(_rid: int, stored: Any) -> dict[str, Any] | None:
            if not rules.allowed(State(stored["status"]), event):
                return None
            return rules.apply(stored, event, now, **detail)[0]

        with self._lock:
            self._items.modify_many(list(rids), change, copies=False)

    def apply(self, rid: int, event: Event, now: datetime, **detail: Any) -> dict[str, Any]:
        with self._lock:
            try:
                return self._apply_many([rid], event, now, **detail)[0]
            except rules.TransitionRefused as exc:
                raise InputInvalid(f"outbox item {rid}: {exc}", hint="Refresh the outbox and try again.") from exc

    def reset_failed(self, rids: list[int], now: datetime) -> list[int]:
        with self._lock:
            if rids:
                for rid in rids:
                    if self._items.require(rid)["status"] not in (State.FAILED.value, State.LINK_FAILED.value):
                        raise InputInvalid(f"outbox item {rid} has not failed", hint="Only failed items can be reset.")
                targets = rids
            else:
                targets = [r[RID] for r in self._items.find(
                    lambda r: r["status"] in (State.FAILED.value, State.LINK_FAILED.value))]
            self._apply_many(targets, Event.RESET, now)
            return targets

    def defer(self, rids: Iterable[int], until: datetime, now: datetime, why: str = "") -> None:
        """Ready items not due before `until` (texts held past quiet hours): one write."""
        self._apply_if_allowed(rids, Event.DEFERRED, now, error=why, fields={"deliver_after": until.isoformat()})

    def link_requested(self, rid: int, token: str, now: datetime) -> None:
        """The booking system took the request for a link: its token, to ask about it later."""
        self._apply_if_allowed([rid], Event.LINK_REQUESTED, now, fields={"link_token": token})

    def record_sms_statuses(self, statuses: Iterable[SmsStatus], now: datetime) -> None:
        """Delivery statuses that changed, in one write (the send time is kept as `updated`)."""
        by_id = {s.rid: s for s in statuses}

        def change(rid: int, stored: Any) -> dict[str, Any] | None:
            if not rules.allowed(State(stored["status"]), Event.STATUS_REPORTED):
                return None  # deleted (or bounced) since it was read: the report changes nothing
            s = by_id[rid]
            fields = {"provider_status": s.status, "provider_reason": s.reason, "provider_checked": now.isoformat()}
            return rules.apply(stored, Event.STATUS_REPORTED, now, error=s.status, fields=fields)[0]

        with self._lock:
            self._items.modify_many(list(by_id), change, copies=False)

    def note_bounce(self, rid: int, description: str, permanent: bool, now: datetime) -> dict[str, Any] | None:
        """A bounce for a sent item: bounced (permanent) or a delivery note (temporary). None when
        the item is not sent (already bounced: the same bounce fetched again; or never sent)."""
        event = Event.BOUNCE if permanent else Event.DELAY_REPORTED

        def change(_rid: int, stored: Any) -> dict[str, Any] | None:
            # decided inside the one write: reception deleting the item meanwhile is no error at intake
            if not rules.allowed(State(stored["status"]), event):
                return None
            return rules.apply(stored, event, now, error=description)[0]

        with self._lock:
            return self._items.modify_many([rid], change).get(rid)

    # -- the journal and the send pass -------------------------------------------------------
    def _journal(self, entry: dict[str, Any], sync: bool = True) -> None:
        self._journal_file.append(entry, sync)

    def sync_journal(self) -> None:
        """Every outcome journalled so far made durable (the PostgreSQL journal holds an outcome
        back to write it with the next attempt, see engine/adapters/postgres/journal.py)."""
        self._journal_file.sync()

    def fold(self) -> int:
        """Apply journalled outcomes to the records, then empty the journal. Idempotent."""
        with self._lock:
            entries = self._journal_file.read()
            outcomes: dict[int, list[dict[str, Any]]] = {}
            for e in entries:
                if e["event"] != ATTEMPT:
                    outcomes.setdefault(e["id"], []).append(e)

            def change(rid: int, stored: Any) -> dict[str, Any] | None:
                current = stored
                for e in outcomes[rid]:
                    if current["status"] != State.SENDING.value:
                        break  # already folded before a crash
                    current, _ = rules.apply(current, Event(e["event"]), datetime.fromisoformat(e["at"]),
                                             error=e.get("error", ""), hint=e.get("hint", ""), code=e.get("code"),
                                             fields=e.get("fields"))
                return None if current is stored else current

            known = set(self.ids_in(State.SENDING))
            changed = self._items.modify_many([rid for rid in outcomes if rid in known], change, copies=False)
            self._journal_file.clear(bool(entries))
            return len(changed)

    def recover(self, now: datetime) -> list[int]:
        """At start-up: replay the journal. Of the items still `sending`, the one whose attempt
        began but has no outcome was in flight: it is resent and flagged (it may arrive twice).
        The others were claimed but never started: they simply go back to ready.

        The in-flight verdict is journalled *before* the fold that empties the journal, so a
        kill at any point in here leaves either the attempt line or the recover line behind,
        never neither: the flag cannot be lost."""
        entries = self._journal_file.read()
        started = {e["id"] for e in entries if e["event"] == ATTEMPT}
        finished = {e["id"] for e in entries if e["event"] != ATTEMPT}
        flagged = sorted((started - finished) & set(self.ids_in(State.SENDING)))
        for rid in flagged:
            self._journal({"id": rid, "event": Event.RECOVER.value, "at": now.isoformat()}, sync=False)
        if flagged:
            self._journal_file.sync()
            log.warning("outbox item(s) %s were mid-send when the engine stopped; sent again with the same "
                        "Message-ID", ", ".join(map(str, flagged)))
        self.fold()
        released = self.ids_in(State.SENDING)
        if released:
            self._apply_many(released, Event.RELEASE, now)
        return flagged

    def due(self, now: datetime, manual: bool) -> list[int]:
        """Ids of emails due now, oldest first (no copies: a pass may see thousands). A pass
        sends each claimed batch in (due time, id) order, see `claim`."""
        return self._items.ids_by("status", State.READY.value,
                                  lambda r: r.get("kind") != SMS and rules.is_due(r, now, manual))

    def due_sms(self, now: datetime, manual: bool) -> list[int]:
        """Text messages due now (the SMTP pass never sees them)."""
        return self._items.ids_by("status", State.READY.value,
                                  lambda r: r.get("kind") == SMS and rules.is_due(r, now, manual))

    def claim(self, rids: list[int], now: datetime) -> list[dict[str, Any]]:
        """ready -> sending, durably, before any byte goes out: the store's claim, so an item
        another claimer holds (PostgreSQL: locked by its transaction) or has taken already (no
        longer ready) is left out, and no item is ever claimed twice.

        Returns what sending needs of each (id, from, envelope, blob, attempts; a text's words),
        not whole records: a pass may claim thousands, and their histories need not be copied."""
        light: dict[int, dict[str, Any]] = {}

        def change(rid: int, stored: Any) -> dict[str, Any] | None:
            if not rules.allowed(State(stored["status"]), Event.CLAIM):
                return None  # taken by another claimer, or cancelled since it was found due
            new = rules.apply(stored, Event.CLAIM, now)[0]
            light[rid] = {RID: rid, "from": new["from"], "envelope_to": list(new["envelope_to"]),
                          "blob": new["blob"], "attempts": new.get("attempts", 0), "due": rules.due_at(new),
                          **({"text": new["text"]} if new.get("kind") == SMS else {})}
            return new

        with self._lock:
            claimed = self._items.claim(rids, change)
        return sorted((light[rid] for rid in claimed), key=lambda x: (x["due"], x[RID]))

    def send_claimed(self, items: list[dict[str, Any]], session: SmtpSession, clock: Callable[[], datetime],
                     before_each: Callable[[], bool] | None = None,
                     on_sent: Callable[[datetime], None] | None = None) -> SendReport:
        """Send claimed items over one session (engine/service/outbox_send.py); every outcome journalled."""
        return SendPass(self).send_claimed(items, session, clock, before_each, on_sent)

    def close(self) -> None:
        self._journal_file.close()
