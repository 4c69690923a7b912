"""The frozen values that cross the app's door (`engine/service/app.py`).

Outside `engine/service` nobody should need a record's dict or a store's key name: a query
answers with one of these (its `id` is the record's id, the one every command takes), and a
command takes one of these instead of a long list of keyword arguments. Frozen, so a value
read on one thread can be handed to another without anyone changing it underneath.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from engine.core.directory import person_name
from engine.core.message import Attachment
from engine.core.outbox_item import OutboxItem
from engine.service.inbox_records import InboxMessage

__all__ = ["DayAppointment", "DeskCounts", "InboxMessage", "NewEmail", "OutboxItem", "Patient", "RecallLine"]  # the first two defined where their records are


@dataclass(frozen=True)
class NewEmail:
    """What reception asks for when writing to (or about) one patient: the compose command.

    `template`: a template's code (its subject and words replace `subject` and `text`);
    `attachments`: files to read; `attached`: files already read (the compose window's);
    `html`: a formatted version of `text`; `to_specialist`: the email goes to `specialist_id`
    about the patient (an x-ray for a referral); `confirmed_outside`: reception confirmed,
    naming the patient, that attachments may go to an address outside the practice's people;
    `signature`: the practice signature under the letter (a templated one too);
    `category`, `description`: how the email is grouped and named in the patient's contact
    history, as reception typed them (None: the template's, or none).
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
    category: str | None = None
    description: str | None = None


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


@dataclass(frozen=True)
class RecallLine:
    """One line of the recall list."""

    patient_id: str
    patient_name: str
    type: str
    due: date
    status: str


@dataclass(frozen=True)
class DayAppointment:
    """One appointment of the day list: what reception reads, the appointment's record kept
    for the calendar answer's words (kiosk/appointments.py `calendar_text`)."""

    id: str
    start: str
    minutes: int
    patient_id: str
    patient_name: str
    provider: str
    type: str
    status: str
    confirmation: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Contact:
    """One entry of the address book: a patient, provider or specialist (kind), or an address typed."""

    kind: str
    id: str
    name: str
    email: str
    family_id: str = ""


@dataclass(frozen=True)
class MassPreview:
    """What a mass email would do, before anything is queued: emails (one per address a family
    shares), the patients they reach, and those without an address, by name."""

    emails: int
    patients: int
    no_address: tuple[str, ...]

    def describe(self) -> str:
        line = f"{self.emails} email{'s' if self.emails != 1 else ''} to {self.patients} " \
               f"patient{'s' if self.patients != 1 else ''}"
        if self.no_address:
            line += f"; {len(self.no_address)} without an address: " + ", ".join(self.no_address)
        return line


@dataclass(frozen=True)
class DeskCounts:
    """What the kiosk's navigation shows beside each view: messages not yet read (not deleted
    ones), items still to go, items that failed (or bounced) and need reception."""

    unread: int
    waiting: int
    failed: int


@dataclass(frozen=True)
class RecallMessage:
    """One message of a recall run: to an email address or a mobile ("sms:" and the number), for
    one patient or a family due together at a shared address, not before `deliver_after`."""

    to: str
    patient_ids: tuple[str, ...]
    names: tuple[str, ...]
    deliver_after: str  # ISO, as the engine's run answers it

    @property
    def by_text(self) -> bool:
        return self.to.startswith("sms:")


@dataclass(frozen=True)
class RecallRun:
    """A recall run as the engine answered it (its dry run: the preview; else what it queued):
    the messages, and who is skipped and why (name and reason)."""

    dry_run: bool
    messages: tuple[RecallMessage, ...]
    queued: int
    skipped: tuple[tuple[str, str], ...]

    @property
    def patients(self) -> int:
        return sum(len(m.patient_ids) for m in self.messages)

    @property
    def texts(self) -> int:
        return sum(1 for m in self.messages if m.by_text)

    @property
    def emails(self) -> int:
        return len(self.messages) - self.texts

    @property
    def families(self) -> tuple[RecallMessage, ...]:
        return tuple(m for m in self.messages if len(m.patient_ids) > 1)
