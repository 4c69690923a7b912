"""Confidentiality rules: who may receive what about a patient. Pure.

Each refusal names its rule in words reception understands. Checked before an
email is queued (the kiosk shows them inline before Send).

- At most one patient in To; other patients only in Cc/Bcc, and only from the same family.
- An attachment about a patient may only go to that patient's family, a provider or a specialist.
- Forwarding a patient's mail to another patient outside the family is refused.
- A recipient without an address is reported, so the kiosk can ask for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.addresses import normalise_address
from engine.errors import RuleRefused

ONE_PATIENT_IN_TO = "one patient in To"
FAMILY_ONLY_COPIES = "copies only to family"
ATTACHMENT_RECIPIENTS = "patient documents stay with the family and clinicians"
FORWARD_OUTSIDE_FAMILY = "no forwarding to another patient"
NO_ADDRESS = "recipient has no address"


@dataclass(frozen=True)
class Person:
    kind: str  # patient, provider, specialist, other
    id: str = ""
    address: str = ""
    family_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class Recipients:
    to: tuple[Person, ...] = ()
    cc: tuple[Person, ...] = ()
    bcc: tuple[Person, ...] = ()

    def everyone(self) -> tuple[Person, ...]:
        return (*self.to, *self.cc, *self.bcc)


def same_family(a: Person, b: Person) -> bool:
    return a.id == b.id or (bool(a.family_id) and a.family_id == b.family_id)


def check(recipients: Recipients, about: Person | None, has_patient_attachment: bool = False,
          forwarding: bool = False) -> list[RuleRefused]:
    """Every rule broken; empty when the email may go."""
    refused: list[RuleRefused] = []
    patients_to = [p for p in recipients.to if p.kind == "patient"]
    if len(patients_to) > 1:
        refused.append(RuleRefused(ONE_PATIENT_IN_TO,
                                   f"{len(patients_to)} patients are in To; an email goes to one patient at a time",
                                   "Keep one patient in To; family members may be copied."))
    anchor = about or (patients_to[0] if patients_to else None)
    if anchor is not None and anchor.kind == "patient":
        for p in (*recipients.to, *recipients.cc, *recipients.bcc):
            if p.kind == "patient" and not same_family(p, anchor):
                rule = FORWARD_OUTSIDE_FAMILY if forwarding else FAMILY_ONLY_COPIES
                refused.append(RuleRefused(
                    rule, f"{p.name or p.id} is not in {anchor.name or anchor.id}'s family",
                    "Remove them: a patient's email may only be copied to their own family."))
        if has_patient_attachment:
            for p in recipients.everyone():
                if p.kind == "other" or (p.kind == "patient" and not same_family(p, anchor)):
                    refused.append(RuleRefused(
                        ATTACHMENT_RECIPIENTS, f"{p.name or p.address} may not receive {anchor.name or anchor.id}'s documents",
                        "Patient documents may only go to the patient's family, a provider or a specialist."))
    for p in recipients.everyone():
        if not p.address:
            refused.append(RuleRefused(NO_ADDRESS, f"{p.name or p.id} has no email address",
                                       "Enter their address; it will be saved to their record."))
    return _unique(refused)


def _unique(items: Iterable[RuleRefused]) -> list[RuleRefused]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in items:
        if (r.rule, r.message) not in seen:
            seen.add((r.rule, r.message))
            out.append(r)
    return out


def person_for(address: str, patients: Iterable[Mapping[str, Any]], providers: Iterable[Mapping[str, Any]],
               specialists: Iterable[Mapping[str, Any]]) -> Person:
    """Who a typed address is; a shared family address counts as that family's patient."""
    target = normalise_address(address)
    for kind, records in (("provider", providers), ("specialist", specialists)):
        for r in records:
            if r.get("email") and normalise_address(r["email"]) == target:
                return Person(kind, r["id"], r["email"], "", _name(r))
    for r in patients:
        if r.get("email") and normalise_address(r["email"]) == target:
            return Person("patient", r["id"], r["email"], r.get("family_id", ""), _name(r))
    return Person("other", "", address, "", address)


def _name(r: Mapping[str, Any]) -> str:
    return " ".join(x for x in (r.get("title"), r.get("first_name"), r.get("last_name")) if x)
