"""The outbox as stored, and the send pass that empties it.

Records live in the partitioned `outbox` collection; the raw message is a blob.
A send pass claims its items (ready -> sending) in one write per partition
*before* any byte goes to the server, then records each outcome as a line in
an append-only journal (fsynced in groups, see _journal), and folds it into the
records every `FOLD_EVERY` outcomes and at the end. So a crash mid-batch
loses no outcome that was journalled: at start-up the journal is replayed,
and only an item whose 250 arrived but whose line did not reach the journal
(the one in flight) is resent, with the same Message-ID, flagged in its history.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from engine.adapters.smtp import SmtpSession
from engine.adapters.store import RID, Store
from engine.core import confidentiality
from engine.core import outbox as rules
from engine.core import schedule
from engine.core.addresses import domain_of
from engine.core.message import Draft, as_bytes, build, envelope_recipients
from engine.errors import (AddressNotSendable, AuthenticationRefused, InputInvalid, MailServerError,
                           PracticeMailError, ServerRejected, TlsFailed)

log = logging.getLogger("practicemail.service")
FOLD_EVERY = 1000
SYNC_EVERY = 0.02  # seconds between journal fsyncs during a pass
ATTEMPT = "attempt"  # journalled just before an item's bytes go out
State, Event = rules.State, rules.Event
SMS = "sms"  # the kind of a text message: sent by engine/service/sms.py, never over SMTP


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    account_error: PracticeMailError | None = None
    sent_at: list[datetime] = field(default_factory=list)
    ended_early: bool = False  # before_each ended the pass (stopping, period closed, a command waiting)


def _identity(path: Any) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.items = store.partitioned("outbox")
        self.journal_path = store.folder / "db" / "outbox.journal"
        self._lock = threading.RLock()
        self._journal_fd: int | None = None
        self._last_sync = 0.0
        self._book_cache: tuple[tuple[Any, ...], confidentiality.Book] | None = None

    # -- the confidentiality gate ---------------------------------------------------------
    def book(self) -> confidentiality.Book:
        """The directory as the gate sees it (the same store the Directory reads), built again
        only when one of its files changed: the files' identity (inode, size, mtime), as the
        store's own cache checks it, so another process's change is seen. (5,000 patients take
        ~130 ms to build; a batch of confirmations would otherwise pay that per item.)"""
        colls = [self.store.collection(k) for k in ("patients", "providers", "specialists")]
        paths = [getattr(c, "path", None) for c in colls]
        signature = tuple(_identity(p) for p in paths) if all(paths) else None  # no files: never cached
        with self._lock:
            if signature is not None and self._book_cache is not None and self._book_cache[0] == signature:
                return self._book_cache[1]
        book = confidentiality.Book.build(*(c.all() for c in colls))
        with self._lock:
            self._book_cache = (signature, book) if signature is not None else None
        return book

    @staticmethod
    def _judge(draft: Draft, about: confidentiality.About, book: confidentiality.Book) -> list[dict[str, Any]]:
        """Refuse a draft the rules refuse; the history lines an allowed one carries.

        Why here: every path that queues mail (compose, reply, forward, mass mail, reminders,
        `outbox add`, the support email, drafts revised and sent) ends in this class, so the gate
        is checked where none can pass by. Each path still says what the mail is about (`About`,
        a typed value; by default the `patient_id` it is filed under), because only it knows."""
        verdict = confidentiality.gate([r.address for r in draft.to], [r.address for r in draft.cc],
                                       [r.address for r in draft.bcc], bool(draft.attachments), about, book)
        verdict.raise_if_refused()
        names = ", ".join(p.name or p.id for p in book.about(about.patient_ids))
        return [{"event": "confirmed outside", "detail": f"reception confirmed that {names}'s mail may go to {a}"}
                for a in verdict.confirmed]

    @staticmethod
    def _about(about: confidentiality.About | None, patient_id: str | None,
               family: list[str] | None = None) -> confidentiality.About:
        if about is not None:
            return about
        return confidentiality.About(tuple(family or ([patient_id] if patient_id else [])))

    # -- adding ---------------------------------------------------------------------
    def add_draft(self, draft: Draft, now: datetime, *, as_draft: bool = False, deliver_after: datetime | None = None,
                  patient_id: str | None = None, kind: str = "email", automatic: bool = False,
                  meta: dict[str, Any] | None = None, about: confidentiality.About | None = None) -> int:
        """Queue one email, once the confidentiality gate allows it (`about`: what it is about;
        by default the patient it is filed under)."""
        notes = self._judge(draft, self._about(about, patient_id), self.book())
        message_id = make_msgid(domain=domain_of(draft.from_address))
        msg = build(draft, message_id, now)
        raw = as_bytes(msg)
        blob = self.store.blobs.put(raw)
        record = {
            "status": State.DRAFT.value if as_draft else State.READY.value,
            "kind": kind, "automatic": automatic,
            "from": draft.from_address, "to": [r.address for r in draft.to], "cc": [r.address for r in draft.cc],
            "bcc": [r.address for r in draft.bcc], "envelope_to": envelope_recipients(draft),
            "subject": draft.subject, "message_id": message_id, "blob": blob, "size": len(raw),
            "created": now.isoformat(), "deliver_after": (deliver_after or now).isoformat(),
            "attempts": 0, "retry_at": None, "last_error": "", "last_hint": "", "last_code": None,
            "patient_id": patient_id or "", "history": [{"at": now.isoformat(), "event": "created",
                                                         "to": State.DRAFT.value if as_draft else State.READY.value},
                                                        *({"at": now.isoformat(), **n} for n in notes)],
            **(meta or {}),
        }
        rid = self.items.insert(record)
        log.info("outbox item %d queued (%s, %d bytes)", rid, record["status"], len(raw))
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
            built.append((draft, meta, message_id, as_bytes(build(draft, message_id, now))))
        shas = self.store.blobs.put_many([raw for *_, raw in built])
        records = []
        for (draft, meta, message_id, raw), sha in zip(built, shas):
            records.append({
                "status": State.READY.value, "kind": "email", "automatic": True, "from": draft.from_address,
                "to": [r.address for r in draft.to], "cc": [r.address for r in draft.cc],
                "bcc": [r.address for r in draft.bcc], "envelope_to": envelope_recipients(draft),
                "subject": draft.subject, "message_id": message_id, "blob": sha, "size": len(raw),
                "created": now.isoformat(), "deliver_after": now.isoformat(), "attempts": 0, "retry_at": None,
                "last_error": "", "last_hint": "", "last_code": None, "patient_id": meta.get("patient_id", ""),
                "history": [{"at": now.isoformat(), "event": "created", "to": State.READY.value}],
                **{k: v for k, v in meta.items() if k != "patient_id"},
            })
        return self.items.insert_many(records)

    def add_sms(self, to: str, text: str, now: datetime, *, sender: str, parts: int,
                deliver_after: datetime | None = None, patient_id: str = "", automatic: bool = False,
                meta: dict[str, Any] | None = None) -> int:
        """A text message (kind `sms`) in the same outbox, same states; no MIME blob: the text is the
        record's own (engine/service/sms.py sends it through the SMS provider, never through SMTP)."""
        record = {
            "status": State.READY.value, "kind": SMS, "automatic": automatic, "from": sender, "to": [to], "cc": [],
            "bcc": [], "envelope_to": [to], "subject": text[:60], "text": text, "parts": parts, "message_id": "",
            "blob": "", "size": len(text.encode()), "created": now.isoformat(),
            "deliver_after": (deliver_after or now).isoformat(), "attempts": 0, "retry_at": None, "last_error": "",
            "last_hint": "", "last_code": None, "patient_id": patient_id, "provider_sid": "", "provider_status": "",
            "history": [{"at": now.isoformat(), "event": "created", "to": State.READY.value}], **(meta or {}),
        }
        rid = self.items.insert(record)
        log.info("outbox item %d queued (sms, %d part(s))", rid, parts)
        return rid

    def due_sms(self, now: datetime, manual: bool) -> list[int]:
        """Text messages due now (the SMTP pass never sees them)."""
        return self.items.ids(lambda r: r.get("kind") == SMS and rules.is_due(r, now, manual))

    def add_pending_link(self, record: dict[str, Any], now: datetime) -> int:
        """An item whose message waits for a booking link: no blob until the link is ready."""
        record = {**record, "status": State.PENDING_LINK.value, "created": now.isoformat(), "attempts": 0,
                  "retry_at": None, "last_error": "", "last_hint": "", "last_code": None, "blob": "", "size": 0,
                  "message_id": "", "history": [{"at": now.isoformat(), "event": "created",
                                                 "to": State.PENDING_LINK.value}]}
        return self.items.insert(record)

    def link_ready(self, rid: int, draft: Draft, now: datetime) -> None:
        """The link is there: build the message now (its Message-ID from here on) and make it ready
        (through the gate, about the item's patient)."""
        self._judge(draft, self._about(None, self.items.require(rid).get("patient_id")), self.book())
        message_id = make_msgid(domain=domain_of(draft.from_address))
        raw = as_bytes(build(draft, message_id, now))
        blob = self.store.blobs.put(raw)

        def change(_rid: int, stored: Any) -> dict[str, Any]:
            new, _ = rules.apply(stored, Event.LINK_READY, now)
            return {**new, "blob": blob, "size": len(raw), "message_id": message_id,
                    "subject": draft.subject, "envelope_to": envelope_recipients(draft)}

        with self._lock:
            self.items.modify_many([rid], change)

    def revise_draft(self, rid: int, draft: Draft, now: datetime, queue: bool = False) -> dict[str, Any]:
        """A draft edited in the compose window: its message rebuilt (same Message-ID), and
        queued for sending when `queue`. Only a draft can be revised: anything else has left
        reception's hands."""
        with self._lock:
            item = self.items.require(rid)
            if item["status"] != State.DRAFT.value:
                raise InputInvalid(f"outbox item {rid} is {item['status']}, not a draft",
                                   hint="Only drafts can be edited; refresh the outbox.")
            self._judge(draft, self._about(None, item.get("patient_id"), item.get("family_patients")), self.book())
            raw = as_bytes(build(draft, item["message_id"], now))
            blob = self.store.blobs.put(raw)

            def change(_rid: int, stored: Any) -> dict[str, Any]:
                new = {**stored, "to": [r.address for r in draft.to], "cc": [r.address for r in draft.cc],
                       "bcc": [r.address for r in draft.bcc], "envelope_to": envelope_recipients(draft),
                       "subject": draft.subject, "blob": blob, "size": len(raw), "deliver_after": now.isoformat(),
                       "history": [*stored.get("history", []), {"at": now.isoformat(), "event": "edited"}]}
                return rules.apply(new, Event.QUEUE, now)[0] if queue else new

            return self.items.modify_many([rid], change)[rid]

    # -- reading --------------------------------------------------------------------
    def get(self, rid: int) -> dict[str, Any]:
        return self.items.require(rid)

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        if status is not None and status not in {s.value for s in State}:
            raise InputInvalid(f"{status!r} is not an outbox status",
                               hint=f"Use one of: {', '.join(s.value for s in State)}.")
        return self.items.find(lambda r: status is None or r["status"] == status)

    def counts(self) -> dict[str, int]:
        """Items per status (every heartbeat asks: read in place, never copied)."""
        return self.items.count_by("status")

    def for_patient(self, patient_id: str) -> list[dict[str, Any]]:
        """Every item filed under the patient (their contact history's sent side)."""
        return self.items.find(lambda r: r.get("patient_id") == patient_id)

    def addressed_since(self, after: int) -> tuple[dict[str, tuple[str, str]], int]:
        """Message-ID -> (patient_id, specialist_id) of the items added after id `after` that
        have both (what inbox filing matches replies by), and the id to pass next time. Ids only
        grow, so this reads newest first and stops at `after`; an item still waiting for its
        booking link has no Message-ID yet and is read again until it has one."""
        found: dict[str, tuple[str, str]] = {}
        newest = after
        unfinished: int | None = None  # the oldest item still without a Message-ID
        for r in self.items.iter_newest():
            if r[RID] <= after:
                break
            newest = max(newest, r[RID])
            if not r.get("message_id"):
                if r["status"] in (State.PENDING_LINK.value, State.LINK_FAILED.value):  # may get one later
                    unfinished = r[RID]
            elif r.get("patient_id") or r.get("specialist_id"):
                found[r["message_id"]] = (r.get("patient_id", ""), r.get("specialist_id", ""))
        return found, newest if unfinished is None else unfinished - 1

    # -- changing -------------------------------------------------------------------
    def _apply_many(self, rids: Iterable[int], event: Event, now: datetime, **detail: Any) -> list[dict[str, Any]]:
        """One event on many items, one write per partition; all or none (a refused one raises first)."""
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            return rules.apply(stored, event, now, **detail)[0]

        changed = self.items.modify_many(list(rids), change)
        return [changed[rid] for rid in sorted(changed)]

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
                    if self.items.require(rid)["status"] not in (State.FAILED.value, State.LINK_FAILED.value):
                        raise InputInvalid(f"outbox item {rid} has not failed", hint="Only failed items can be reset.")
                targets = rids
            else:
                targets = [r[RID] for r in self.items.find(
                    lambda r: r["status"] in (State.FAILED.value, State.LINK_FAILED.value))]
            self._apply_many(targets, Event.RESET, now)
            return targets

    def sent_item(self, message_id: str, recipient: str = "") -> dict[str, Any] | None:
        """The item a bounce is about: the one with our Message-ID; or, when the bounce
        returned no headers at all, the newest sent (or bounced) to that recipient. Newest
        first, so a bounce (which comes within hours) is found without reading the whole outbox."""
        if message_id:
            return next(self.items.iter_newest(lambda r: r.get("message_id") == message_id), None)
        if not recipient:
            return None
        wanted = recipient.strip().lower()
        return next(self.items.iter_newest(lambda r: r["status"] in (State.SENT.value, State.BOUNCED.value) and any(
            a.strip().lower() == wanted for a in r.get("envelope_to", []))), None)

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
            return self.items.modify_many([rid], change).get(rid)

    def blob(self, item: dict[str, Any]) -> bytes:
        return self.store.blobs.get(item["blob"])

    # -- the journal ------------------------------------------------------------------
    def _journal(self, entry: dict[str, Any], sync: bool = True) -> None:
        """Append one line; written at once, so a killed process loses nothing (the kernel
        keeps it). Outcomes are fsynced in groups, at most SYNC_EVERY apart, and always at a
        fold: only a power cut can lose the last few, and then those items are sent again
        (at-least-once still holds; they are never lost)."""
        if self._journal_fd is None:
            self._journal_fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if entry.keys() == {"id", "event", "at"}:  # the common lines, without json's overhead
            line = f'{{"id": {int(entry["id"])}, "event": "{entry["event"]}", "at": "{entry["at"]}"}}\n'
        else:
            line = json.dumps(entry) + "\n"
        os.write(self._journal_fd, line.encode())
        if sync:
            now = time.monotonic()
            if now - self._last_sync >= SYNC_EVERY:
                os.fsync(self._journal_fd)
                self._last_sync = now

    def _read_journal(self) -> list[dict[str, Any]]:
        if not self.journal_path.exists():
            return []
        entries = []
        for line in self.journal_path.read_text("utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                break  # a torn last line: the outcome it described was not acknowledged
        return entries

    def fold(self) -> int:
        """Apply journalled outcomes to the records, then empty the journal. Idempotent."""
        with self._lock:
            entries = self._read_journal()
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
                                             error=e.get("error", ""), hint=e.get("hint", ""), code=e.get("code"))
                return None if current is stored else current

            known = set(self.items.ids(lambda r: r["status"] == State.SENDING.value))
            changed = self.items.modify_many([rid for rid in outcomes if rid in known], change, copies=False)
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            if entries or self.journal_path.exists():
                self.journal_path.unlink(missing_ok=True)
            return len(changed)

    def recover(self, now: datetime) -> list[int]:
        """At start-up: replay the journal. Of the items still `sending`, the one whose attempt
        began but has no outcome was in flight: it is resent and flagged (it may arrive twice).
        The others were claimed but never started: they simply go back to ready.

        The in-flight verdict is journalled *before* the fold that empties the journal, so a
        kill at any point in here leaves either the attempt line or the recover line behind,
        never neither: the flag cannot be lost."""
        entries = self._read_journal()
        started = {e["id"] for e in entries if e["event"] == ATTEMPT}
        finished = {e["id"] for e in entries if e["event"] != ATTEMPT}
        sending = set(self.items.ids(lambda r: r["status"] == State.SENDING.value))
        flagged = sorted((started - finished) & sending)
        for rid in flagged:
            self._journal({"id": rid, "event": Event.RECOVER.value, "at": now.isoformat()}, sync=False)
        if flagged:
            os.fsync(self._journal_fd)  # type: ignore[arg-type]
            log.warning("outbox item(s) %s were mid-send when the engine stopped; sent again with the same "
                        "Message-ID", ", ".join(map(str, flagged)))
        self.fold()
        released = [r[RID] for r in self.items.find(lambda r: r["status"] == State.SENDING.value)]
        if released:
            self._apply_many(released, Event.RELEASE, now)
        return flagged

    # -- sending ----------------------------------------------------------------------
    def due(self, now: datetime, manual: bool) -> list[int]:
        """Ids of items due now, oldest first (no copies: a pass may see thousands). A pass
        sends each claimed batch in (due time, id) order, see `claim`."""
        return self.items.ids(lambda r: r.get("kind") != SMS and rules.is_due(r, now, manual))

    def waiting(self) -> list[tuple[int, datetime]]:
        """Ready items and when each becomes due, in the order automatic passes take them
        (the preview plans in this order; the worker wakes for the first)."""
        found = self.items.find(lambda r: r["status"] == State.READY.value)
        return sorted(((r[RID], rules.due_at(r)) for r in found), key=lambda x: (x[1], x[0]))

    def due_facts(self) -> list[schedule.Due]:
        """Each item's due facts (channel, due time): what the schedule rule plans from. Ready items,
        and those a paced pass has claimed and not sent yet (`sending`): they go first, in order."""
        going = (State.READY.value, State.SENDING.value)
        return [schedule.Due.of(r[RID], r) for r in self.items.find(lambda r: r["status"] in going)]

    def claim(self, rids: list[int], now: datetime) -> list[dict[str, Any]]:
        """ready -> sending, durably, before any byte goes out.

        Returns what sending needs of each (id, from, envelope, blob, attempts), not whole records:
        a pass may claim thousands, and their histories need not be copied."""
        light: dict[int, dict[str, Any]] = {}

        def change(rid: int, stored: Any) -> dict[str, Any]:
            new = rules.apply(stored, Event.CLAIM, now)[0]
            light[rid] = {RID: rid, "from": new["from"], "envelope_to": list(new["envelope_to"]),
                          "blob": new["blob"], "attempts": new.get("attempts", 0), "due": rules.due_at(new)}
            return new

        with self._lock:
            self.items.modify_many(rids, change, copies=False)
        return sorted((light[rid] for rid in rids), key=lambda x: (x["due"], x[RID]))

    def send_claimed(self, items: list[dict[str, Any]], session: SmtpSession, clock: Callable[[], datetime],
                     before_each: Callable[[], bool] | None = None,
                     on_sent: Callable[[datetime], None] | None = None) -> SendReport:
        """Send claimed items over one session; every outcome journalled. Stops on an account failure.

        `before_each` may wait (pacing) and returns False to end the pass early (stopping, a
        period closing, a command waiting): the items not started go back to ready untouched.
        `on_sent` hears of each send the moment it happens (pacing counts it at once).
        """
        report = SendReport()
        pending = list(items)
        try:
            while pending:
                if before_each is not None and not before_each():
                    report.ended_early = True
                    break
                item = pending[0]
                if not session.connected:
                    try:
                        session.open()
                    except MailServerError as exc:  # cannot reach or log in: about the account, not the item
                        report.account_error = exc
                        break
                self._journal({"id": item[RID], "event": ATTEMPT, "at": clock().isoformat()}, sync=False)
                if not self._send_one(item, session, clock, report, on_sent):
                    break
                pending.pop(0)
                if (report.sent + report.failed + report.retrying) % FOLD_EVERY == 0:
                    self.fold()
        finally:
            self._put_back(pending, clock(), report.account_error)
            self.fold()
        return report

    def _send_one(self, item: dict[str, Any], session: SmtpSession, clock: Callable[[], datetime],
                  report: SendReport, on_sent: Callable[[datetime], None] | None) -> bool:
        """One item's attempt and its outcome journalled; False when the account failed (the pass stops).

        Whatever goes wrong with one item stays with that item: an error we did not foresee
        fails it (with a hint) and the pass goes on to the next."""
        try:
            refused = session.send(item["from"], item["envelope_to"], self.blob(item))
        except (AuthenticationRefused, TlsFailed) as exc:
            report.account_error = exc
            return False
        except ServerRejected as exc:
            event = Event.PERMANENT_FAILURE if exc.permanent else Event.TEMPORARY_FAILURE
            self._record(item, event, clock(), exc, report)
        except MailServerError as exc:  # timeouts, dropped connections: an attempt counted
            self._record(item, Event.TEMPORARY_FAILURE, clock(), exc, report)
        except AddressNotSendable as exc:  # this address cannot go to this server
            if exc.sender:  # the practice's own: no item can go, so it is about the account
                report.account_error = exc
                return False
            self._record(item, Event.PERMANENT_FAILURE, clock(), exc, report)
        except PracticeMailError as exc:  # its stored message cannot be read
            self._record(item, Event.PERMANENT_FAILURE, clock(), PracticeMailError(
                f"the stored message could not be read: {exc.message}",
                hint="Write this email again (its stored copy is damaged); if it happens to others, "
                     "export diagnostics for support."), report)
        except Exception as exc:  # noqa: BLE001 - one item's surprise must not stop all outgoing mail
            log.exception("outbox item %d: unexpected error while sending", item[RID])
            session.close()  # its state is unknown: the next item starts a fresh connection
            self._record(item, Event.PERMANENT_FAILURE, clock(), PracticeMailError(
                f"could not be sent: {type(exc).__name__}: {exc}",
                hint="Check the recipients' addresses, then use Reset Failed; if it fails again, "
                     "export diagnostics for support."), report)
        else:
            now = clock()
            entry = {"id": item[RID], "event": Event.DELIVERED.value, "at": now.isoformat()}
            if refused:
                entry["error"] = "some recipients were refused: " + ", ".join(refused)
            self._journal(entry)
            report.sent += 1
            report.sent_at.append(now)
            if on_sent is not None:
                on_sent(now)
        return True

    def _put_back(self, pending: list[dict[str, Any]], now: datetime, err: PracticeMailError | None) -> None:
        """Items claimed but not attempted go back to ready: with the account's error when that
        stopped the pass, else simply released (nothing is counted against them)."""
        for item in pending:
            if err is not None:
                self._journal({"id": item[RID], "event": Event.ACCOUNT_FAILURE.value, "at": now.isoformat(),
                               "error": err.message, "hint": err.hint})
            else:
                self._journal({"id": item[RID], "event": Event.RELEASE.value, "at": now.isoformat()})

    def _record(self, item: dict[str, Any], event: Event, now: datetime, exc: PracticeMailError,
                report: SendReport) -> None:
        code = getattr(exc, "code", None)
        hint = rules.failure_hint(event, item, exc.hint)
        self._journal({"id": item[RID], "event": event.value, "at": now.isoformat(), "error": exc.message,
                       "hint": hint, "code": code})
        last = event is Event.PERMANENT_FAILURE or item.get("attempts", 0) + 1 >= rules.MAX_ATTEMPTS
        if last:
            report.failed += 1
        else:
            report.retrying += 1
        report.errors.append({"id": item[RID], "error": exc.message, "hint": hint})
        log.warning("outbox item %d: %s", item[RID], exc.message)

    def close(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None

