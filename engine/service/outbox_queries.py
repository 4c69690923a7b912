"""What the Outbox answers about its records: reads only, no writes.

Split from engine/service/outbox.py (the Outbox inherits these) so each module stays small; the
records are still the Outbox's own (`_items`), read here and nowhere else. Named queries return
frozen `OutboxItem`s; `get` and `list` return plain dicts for the callers that edit or print them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.adapters.storage import Partitioned, RID, Storage, missing_ids, read_ahead
from engine.core import outbox as rules
from engine.core import schedule
from engine.core.outbox import State
from engine.core.outbox_item import SMS, OutboxItem
from engine.errors import InputInvalid

GONE = (State.CANCELLED, State.DELETED)  # items that will never go, whatever they were for
_FINAL_SMS = ("delivered", "undelivered", "failed")  # provider statuses that will not change again


@dataclass(frozen=True)
class SentMark:
    """How far inbox filing has read the outbox (Outbox.addressed_since): every item up to
    `upto` but the `holes`, ids not seen there yet (on PostgreSQL an item can be committed after
    one with a higher id: another desk's long transaction)."""
    upto: int = 0
    holes: tuple[int, ...] = ()


@dataclass(frozen=True)
class SmsOutcome:
    """One text's attempt as the SMS provider answered it (engine/service/sms.py)."""
    rid: int
    event: rules.Event
    at: datetime
    error: str = ""
    hint: str = ""
    code: int | None = None
    provider_sid: str = ""
    provider_status: str = ""


@dataclass(frozen=True)
class NewText:
    """One text to queue (Outbox.add_sms_many): checked by engine/service/sms.py first."""
    to: str
    text: str
    sender: str
    parts: int
    deliver_after: datetime
    patient_id: str = ""
    automatic: bool = False
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SmsStatus:
    """The provider's delivery status for a sent text, when it changed."""
    rid: int
    status: str
    reason: str


class OutboxQueries:
    store: Storage
    _items: Partitioned

    # -- reading (plain dicts, for the callers that edit or print them) -------------------------
    def get(self, rid: int) -> dict[str, Any]:
        return self._items.require(rid)

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        if status is not None and status not in {s.value for s in State}:
            raise InputInvalid(f"{status!r} is not an outbox status",
                               hint=f"Use one of: {', '.join(s.value for s in State)}.")
        return self._items.find(lambda r: status is None or r["status"] == status)

    def counts(self) -> dict[str, int]:
        """Items per status (every heartbeat asks: read in place, never copied)."""
        return self._items.count_by("status")

    def blob(self, item: Mapping[str, Any]) -> bytes:
        return self.store.blobs.get(item["blob"])

    def messages_ahead(self, items: Iterable[Mapping[str, Any]]) -> dict[str, bytes]:
        """The items' messages by blob name, read at once where the store can ({} where it reads
        each from a local file anyway); one missing is left out, for `blob` to report."""
        return read_ahead(self.store.blobs, [i["blob"] for i in items if i.get("blob")])

    # -- queries (frozen values) ---------------------------------------------------------------
    def item(self, rid: int) -> OutboxItem:
        return OutboxItem.of(self._items.require(rid), rid)

    def _where(self, predicate: Callable[[Mapping[str, Any]], bool]) -> list[OutboxItem]:
        return [OutboxItem.of(r, r[RID]) for r in self._items.find(predicate)]

    def iter_newest(self, predicate: Callable[[Mapping[str, Any]], bool] | None = None) -> Iterator[OutboxItem]:
        """Newest first, as the kiosk's table pages through them (stop reading when it has enough)."""
        return (OutboxItem.of(r, r[RID]) for r in self._items.iter_newest(predicate))

    def count_in(self, state: State) -> int:
        return self._items.count_by("status").get(state.value, 0)

    def ids_in(self, state: State) -> list[int]:
        """By the status index on PostgreSQL (a predicate there read every item's JSON: a fifth of
        a send pass's time, measured with py-spy on tools/bench/outbound.py); a scan on TinyDB."""
        return self._items.ids_by("status", state.value)

    def in_state(self, state: State) -> list[OutboxItem]:
        return self._where(lambda r: r["status"] == state.value)

    def subjects(self) -> list[str]:
        """Every item's subject: what the diagnostics export redacts."""
        return [r.get("subject", "") for r in self._items.find(lambda r: True)]

    def for_appointment(self, appointment_id: str) -> list[OutboxItem]:
        return [OutboxItem.of(r, r[RID]) for r in self._items.find_by("appointment_id", appointment_id)]

    def has_key(self, idempotency_key: str) -> bool:
        """An item was queued once already under this key (a welcome is sent once)."""
        return bool(self._items.find_by("idempotency_key", idempotency_key))

    def held_drafts(self) -> list[OutboxItem]:
        """Automatic mail held as a draft because the patient's address bounced."""
        return self._where(lambda r: bool(r.get("held")) and r["status"] == State.DRAFT.value)

    def awaiting_prompt(self) -> list[OutboxItem]:
        """Confirmations waiting for reception's 'send this now?' answer: the ready items read by
        the status index (PostgreSQL) and only those waiting copied, not a recall run's hundreds of
        ready items: the worker asks this each look (on a database also with no desk of its own)
        and every other desk at each outbox or heartbeat notice (desk_prompts.py)."""
        waiting = self._items.ids_by("status", State.READY.value, lambda r: bool(r.get("prompt")))
        return [OutboxItem.of(r, r[RID]) for r in (self._items.get(rid) for rid in waiting) if r is not None]

    def recall_items(self) -> list[OutboxItem]:
        """Recall mail that is not cancelled or deleted (sent or still to go)."""
        gone = {s.value for s in GONE}
        return self._where(lambda r: bool(r.get("recall_keys")) and r["status"] not in gone)

    def texts_awaiting_status(self, now: datetime, min_age: timedelta | None = None) -> list[OutboxItem]:
        """Sent texts whose provider status is not final (sent at least `min_age` ago, when given:
        one sent a moment ago is still queued)."""
        def waiting(r: Mapping[str, Any]) -> bool:
            return (r.get("kind") == SMS and r["status"] == State.SENT.value and bool(r.get("provider_sid"))
                    and r.get("provider_status") not in _FINAL_SMS
                    and (min_age is None or datetime.fromisoformat(r.get("updated") or r["created"]) <= now - min_age))
        return self._where(waiting)

    def for_patient(self, patient_id: str) -> list[dict[str, Any]]:
        """Every item filed under the patient (their contact history's sent side)."""
        return self._items.find_by("patient_id", patient_id)

    def addressed_since(self, mark: SentMark = SentMark()) -> tuple[dict[str, tuple[str, str]], SentMark]:
        """Message-ID -> (patient_id, specialist_id) of the items added since `mark` that
        have both (what inbox filing matches replies by), and the mark to pass next time. Ids only
        grow, so this reads only the ids above the mark and its holes; an item still waiting for its
        booking link has no Message-ID yet and is read again until it has one."""
        found: dict[str, tuple[str, str]] = {}
        after, newest, fresh = mark.upto, mark.upto, []
        seen: set[int] = set()
        unfinished: int | None = None  # the oldest item still without a Message-ID
        # four fields of each, read in place (no record copied: a pass of texts adds hundreds)
        for rid, (message_id, status, patient_id, specialist_id) in self._items.project(
                ("message_id", "status", "patient_id", "specialist_id"), after, also=mark.holes):
            seen.add(rid)
            if rid > after:
                fresh.append(rid)
            newest = max(newest, rid)
            if not message_id:
                if unfinished is None and status in (State.PENDING_LINK.value, State.LINK_FAILED.value):
                    unfinished = rid  # may get one later (oldest first: the first met is the oldest)
            elif patient_id or specialist_id:
                found.setdefault(message_id, (patient_id, specialist_id))  # the oldest, as before
        upto = newest if unfinished is None else unfinished - 1  # read again from the unfinished one
        holes = missing_ids(after, fresh, tuple(h for h in mark.holes if h not in seen))
        return found, SentMark(upto, tuple(h for h in holes if h <= upto))

    def _going(self) -> list[dict[str, Any]]:
        going = (State.READY.value, State.SENDING.value)
        # an item waiting for reception's answer is not planned for: it goes once answered
        return self._items.find(lambda r: r["status"] in going and not r.get("prompt"))

    def due_facts(self) -> list[schedule.Due]:
        """Each item's due facts (channel, due time): what the schedule rule plans from. Ready items,
        and those a paced pass has claimed and not sent yet (`sending`): they go first, in order."""
        return [schedule.Due.of(r[RID], r) for r in self._going()]

    def worker_facts(self) -> tuple[list[schedule.Due], list[int]]:
        """What the worker plans from between its passes, in one read: the ready items' due facts,
        and the ids of the items in `sending`. Between passes the worker sends nothing, so these
        were left there (a pass whose end-of-pass save failed): never due now, they are settled
        by the crash recovery's in-flight rule (Outbox.recover), not planned for."""
        ready: list[schedule.Due] = []
        stuck: list[int] = []
        for r in self._going():
            if r["status"] == State.SENDING.value:
                stuck.append(r[RID])
            else:
                ready.append(schedule.Due.of(r[RID], r))
        return ready, stuck

    def sent_item(self, message_id: str, recipient: str = "") -> dict[str, Any] | None:
        """The item a bounce is about: the one with our Message-ID; or, when the bounce
        returned no headers at all, the newest sent (or bounced) to that recipient. Newest
        first, so a bounce (which comes within hours) is found without reading the whole outbox."""
        if message_id:
            return next(self._items.iter_newest(lambda r: r.get("message_id") == message_id), None)
        if not recipient:
            return None
        wanted = recipient.strip().lower()
        return next(self._items.iter_newest(lambda r: r["status"] in (State.SENT.value, State.BOUNCED.value) and any(
            a.strip().lower() == wanted for a in r.get("envelope_to", []))), None)
