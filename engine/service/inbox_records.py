"""The shape of an inbox message record, written once.

Every record in the `messages` collection is made by `InboxMessage.record()` (intake is the
only creator; the benches build theirs the same way), and every line of a message's timeline
by `timeline_entry`. Stored records stay dicts (the store is JSON, and reception's views read
them as they are); `InboxMessage.from_record` gives the frozen value back for callers that
want one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from engine.adapters.storage import RID

MAX_IN_REPLY_TO = 5  # ids kept from a message's In-Reply-To, and
MAX_REFERENCES = 20  # from its References (the newest): filing needs no more
MAX_PROBLEMS = 5


def timeline_entry(at: datetime, event: str, detail: str = "") -> dict[str, str]:
    """One line of a message's timeline (received, filed, read, replied, bounce, ...)."""
    return {"at": at.isoformat(), "event": event, "detail": detail}


@dataclass(frozen=True)
class InboxMessage:
    """A received message as stored: where it came from, what it says of itself (headers read
    by engine/core/incoming.py), how it was filed, and what reception did with it."""

    from_address: str
    subject: str
    received: str  # ISO time it arrived here
    blob: str  # SHA-256 of the raw bytes (engine/adapters/blobs.py)
    size: int
    source: str  # "imap uid 7", "pop3 uidl abc"
    origin: str  # account, mailbox, UIDVALIDITY and UID, or the POP3 UIDL
    from_name: str = ""
    date: str | None = None
    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    message_id_reused: bool = False
    patient_id: str = ""
    specialist_id: str = ""
    candidates: tuple[str, ...] = ()
    filing_reason: str = ""
    tags: tuple[str, ...] = ()
    read: bool = False
    actioned: bool = False
    deleted: bool = False
    auto_reply: bool = False
    unreadable: bool = False
    problems: tuple[str, ...] = ()
    timeline: tuple[dict[str, str], ...] = ()
    bounce: dict[str, Any] | None = None  # engine/service/bounces.py: what the bounce said and did
    calendar_answer: dict[str, Any] | None = None  # engine/service/calendar_answers.py
    id: int | None = field(default=None, compare=False)  # the store's id, once stored

    def record(self) -> dict[str, Any]:
        """The stored form: `from` for from_address, lists for tuples, no id (the store gives
        it), and the answer fields only on a message that is one."""
        out: dict[str, Any] = {
            "from": self.from_address, "from_name": self.from_name, "subject": self.subject, "date": self.date,
            "received": self.received, "message_id": self.message_id,
            "in_reply_to": list(self.in_reply_to[:MAX_IN_REPLY_TO]),
            "references": list(self.references[-MAX_REFERENCES:]), "blob": self.blob, "size": self.size,
            "source": self.source, "origin": self.origin, "message_id_reused": self.message_id_reused,
            "patient_id": self.patient_id, "specialist_id": self.specialist_id, "candidates": list(self.candidates),
            "filing_reason": self.filing_reason, "tags": list(self.tags), "read": self.read,
            "actioned": self.actioned, "deleted": self.deleted, "auto_reply": self.auto_reply,
            "unreadable": self.unreadable, "problems": list(self.problems[:MAX_PROBLEMS]),
            "timeline": [dict(e) for e in self.timeline],
        }
        if self.bounce is not None:
            out["bounce"] = self.bounce
        if self.calendar_answer is not None:
            out["calendar_answer"] = self.calendar_answer
        return out

    @property
    def sender(self) -> str:
        return self.from_address

    @property
    def sender_name(self) -> str:
        return self.from_name

    @classmethod
    def from_record(cls, r: Any) -> "InboxMessage":
        """The frozen value of a stored record (fields the record lacks take their defaults)."""
        names = {f.name for f in fields(cls)} - {"from_address", "id"}
        values: dict[str, Any] = {k: r[k] for k in names if k in r}
        for k in ("in_reply_to", "references", "candidates", "tags", "problems", "timeline"):
            if k in values:
                values[k] = tuple(values[k])
        return cls(from_address=r.get("from", ""), id=r.get(RID), **values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
