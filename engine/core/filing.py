"""Filing: which patient (or specialist) an incoming message belongs to.

The rules, in order:

1. A reply whose In-Reply-To/References names a Message-ID we sent is filed to
   whom that message was for, even when the address is shared by a family.
2. Otherwise the sender's mailbox (`addresses.mailbox_key`: case, `+tag`) matching exactly
   one patient files it to that patient (tag Patient); exactly one specialist:
   to the specialist (tag Specialist).
3. Several matches (a family's shared address) or none: unfiled, with the
   matching patients kept as candidates for reception to choose from.

Our own outgoing mail and auto-replies are recognised and never filed as
patient mail. Pure: the directory and the sent index come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.core.addresses import mailbox_key

PATIENT_TAG, SPECIALIST_TAG, AUTO_TAG, OWN_TAG, FLOOD_TAG = "Patient", "Specialist", "Auto-reply", "Own", "Flood"


@dataclass(frozen=True)
class SentTo:
    """Who a message we sent was for."""

    patient_id: str = ""
    specialist_id: str = ""


@dataclass
class Decision:
    patient_id: str = ""
    specialist_id: str = ""
    tags: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def filed(self) -> bool:
        return bool(self.patient_id or self.specialist_id)


@dataclass(frozen=True)
class AddressBook:
    """Normalised address -> ids, built once per intake pass."""

    patients: Mapping[str, tuple[str, ...]]
    specialists: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, patients: Iterable[Mapping[str, str]], specialists: Iterable[Mapping[str, str]]) -> "AddressBook":
        p: dict[str, list[str]] = {}
        for r in patients:
            if r.get("email"):
                p.setdefault(mailbox_key(r["email"]), []).append(r["id"])
        s: dict[str, list[str]] = {}
        for r in specialists:
            if r.get("email"):
                s.setdefault(mailbox_key(r["email"]), []).append(r["id"])
        return cls({k: tuple(sorted(v)) for k, v in p.items()}, {k: tuple(sorted(v)) for k, v in s.items()})


def decide(from_address: str, thread_ids: Iterable[str], auto_reply: bool, book: AddressBook,
           sent: Mapping[str, SentTo], own_addresses: Iterable[str], flooding: bool = False) -> Decision:
    sender = mailbox_key(from_address)
    own = {mailbox_key(a) for a in own_addresses if a}
    if sender and sender in own:
        return Decision(tags=[OWN_TAG], reason="sent by the practice itself")
    if auto_reply:
        return Decision(tags=[AUTO_TAG], reason="an automatic reply (out of office, bounce or list)")
    for mid in thread_ids:
        target = sent.get(mid)
        if target is not None and (target.patient_id or target.specialist_id):
            tag = PATIENT_TAG if target.patient_id else SPECIALIST_TAG
            return Decision(patient_id=target.patient_id, specialist_id=target.specialist_id if not target.patient_id
                            else "", tags=[tag], reason=f"a reply to our message {mid}")
    patients = book.patients.get(sender, ())
    specialists = book.specialists.get(sender, ())
    tags = [FLOOD_TAG] if flooding else []
    if len(patients) == 1 and not specialists:
        return Decision(patient_id=patients[0], tags=[PATIENT_TAG, *tags], reason="the sender's address is this patient's")
    if len(specialists) == 1 and not patients:
        return Decision(specialist_id=specialists[0], tags=[SPECIALIST_TAG, *tags],
                        reason="the sender's address is this specialist's")
    if len(patients) > 1:
        return Decision(candidates=list(patients), tags=tags,
                        reason=f"the address is shared by {len(patients)} patients: choose one")
    if patients and specialists:
        return Decision(candidates=list(patients), tags=tags, reason="the address belongs to a patient and a specialist")
    return Decision(tags=tags, reason="the sender is not in the practice's records")


def is_flooding(recent_from_sender: int, limit: int = 30) -> bool:
    """More than `limit` messages from one sender in the last hour: slowed (held quietly, tagged)."""
    return recent_from_sender > limit
