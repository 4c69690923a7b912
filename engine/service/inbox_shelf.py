"""Where intake puts what it fetched: each chunk filed and stored durably in one step.

A received message is where it came from (its `origin`: account, mailbox, UIDVALIDITY and
UID, or the POP3 UIDL) and its bytes. Only the same bytes are a duplicate. Web forms and
phones reuse Message-IDs, so a Message-ID seen before with other bytes is stored like any
other, with `message_id_reused` set and a timeline note; a flag, not a tag, because the
default inbox view shows untagged messages only and a tag would hide a patient's message there.

The shelf's memory (what is stored, what we sent, who sent what lately) is intake's alone:
only a pass uses it, under the pass lock (engine/service/inbox_intake.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.adapters.storage import Partitioned, Storage
from engine.core import filing, incoming
from engine.core.addresses import normalise_address
from engine.errors import PracticeMailError
from engine.service.answers import Taken
from engine.service.inbox_records import InboxMessage, timeline_entry
from engine.service.outbox import Outbox
from engine.service.outbox_queries import SentMark

CHUNK = 200  # messages committed at once, or
CHUNK_BYTES = 32 * 1024 * 1024  # bytes (large attachments are not held CHUNK at a time)
FLOOD_WINDOW = timedelta(hours=1)
Who = tuple[filing.AddressBook, dict[str, filing.SentTo], list[str]]


@dataclass
class ReceiveReport:
    received: int = 0
    filed: int = 0
    duplicates: int = 0
    flooded: int = 0  # of those received, tagged Flood (held quietly: no new-mail alert for them)
    error: PracticeMailError | None = None
    new_ids: list[int] = field(default_factory=list)


class Shelf:
    def __init__(self, store: Storage, messages: Partitioned, outbox: Outbox, directory: Any,
                 own_addresses: Callable[[], list[str]], answers: Iterable[Any] = ()) -> None:
        self.store = store
        self.messages = messages
        self.outbox = outbox
        self.directory = directory
        self.own_addresses = own_addresses
        # Readers of messages that answer what we sent (a bounce): each `take(raw, facts, now)`
        # returns how the message is filed and what it records, or None (engine/service/answers.py)
        self.answers = list(answers)
        self._known_ids: set[str] | None = None  # Message-IDs stored (to flag a reused one)
        self._known_blobs: set[str] | None = None
        self._sent: dict[str, filing.SentTo] = {}
        self._sent_upto = SentMark()
        self._recent: dict[str, deque[datetime]] | None = None  # sender -> arrivals in the last window

    # -- what we already have --------------------------------------------------------
    def _load_known(self) -> tuple[set[str], set[str]]:
        if self._known_ids is None or self._known_blobs is None:
            ids: set[str] = set()
            blobs: set[str] = set()
            for r in self.messages.find(lambda r: True):
                if r.get("message_id"):
                    ids.add(r["message_id"])
                blobs.add(r["blob"])
            self._known_ids, self._known_blobs = ids, blobs
        return self._known_ids, self._known_blobs

    def _sent_index(self) -> dict[str, filing.SentTo]:
        """Message-ID of everything we sent -> whom it was for, read through the Outbox (the
        only reader of its records) a little more each intake: only the items added since."""
        found, self._sent_upto = self.outbox.addressed_since(self._sent_upto)
        for message_id, (patient_id, specialist_id) in found.items():
            self._sent[message_id] = filing.SentTo(patient_id, specialist_id)
        return self._sent

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

    # -- storing ----------------------------------------------------------------------
    def who(self) -> Who:
        """What filing needs, read once per pass (not per chunk)."""
        book = filing.AddressBook.build(self.directory.list("patients"), self.directory.list("specialists"))
        return book, self._sent_index(), self.own_addresses()

    def commit(self, raws: list[tuple[str, str, bytes]], now: datetime, report: ReceiveReport, who: Who) -> list[bool]:
        """Store a chunk of (source, origin, raw) durably: blobs first, then the records in
        one write per partition. Returns, for each, whether its bytes are now held here (only
        those may be acknowledged or deleted on the server). (Reading the headers here rather
        than on the read-ahead thread measured faster: CPU work there keeps this thread
        waiting for the GIL after each fsync.)"""
        try:
            return self._commit(raws, now, report, who)
        except BaseException:
            self.forget()
            raise

    def forget(self) -> None:
        """Drop what the shelf remembers of the store, to be read again: after a chunk's write
        failed (or was rolled back with the step it was part of), its messages must not count
        as held here, or the next pass would drop them as duplicates: lost."""
        self._known_ids = self._known_blobs = None
        self._recent = None

    def _commit(self, raws: list[tuple[str, str, bytes]], now: datetime, report: ReceiveReport, who: Who) -> list[bool]:
        known_ids, known_blobs = self._load_known()
        shas = self.store.blobs.put_many([raw for _, _, raw in raws])
        records = []
        for (source, origin, raw), sha in zip(raws, shas):
            if sha in known_blobs:  # the very same bytes: fetched again, not a new message
                report.duplicates += 1
                continue
            message, filed = self._file(source, origin, raw, sha, now, who, known_ids)
            records.append(message.record())
            if message.message_id:
                known_ids.add(message.message_id)
            known_blobs.add(sha)
            report.filed += 1 if filed else 0
            report.flooded += 1 if filing.FLOOD_TAG in message.tags else 0
        if records:
            report.new_ids.extend(self.messages.insert_many(records, owned=True))
            report.received += len(records)
        return [sha in known_blobs for sha in shas]

    def _file(self, source: str, origin: str, raw: bytes, sha: str, now: datetime, who: Who,
              known_ids: set[str]) -> tuple[InboxMessage, bool]:
        """One new message as it will be stored: its headers read, filed (or taken by an answer
        reader: a bounce, a calendar answer), its first timeline lines written; and whether it was filed."""
        book, sent, own = who
        f = incoming.facts(raw)
        reused = bool(f.message_id) and f.message_id in known_ids
        recent = self._arrived_from(normalise_address(f.from_address), now)
        decision = filing.decide(f.from_address, [*f.in_reply_to, *reversed(f.references)], f.auto_reply, book,
                                 sent, own, flooding=filing.is_flooding(recent))
        taken = self._answer(raw, f, now)
        if taken is not None:
            decision = taken.decision
        timeline = [timeline_entry(now, "received", source)]
        if reused:
            timeline.append(timeline_entry(now, "message-id reused",
                                           f"another message had the Message-ID {f.message_id}; both are kept"))
        if decision.filed:
            timeline.append(timeline_entry(now, "filed", f"automatically: {decision.reason}"))
        message = InboxMessage(
            from_address=f.from_address, from_name=f.from_name, subject=f.subject, date=f.date,
            received=now.isoformat(), message_id=f.message_id, in_reply_to=tuple(f.in_reply_to),
            references=tuple(f.references), blob=sha, size=len(raw), source=source, origin=origin,
            message_id_reused=reused, patient_id=decision.patient_id, specialist_id=decision.specialist_id,
            candidates=tuple(decision.candidates), filing_reason=decision.reason, tags=tuple(decision.tags),
            auto_reply=f.auto_reply, unreadable=f.unreadable, problems=tuple(f.problems),
            timeline=(*timeline, *(taken.timeline if taken else ())),
            bounce=taken.bounce if taken else None, calendar_answer=taken.calendar_answer if taken else None)
        return message, decision.filed

    def _answer(self, raw: bytes, f: incoming.Facts, now: datetime) -> Taken | None:
        """A bounce (or another answer to what we sent), taken by the first reader that knows it."""
        for reader in self.answers:
            taken = reader.take(raw, f, now)
            if taken is not None:
                return taken
        return None
