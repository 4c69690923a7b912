"""An outbox item's shape, written once: the stored record a new item starts from, and the
frozen value queries hand out.

Why here: the same record was spelled out as a dict literal in four places (an email, a batch of
emails, a text, an item waiting for its booking link) and they had begun to differ. `new_record`
is the only spelling; `engine/core/outbox.create` then gives it its state and its first history
line. Pure: times come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.outbox import State

EMAIL, SMS = "email", "sms"  # the kinds sent by different roads (SMTP; the SMS provider)

# The fields every item carries from the start, with the values a new one has.
_FRESH: dict[str, Any] = {"attempts": 0, "retry_at": None, "last_error": "", "last_hint": "", "last_code": None}
_SHAPED = frozenset({"kind", "automatic", "from", "to", "cc", "bcc", "envelope_to", "subject", "message_id", "blob",
                     "size", "deliver_after", "patient_id", "status", "created", "history", *_FRESH})


def new_record(*, kind: str, automatic: bool, sender: str, to: Iterable[str], envelope_to: Iterable[str],
               subject: str, deliver_after: datetime | str, patient_id: str = "", cc: Iterable[str] = (),
               bcc: Iterable[str] = (), message_id: str = "", blob: str = "", size: int = 0,
               extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stored fields of a new outbox item (without status, created and history: `create` adds
    those). `extra`: what the path that queues it records beside (appointment, rule, template,
    recall keys, a text's own words); it cannot replace the fields above."""
    clash = (extra or {}).keys() & _SHAPED
    if clash:  # it would be dropped without a word: each has its own argument
        raise ValueError(f"{', '.join(sorted(clash))}: part of an outbox item's shape, not extra")
    at = deliver_after.isoformat() if isinstance(deliver_after, datetime) else deliver_after
    record = {**(extra or {}), "kind": kind, "automatic": automatic, "from": sender, "to": list(to), "cc": list(cc),
              "bcc": list(bcc), "envelope_to": list(envelope_to), "subject": subject, "message_id": message_id,
              "blob": blob, "size": size, "deliver_after": at, "patient_id": patient_id, **_FRESH}
    return record


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, eq=False)
class OutboxItem(Mapping[str, Any]):
    """One outbox item as a query returns it: frozen, with its id; typed attributes for what
    callers decide on, and read-only access by the stored field names for the rest (the kiosk's
    table, the CLI's JSON), so callers that read dict keys keep working (`as_dict` for a copy)."""

    id: int
    status: State
    kind: str
    to: tuple[str, ...]
    subject: str
    patient_id: str
    deliver_after: datetime | None
    record: Mapping[str, Any] = field(repr=False)

    @classmethod
    def of(cls, record: Mapping[str, Any], rid: int) -> OutboxItem:
        return cls(rid, State(record["status"]), record.get("kind", EMAIL), tuple(record.get("to", ())),
                   record.get("subject", ""), record.get("patient_id", ""), _when(record.get("deliver_after")),
                   record)

    @property
    def text(self) -> str:
        """A text message's words (an email's are in its blob)."""
        return str(self.record.get("text", ""))

    @property
    def recall_keys(self) -> tuple[str, ...]:
        return tuple(self.record.get("recall_keys", ()))

    def _text(self, key: str) -> str:
        return str(self.record.get(key) or "")

    created = property(lambda self: self._text("created"), doc="ISO time it was queued")
    held = property(lambda self: self._text("held"), doc="why it waits for reception, if it does")
    bounce = property(lambda self: self._text("bounce"), doc="what a bounce said, in words")
    delivery_note = property(lambda self: self._text("delivery_note"), doc="a text's delivery status in words")
    last_error = property(lambda self: self._text("last_error"), doc="the server's last words")
    last_hint = property(lambda self: self._text("last_hint"), doc="what a person can do about it")
    attempts = property(lambda self: int(self.record.get("attempts") or 0))

    @property
    def reason(self) -> str:
        """Why it is where it is: held, bounced, a delivery note or the server's last words."""
        return self.held or self.bounce or self.delivery_note or self.last_error

    def __getitem__(self, key: str) -> Any:
        return self.record[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.record)

    def __len__(self) -> int:
        return len(self.record)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.record) == dict(other)

    __hash__ = None  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.record)
