"""The inbox as stored: intake from IMAP or POP3, filing, and what reception does
with a message (read, file, tag, action, delete, restore), each on its timeline.

Acknowledge after commit: a chunk of messages is written (blobs fsynced, then
one write of their records) before the sync state moves on (IMAP: the last UID)
or anything is deleted on the server (POP3, when not leaving mail there). A
crash between the two means the chunk is fetched again and dropped as known by
its bytes: nothing lost, nothing doubled.

A received message is where it came from (its `origin`: account, mailbox,
UIDVALIDITY and UID, or the POP3 UIDL) and its bytes. Only the same bytes are a
duplicate. Web forms and phones reuse Message-IDs, so a Message-ID seen before
with other bytes is stored like any other, with `message_id_reused` set and a
timeline note; a flag, not a tag, because the default inbox view shows untagged
messages only and a tag would hide a patient's message there.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.adapters.incoming import ImapMailbox, IncomingSettings, Pop3Mailbox
from engine.adapters.readahead import ReadAhead
from engine.adapters.store import RID, Store
from engine.core import filing, incoming
from engine.core.addresses import normalise_address
from engine.core.directory import person_name
from engine.errors import InputInvalid, MailServerError, NotFound, PracticeMailError

log = logging.getLogger("practicemail.service")
CHUNK = 200  # messages committed at once, or
CHUNK_BYTES = 32 * 1024 * 1024  # bytes (large attachments are not held CHUNK at a time)
RESYNC_LIMIT = 2000  # after a UIDVALIDITY change, look back this many messages at most
FLOOD_WINDOW = timedelta(hours=1)
POP3_AHEAD = 8  # messages read ahead of the one being stored (bounded memory)


@dataclass
class ReceiveReport:
    received: int = 0
    filed: int = 0
    duplicates: int = 0
    flooded: int = 0  # of those received, tagged Flood (held quietly: no new-mail alert for them)
    error: PracticeMailError | None = None
    new_ids: list[int] = field(default_factory=list)


def _uidls(stored: str | list[str]) -> set[str]:
    """POP3 UIDLs already stored here. Kept as one line-per-UIDL string: a mailbox of 10,000
    is one JSON string to write, not 10,000 (the first format, a list, is still read)."""
    if isinstance(stored, list):
        return set(stored)
    return set(stored.split("\n")) if stored else set()


class Inbox:
    @classmethod
    def for_practice(cls, practice: Any) -> "Inbox":
        """The inbox of an open practice (our own address is the practice's)."""
        from engine.service.bounces import Bounces
        from engine.service.calendar_answers import CalendarAnswers

        return cls(practice.store, practice.directory, lambda: [practice.settings.get("practice.email")],
                   answers=[Bounces(practice.store, practice.directory),
                            CalendarAnswers(practice.store, lambda: practice.settings.get("practice.email"))])

    def __init__(self, store: Store, directory: Any, own_addresses: Callable[[], list[str]],
                 answers: Iterable[Any] = ()) -> None:
        self.store = store
        self.messages = store.partitioned("messages")
        self.sync = store.collection("sync")
        self.directory = directory
        self.own_addresses = own_addresses
        self._lock = threading.RLock()
        self._known_ids: set[str] | None = None  # Message-IDs stored (to flag a reused one)
        self._known_blobs: set[str] | None = None
        self._sent: dict[str, filing.SentTo] = {}
        self._sent_upto = 0
        self._states: dict[str, dict[str, Any]] = {}
        self._recent: dict[str, deque[datetime]] | None = None  # sender -> arrivals in the last window
        # Readers of messages that answer what we sent (a bounce): each `take(raw, facts, now)`
        # returns how the message is filed and what it records, or None (engine/service/answers.py)
        self.answers = list(answers)

    # -- what we already have --------------------------------------------------------
    def _load_known(self) -> None:
        if self._known_ids is None:
            ids: set[str] = set()
            blobs: set[str] = set()
            for r in self.messages.find(lambda r: True):
                if r.get("message_id"):
                    ids.add(r["message_id"])
                blobs.add(r["blob"])
            self._known_ids, self._known_blobs = ids, blobs

    def _sent_index(self) -> dict[str, filing.SentTo]:
        """Message-ID of everything we sent -> whom it was for. Outbox ids only grow, so each
        intake reads the items added since the last one, newest first, and stops there.
        (An item that waits for a booking link gets its Message-ID later: it is read again
        until it has one.)"""
        outbox = self.store.partitioned("outbox")
        newest = self._sent_upto
        unfinished: int | None = None  # the oldest item still without a Message-ID
        for r in outbox.iter_newest():
            if r[RID] <= self._sent_upto:
                break
            newest = max(newest, r[RID])
            if not r.get("message_id"):
                if r["status"] in ("pending_link", "link_failed"):  # may get one later
                    unfinished = r[RID]
            elif r.get("patient_id") or r.get("specialist_id"):
                self._sent[r["message_id"]] = filing.SentTo(r.get("patient_id", ""), r.get("specialist_id", ""))
        newest_seen = newest if unfinished is None else unfinished - 1
        self._sent_upto = newest_seen
        return self._sent

    def _sync_record(self, key: str) -> dict[str, Any]:
        """The account's sync state, read from the store once and then kept here (this Inbox
        is its only writer while the process holds the writer's lock)."""
        rec = self._states.get(key)
        if rec is None:
            found = self.sync.find(lambda r: r.get("key") == key)
            rec = found[0] if found else {"key": key}
            self._states[key] = rec
        return rec

    def _save_sync(self, rec: dict[str, Any]) -> None:
        body = {k: v for k, v in rec.items() if k != RID}
        if RID in rec:
            self.sync.update(rec[RID], body)
        else:
            rec[RID] = self.sync.insert(body)

    def sync_state(self) -> list[dict[str, Any]]:
        return [{k: (len(_uidls(v)) if k == "seen" else v) for k, v in r.items() if k != RID}
                for r in self.sync.all()]

    def _arrived_from(self, sender: str, now: datetime) -> int:
        """Count this arrival and return how many came from `sender` in the last FLOOD_WINDOW,
        across passes (a flood of 12 a check for an hour is as much a flood as 40 at once).
        Seeded from the stored inbox the first time, newest first, back one window."""
        if not sender:
            return 0
        start = now - FLOOD_WINDOW
        if self._recent is None:
            self._recent = {}
            for r in self.messages.iter_newest():
                when = datetime.fromisoformat(r["received"])
                if when <= start:
                    break
                self._recent.setdefault(normalise_address(r.get("from", "")), deque()).appendleft(when)
        times = self._recent.setdefault(sender, deque())
        while times and times[0] <= start:
            times.popleft()
        times.append(now)
        return len(times)

    # -- intake ---------------------------------------------------------------------
    def _who(self) -> tuple[filing.AddressBook, dict[str, filing.SentTo], list[str]]:
        """What filing needs, read once per intake (not per chunk)."""
        book = filing.AddressBook.build(self.directory.list("patients"), self.directory.list("specialists"))
        return book, self._sent_index(), self.own_addresses()

    def _commit(self, raws: list[tuple[str, str, bytes]], now: datetime, report: ReceiveReport,
                who: tuple[filing.AddressBook, dict[str, filing.SentTo], list[str]]) -> list[bool]:
        """Store a chunk of (source, origin, raw) durably: blobs first, then the records in
        one write per partition. Returns, for each, whether its bytes are now held here (only
        those may be acknowledged or deleted on the server). (Reading the headers here rather
        than on the read-ahead thread measured faster: CPU work there keeps this thread
        waiting for the GIL after each fsync.)"""
        self._load_known()
        assert self._known_ids is not None and self._known_blobs is not None
        book, sent, own = who
        shas = self.store.blobs.put_many([raw for _, _, raw in raws])
        records = []
        for (source, origin, raw), sha in zip(raws, shas):
            if sha in self._known_blobs:  # the very same bytes: fetched again, not a new message
                report.duplicates += 1
                continue
            f = incoming.facts(raw)
            reused = bool(f.message_id) and f.message_id in self._known_ids
            recent = self._arrived_from(normalise_address(f.from_address), now)
            decision = filing.decide(f.from_address, [*f.in_reply_to, *reversed(f.references)], f.auto_reply, book,
                                     sent, own, flooding=filing.is_flooding(recent))
            taken = self._answer(raw, f, now)
            if taken is not None:
                decision = taken.decision
            timeline = [{"at": now.isoformat(), "event": "received", "detail": source}]
            if reused:
                timeline.append({"at": now.isoformat(), "event": "message-id reused", "detail":
                                 f"another message had the Message-ID {f.message_id}; both are kept"})
            if decision.filed:
                timeline.append({"at": now.isoformat(), "event": "filed",
                                 "detail": f"automatically: {decision.reason}"})
            records.append({
                "from": f.from_address, "from_name": f.from_name, "subject": f.subject, "date": f.date,
                "received": now.isoformat(), "message_id": f.message_id, "in_reply_to": f.in_reply_to[:5],
                "references": f.references[-20:], "blob": sha, "size": len(raw), "source": source,
                "origin": origin, "message_id_reused": reused,
                "patient_id": decision.patient_id, "specialist_id": decision.specialist_id,
                "candidates": decision.candidates, "filing_reason": decision.reason, "tags": decision.tags,
                "read": False, "actioned": False, "deleted": False, "auto_reply": f.auto_reply,
                "unreadable": f.unreadable, "problems": f.problems[:5],
                "timeline": [*timeline, *(taken.timeline if taken else ())], **(taken.fields if taken else {}),
            })
            if f.message_id:
                self._known_ids.add(f.message_id)
            self._known_blobs.add(sha)
            report.filed += 1 if decision.filed else 0
            report.flooded += 1 if filing.FLOOD_TAG in decision.tags else 0
        if records:
            report.new_ids.extend(self.messages.insert_many(records, owned=True))
            report.received += len(records)
        return [sha in self._known_blobs for sha in shas]

    def _answer(self, raw: bytes, f: incoming.Facts, now: datetime) -> Any:
        """A bounce (or another answer to what we sent), taken by the first reader that knows it."""
        for reader in self.answers:
            taken = reader.take(raw, f, now)
            if taken is not None:
                return taken
        return None

    @contextmanager
    def _intake(self, key: str, report: ReceiveReport) -> Iterator[tuple[dict[str, Any], Any]]:
        """One pass for one account: the lock held, its sync state and what filing needs. A
        server's failure goes into the report; after any failure the state is read again from
        the store next time (what was saved is the truth, not what this pass got to)."""
        with self._lock:
            state = self._sync_record(key)
            try:
                yield state, self._who()
            except MailServerError as exc:
                report.error = exc
                self._states.pop(key, None)
            except BaseException:
                self._states.pop(key, None)
                raise

    def receive_imap(self, settings: IncomingSettings, now: datetime,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        report = ReceiveReport()
        key = f"imap:{settings.host}:{settings.credentials.username}:INBOX"
        with self._intake(key, report) as (state, who):
            with ImapMailbox(settings) as box:
                if on_session:
                    on_session(box)
                last = int(state.get("last_uid", 0))
                if state.get("uidvalidity") not in (None, box.uidvalidity):
                    log.warning("IMAP UIDVALIDITY changed (%s -> %s): re-syncing the last %d messages",
                                state.get("uidvalidity"), box.uidvalidity, RESYNC_LIMIT)
                    last = 0
                    uids = box.uids_after(0)[-RESYNC_LIMIT:]
                else:
                    uids = box.uids_after(last)
                state.update(uidvalidity=box.uidvalidity, last_uid=last, last_fetch=now.isoformat())
                saved = False  # each chunk's save carries the whole state; save once more only if none did
                with ReadAhead(box.fetch_chunks(uids), depth=2, name="imap-fetch", abandon=box.abort) as ahead:
                    for fetched in ahead:  # the next FETCH runs while this one is stored
                        if not fetched:
                            continue
                        self._commit([(f"imap uid {uid}", f"{key} uidvalidity {box.uidvalidity} uid {uid}", raw)
                                      for uid, raw in fetched], now, report, who)
                        state["last_uid"] = fetched[-1][0]
                        self._save_sync(state)
                        saved = True
                if not saved:
                    self._save_sync(state)
        return report

    def receive_pop3(self, settings: IncomingSettings, now: datetime, leave_on_server: bool,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        report = ReceiveReport()
        key = f"pop3:{settings.host}:{settings.credentials.username}"
        with self._intake(key, report) as (state, who):
            seen = _uidls(state.get("seen", ""))
            with Pop3Mailbox(settings) as box:
                if on_session:
                    on_session(box)
                listing, total = self._pop3_listing(box, state, leave_on_server)
                on_server = {uid for _, uid in listing}
                chunk: list[tuple[str, str, bytes]] = []
                chunk_meta: list[tuple[int, str]] = []
                chunk_bytes = 0
                to_delete: list[int] = [n for n, uid in listing if uid in seen] if not leave_on_server else []

                state["last_fetch"] = now.isoformat()
                saves = 0  # each chunk's save carries the whole state; save at the end only if none did

                def commit() -> None:
                    nonlocal saves
                    held = [meta for meta, ok in zip(chunk_meta, self._commit(chunk, now, report, who)) if ok]
                    seen.update(uid for _, uid in held)
                    state["seen"] = "\n".join(sorted(seen & on_server if not leave_on_server else seen))
                    self._save_sync(state)
                    saves += 1
                    if not leave_on_server:
                        to_delete.extend(n for n, _ in held)

                wanted = [(number, uid) for number, uid in listing if uid not in seen]
                uid_of = dict(wanted)
                fetched = box.retrieve_many([number for number, _ in wanted])
                with ReadAhead(fetched, depth=POP3_AHEAD, name="pop3-retr", abandon=box.abort) as ahead:
                    for number, raw in ahead:  # the next RETRs run while this one is stored
                        uid = uid_of[number]
                        chunk.append((f"pop3 uidl {uid}", f"{key} uidl {uid}", raw))
                        chunk_meta.append((number, uid))
                        chunk_bytes += len(raw)
                        if len(chunk) >= CHUNK or chunk_bytes >= CHUNK_BYTES:
                            commit()
                            chunk, chunk_meta, chunk_bytes = [], [], 0
                if chunk:
                    commit()
                for number in to_delete:  # only what is durably stored here
                    box.delete(number)
                # everything up to `total` is stored now: the next check may start after it
                mark = {"count": total, "last_uidl": listing[-1][1] if listing else state.get("last_uidl", "")} \
                    if leave_on_server and total else {"count": 0, "last_uidl": ""}
                if not saves or any(state.get(k) != v for k, v in mark.items()):
                    state.update(mark)
                    self._save_sync(state)
                box.quit()
                if to_delete:
                    uid_at = dict(listing)
                    self._forget_deleted(state, seen, {uid_at[n] for n in to_delete})
        return report

    def _forget_deleted(self, state: dict[str, Any], seen: set[str], uidls: set[str]) -> None:
        """After QUIT has applied our deletions: their UIDLs leave the seen set, so a server
        that gives one again to a new message (RFC 1939 asks it not to; some do) has that
        message fetched and stored, never deleted unread as one we already hold."""
        seen -= uidls
        state["seen"] = "\n".join(sorted(seen))
        self._save_sync(state)

    @staticmethod
    def _pop3_listing(box: Pop3Mailbox, state: dict[str, Any], leave_on_server: bool) -> tuple[list[tuple[int, str]], int]:
        """(number, UIDL) of the messages to consider, and how many the maildrop holds.

        Left on the server, a mailbox only grows: if the message at the position the last
        check ended on is still the same one, nothing before it changed (a deletion would have
        moved it), so only the positions after it are asked (`UIDL n`, pipelined), not the
        whole listing (10,000 lines a check for a practice that keeps its mail there). Any
        doubt, the whole listing."""
        known = int(state.get("count") or 0)
        if leave_on_server and known and state.get("last_uidl"):
            total = box.count()
            if total >= known and box.uidls_of([known]) == [(known, state["last_uidl"])]:
                return box.uidls_of(list(range(known + 1, total + 1))), total
            log.info("POP3 mailbox changed behind us (%d messages, was %d): reading the whole listing", total, known)
        listing = box.uidls()
        return listing, max((n for n, _ in listing), default=0)

    # -- the inbox as reception sees it ---------------------------------------------------
    def list(self, show_all: bool = False, tags: Iterable[str] = (), include_actioned: bool = False,
             deleted: bool = False, limit: int | None = None, any_tags: bool = False,
             search: str = "") -> list[dict[str, Any]]:
        """Default view: not deleted, not actioned, untagged ('Patient'/'Specialist' filing tags count
        as tags: filed mail lives on the patient's file). `tags`: carrying all of them. `any_tags`:
        tagged or not (actioned still as asked). `show_all`: everything not deleted. `search`: every
        word in the sender, the subject or the day received (2026-11-30 or 30/11/2026)."""
        wanted = set(tags)
        words = search.casefold().split()

        def view(r: Any) -> bool:
            if bool(r.get("deleted")) != deleted:
                return False
            if words and not _found(r, words):
                return False
            if show_all or deleted:  # the Deleted folder shows everything in it
                return True
            if r.get("actioned") and not include_actioned:
                return False
            if any_tags:
                return True
            if wanted:
                return wanted <= set(r.get("tags", []))
            return not r.get("tags")

        if limit is not None:
            return self.messages.newest(limit, view)
        return list(self.messages.iter_newest(view))

    def get(self, rid: int) -> dict[str, Any]:
        return self.messages.require(rid)

    def content(self, rid: int) -> incoming.Content:
        return incoming.content(self.store.blobs.get(self.get(rid)["blob"]))

    def _change(self, rid: int, now: datetime, event: str, detail: str, fields: dict[str, Any]) -> dict[str, Any]:
        def change(_rid: int, stored: Any) -> dict[str, Any]:
            new = dict(stored)
            new.update(fields)
            new["timeline"] = [*stored.get("timeline", []), {"at": now.isoformat(), "event": event, "detail": detail}]
            return new

        with self._lock:
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

    def contact_history(self, patient_id: str) -> list[dict[str, Any]]:
        """Every email to or from the patient: derived from the inbox and outbox, never copied."""
        out = [{"type": "received", "date": r["received"], "subject": r["subject"], "id": r[RID]}
               for r in self.messages.find(lambda r: r.get("patient_id") == patient_id)]
        out += [{"type": "sent" if r["status"] == "sent" else r["status"], "date": r.get("sent_at") or r["created"],
                 "subject": r["subject"], "id": r[RID], "category": r.get("category", ""),
                 "description": r.get("description", "")}
                for r in self.store.partitioned("outbox").find(lambda r: r.get("patient_id") == patient_id)]
        return sorted(out, key=lambda x: x["date"], reverse=True)


def _found(r: Any, words: list[str]) -> bool:
    """The inbox search: each word in the sender's address or name, the subject or the day."""
    day = str(r.get("received") or "")[:10]
    hay = " ".join((str(r.get("from") or ""), str(r.get("from_name") or ""), str(r.get("subject") or ""), day,
                    "/".join(reversed(day.split("-"))))).casefold()
    return all(w in hay for w in words)
