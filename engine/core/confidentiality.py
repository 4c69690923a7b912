"""Confidentiality rules: who may receive what about a patient. Pure.

The one gate. Every path that queues mail passes it: `Outbox` calls `gate` on every add,
revise and link (so no path can skip it), and the compose window asks `check` inline before
Send (the same rules, so reception sees the refusal before clicking). Each refusal names its
rule in words reception understands.

- At most one patient in To; other patients only in Cc/Bcc, and only from the same family.
- An attachment about a patient may only go to that patient's family, a provider or a
  specialist (anyone else only when reception confirmed it, naming the patient).
- Forwarding a patient's mail to another patient outside the family is refused; to an address
  that is no patient, provider or specialist only when reception confirmed it, naming the
  patient (the confirmation is written into the contact history).
- An unfiled message from an address shared by a family belongs to that family: `About` then
  holds every patient at that address.
- A recipient without an address is reported, so the kiosk can ask for one.

People are matched as mailboxes (`addresses.mailbox_key`): `Ann+x@Example.org` is Ann.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.addresses import mailbox_key
from engine.core.directory import household, person_name
from engine.errors import RuleRefused

ONE_PATIENT_IN_TO = "one patient in To"
FAMILY_ONLY_COPIES = "copies only to family"
ATTACHMENT_RECIPIENTS = "patient documents stay with the family and clinicians"
FORWARD_OUTSIDE_FAMILY = "no forwarding to another patient"
FORWARD_OUTSIDE_PRACTICE = "patient mail leaves the practice only when confirmed"
NO_ADDRESS = "recipient has no address"


@dataclass(frozen=True)
class Person:
    """A recipient (or the patient mail is about) as the rules see them.

    `shared_with`: the other households reachable at this mailbox, when the practice said
    explicitly that families share it (import column `shared_address`)."""

    kind: str  # patient, provider, specialist, other
    id: str = ""
    address: str = ""
    family_id: str = ""
    name: str = ""
    shared_with: frozenset[str] = frozenset()

    def households(self) -> frozenset[str]:
        """The families this person's mail reaches; a patient without a family is their own."""
        own = self.family_id or (f"#{self.id}" if self.id else "")
        return frozenset({own, *self.shared_with} - {""})


@dataclass(frozen=True)
class Recipients:
    to: tuple[Person, ...] = ()
    cc: tuple[Person, ...] = ()
    bcc: tuple[Person, ...] = ()

    def everyone(self) -> tuple[Person, ...]:
        return (*self.to, *self.cc, *self.bcc)


@dataclass(frozen=True)
class About:
    """What a draft is about, as the path queueing it knows: the typed context the gate needs.

    `patient_ids`: the patient it is about; several for one family's email (mass mail) or an
    unfiled message from a family's shared address. `forwarding`: the attachment is someone's
    mail. `confirmed_outside`: reception confirmed, naming the patient, that it may go to an
    address that is no patient, provider or specialist."""

    patient_ids: tuple[str, ...] = ()
    forwarding: bool = False
    confirmed_outside: bool = False


NOBODY = About()


@dataclass(frozen=True)
class Book:
    """The directory as the gate sees it: each mailbox -> who is there. Built once per pass."""

    mailboxes: Mapping[str, tuple[Person, ...]] = field(default_factory=dict)
    patients: Mapping[str, Person] = field(default_factory=dict)

    @classmethod
    def build(cls, patients: Iterable[Mapping[str, Any]], providers: Iterable[Mapping[str, Any]] = (),
              specialists: Iterable[Mapping[str, Any]] = ()) -> "Book":
        boxes: dict[str, list[Person]] = {}
        by_id: dict[str, Person] = {}
        patient_rows = list(patients)
        homes: dict[str, set[str]] = {}
        for r in patient_rows:
            if r.get("email"):
                homes.setdefault(mailbox_key(r["email"]), set()).add(household(r))
        for kind, records in (("provider", providers), ("specialist", specialists)):
            for r in records:
                if r.get("email"):
                    boxes.setdefault(mailbox_key(r["email"]), []).append(
                        Person(kind, r.get("id", ""), r["email"], "", person_name(r)))
        for r in patient_rows:
            key = mailbox_key(r["email"]) if r.get("email") else ""
            p = Person("patient", r.get("id", ""), r.get("email", ""), r.get("family_id", ""), person_name(r),
                       frozenset(homes.get(key, set()) - {household(r)}))
            by_id[p.id] = p
            if key:
                boxes.setdefault(key, []).append(p)
        return cls({k: tuple(v) for k, v in boxes.items()}, by_id)

    def person(self, address: str) -> Person:
        """Who a typed address is: a provider or specialist first, then a patient (a shared
        family address counts as that family's patient), else another."""
        found = self.mailboxes.get(mailbox_key(address), ())
        return found[0] if found else Person("other", "", address, "", address)

    def at_mailbox(self, address: str) -> tuple[Person, ...]:
        """Every patient whose mail reaches this address (a family's shared address: all of them)."""
        return tuple(p for p in self.mailboxes.get(mailbox_key(address), ()) if p.kind == "patient")

    def about(self, patient_ids: Sequence[str]) -> tuple[Person, ...]:
        return tuple(self.patients.get(pid) or Person("patient", pid, "", "", pid) for pid in patient_ids)


