"""The frozen values that cross the app's door (`engine/service/app.py`).

Outside `engine/service` nobody should need a record's dict or a store's key name: a query
answers with one of these (its `id` is the record's id, the one every command takes), and a
command takes one of these instead of a long list of keyword arguments. Frozen, so a value
read on one thread can be handed to another without anyone changing it underneath.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.adapters.store import RID
from engine.core.directory import person_name
from engine.core.message import Attachment


@dataclass(frozen=True)
class NewEmail:
    """What reception asks for when writing to (or about) one patient: the compose command.

    `template`: a template's code (its subject and words replace `subject` and `text`);
    `attachments`: files to read; `attached`: files already read (the compose window's);
    `html`: a formatted version of `text`; `to_specialist`: the email goes to `specialist_id`
    about the patient (an x-ray for a referral); `confirmed_outside`: reception confirmed,
    naming the patient, that attachments may go to an address outside the practice's people.
    """

    patient_id: str
    subject: str = ""
    text: str = ""
    template: str | None = None
    provider_id: str | None = None
    specialist_id: str | None = None
    cc_specialist: bool = False
    to_specialist: bool = False
    signature: bool = False
    extra_cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    attachments: tuple[Path, ...] = ()
    attached: tuple[Attachment, ...] = ()
    html: str | None = None
    scale_images_to: int | None = None
    as_draft: bool = False
    confirmed_outside: bool = False


@dataclass(frozen=True)
class OutboxItem:
    """One outbox item as the desk lists it."""

    id: int
    status: str
    kind: str
    created: str
    to: tuple[str, ...]
    subject: str
    deliver_after: str | None = None
    held: str = ""
    bounce: str = ""
    delivery_note: str = ""
    last_error: str = ""
    last_hint: str = ""
    patient_id: str = ""
    attempts: int = 0

    @property
    def reason(self) -> str:
        """Why it is where it is: held, bounced, a delivery note or the server's last words."""
        return self.held or self.bounce or self.delivery_note or self.last_error

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> "OutboxItem":
        return cls(id=r[RID], status=r["status"], kind=r.get("kind") or "email", created=r["created"],
                   to=tuple(r.get("to", ())), subject=r.get("subject", ""), deliver_after=r.get("deliver_after"),
                   held=r.get("held") or "", bounce=r.get("bounce") or "", delivery_note=r.get("delivery_note") or "",
                   last_error=r.get("last_error") or "", last_hint=r.get("last_hint") or "",
                   patient_id=r.get("patient_id") or "", attempts=int(r.get("attempts") or 0))


@dataclass(frozen=True)
class InboxMessage:
    """One received message as the inbox lists it."""

    id: int
    received: str
    sender: str
    sender_name: str
    subject: str
    read: bool = False
    patient_id: str = ""
    candidates: tuple[str, ...] = ()
    specialist_id: str = ""
    tags: tuple[str, ...] = ()
    filing_reason: str = ""

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> "InboxMessage":
        return cls(id=r[RID], received=r["received"], sender=r.get("from") or "", sender_name=r.get("from_name") or "",
                   subject=r.get("subject", ""), read=bool(r.get("read")), patient_id=r.get("patient_id") or "",
                   candidates=tuple(r.get("candidates", ())), specialist_id=r.get("specialist_id") or "",
                   tags=tuple(r.get("tags", ())), filing_reason=r.get("filing_reason") or "")


@dataclass(frozen=True)
class Patient:
    """A patient as the desk sees them; `id` is the practice system's code."""

    id: str
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    date_of_birth: str = ""
    mobile: str = ""
    email: str = ""
    family_id: str = ""
    usual_provider_id: str = ""
    email_bad: str = ""

    @property
    def name(self) -> str:
        """'Mrs Priya Patel': how the desk says it (empty parts left out)."""
        return person_name({"title": self.title, "first_name": self.first_name, "last_name": self.last_name})

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> "Patient":
        return cls(id=r["id"], first_name=r.get("first_name") or "", last_name=r.get("last_name") or "",
                   title=r.get("title") or "", date_of_birth=str(r.get("date_of_birth") or ""),
                   mobile=r.get("mobile") or "", email=r.get("email") or "", family_id=r.get("family_id") or "",
                   usual_provider_id=r.get("usual_provider_id") or "", email_bad=str(r.get("email_bad") or ""))