def same_family(recipient: Person, about: Person) -> bool:
    """May `recipient` see mail about `about`? Their mailbox reaches `about`'s own family.
    (Only the recipient's side counts a shared address: that a patient's address is shared with
    another family does not open that family's other addresses to the patient's mail.)"""
    own = about.family_id or (f"#{about.id}" if about.id else "")
    return (bool(about.id) and recipient.id == about.id) or (bool(own) and own in recipient.households())


def shown(text: str, limit: int = 80) -> str:
    """An address or name as a refusal shows it: typed text is untrusted, so line ends, bidi and
    other invisible characters are shown as escapes (`\\u202e`), and a huge value is cut."""
    out = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    return out if len(out) <= limit else out[:limit - 3] + "..."


def _who(people: Sequence[Person]) -> str:
    names = list(dict.fromkeys(shown(p.name or p.id) for p in people))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check(recipients: Recipients, about: Person | Sequence[Person] | None, has_patient_attachment: bool = False,
          forwarding: bool = False, confirmed_outside: bool = False) -> list[RuleRefused]:
    """Every rule broken; empty when the email may go.

    The anchors are the patients the mail is about; with none given, the first patient among
    the recipients (To first): every other patient recipient must be of the anchors' family."""
    refused: list[RuleRefused] = []
    everyone = recipients.everyone()
    patients_to = list({p.id or p.address: p for p in recipients.to if p.kind == "patient"}.values())
    if len(patients_to) > 1:
        refused.append(RuleRefused(ONE_PATIENT_IN_TO,
                                   f"{len(patients_to)} patients are in To; an email goes to one patient at a time",
                                   "Keep one patient in To; family members may be copied."))
    anchors = _anchors(about, everyone)
    if anchors:
        whose = _who(anchors)
        for p in everyone:
            if p.kind == "patient" and not all(same_family(p, a) for a in anchors):
                rule = FORWARD_OUTSIDE_FAMILY if forwarding else FAMILY_ONLY_COPIES
                refused.append(RuleRefused(
                    rule, f"{shown(p.name or p.id)} is not in {whose}'s family",
                    "Remove them: a patient's email may only go to their own family."))
            elif p.kind == "other" and (forwarding or has_patient_attachment) and not confirmed_outside:
                refused.append(_outside(p, whose, forwarding))
    for p in everyone:
        if not p.address:
            refused.append(RuleRefused(NO_ADDRESS, f"{shown(p.name or p.id)} has no email address",
                                       "Enter their address; it will be saved to their record."))
    return _unique(refused)


def _anchors(about: Person | Sequence[Person] | None, everyone: Sequence[Person]) -> tuple[Person, ...]:
    if isinstance(about, Person):
        return (about,) if about.kind == "patient" else ()
    if about:
        return tuple(a for a in about if a.kind == "patient")
    first = next((p for p in everyone if p.kind == "patient"), None)
    return (first,) if first is not None else ()


def _outside(p: Person, whose: str, forwarding: bool) -> RuleRefused:
    who = shown(p.address or p.name)
    if forwarding:
        return RuleRefused(FORWARD_OUTSIDE_PRACTICE,
                           f"{who} is not a patient, provider or specialist: forwarding {whose}'s mail there "
                           "needs confirmation", f"Confirm that {whose}'s mail may go to {who}, or choose a clinician.")
    return RuleRefused(ATTACHMENT_RECIPIENTS, f"{who} may not receive {whose}'s documents",
                       "Patient documents may only go to the patient's family, a provider or a specialist.")


def _unique(items: Iterable[RuleRefused]) -> list[RuleRefused]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in items:
        if (r.rule, r.message) not in seen:
            seen.add((r.rule, r.message))
            out.append(r)
    return out


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one draft: every rule broken, and the outside recipients that
    passed only because reception confirmed them (for the contact history)."""

    refused: tuple[RuleRefused, ...]
    confirmed: tuple[str, ...] = ()

    def raise_if_refused(self) -> None:
        """One error naming every rule broken in its words (the first rule as its `rule`)."""
        if not self.refused:
            return
        first = self.refused[0]
        raise RuleRefused(first.rule, "; ".join(f"{r.rule}: {r.message}" for r in self.refused), first.hint)


def gate(to: Sequence[str], cc: Sequence[str], bcc: Sequence[str], has_attachment: bool, about: About,
         book: Book) -> Verdict:
    """May this draft go? The one decision every queueing path reaches (through `Outbox`).

    Addresses are resolved as mailboxes against `book`; an attachment on mail about a patient
    is that patient's document (an x-ray, their forwarded mail)."""
    people = Recipients(tuple(map(book.person, to)), tuple(map(book.person, cc)), tuple(map(book.person, bcc)))
    anchors = book.about(about.patient_ids)
    refused = check(people, anchors, has_attachment, about.forwarding, about.confirmed_outside)
    confirmed: tuple[str, ...] = ()
    if about.confirmed_outside and _anchors(anchors, people.everyone()) and (about.forwarding or has_attachment):
        confirmed = tuple(p.address for p in people.everyone() if p.kind == "other")
    return Verdict(tuple(refused), confirmed)
