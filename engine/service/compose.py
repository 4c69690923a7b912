"""Composing mail from templates, with the confidentiality rules checked first.

From a patient's file: the patient in To, the usual provider by default, an
optional specialist (copied when asked), a template or free text, the
signature when asked, attachments. Mass email: one email per patient, one per
family sharing an address (addressed to the family), everyone without an
address listed; all queued in one durable step, then paced by the engine.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.core import confidentiality as rules
from engine.core.addresses import mailbox_key
from engine.core import incoming
from engine.core import signature
from engine.core import templates as tpl
from engine.adapters.documents import dicom_attachment, looks_like_dicom, scale_down
from engine.core.directory import household, person_name
from engine.core.message import Attachment, Draft, Recipient
from engine.core.names import hidden
from engine.core.outside import outside_text
from engine.errors import InputInvalid, RuleRefused
from engine.service.compose_replies import Replies
from engine.service.inbox import Inbox
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.templates import Templates
from engine.service.values import NewEmail

def _blank(group: str) -> dict[str, str]:
    return {f.name.split(".", 1)[1]: "" for f in tpl.CATALOGUE if f.group == group}


def merge_context(practice: Practice, patient: dict[str, Any] | None = None, provider: dict[str, Any] | None = None,
                  specialist: dict[str, Any] | None = None, appointment: dict[str, Any] | None = None,
                  booking_link: str = "", family_name: str = "") -> dict[str, dict[str, str]]:
    s = practice.settings
    d = practice.directory
    ctx: dict[str, dict[str, str]] = {g: _blank(g) for g in tpl.GROUPS}
    ctx["practice"] = {"name": s.get("practice.name"), "email": s.get("practice.email"),
                       "phone": s.get("practice.phone"), "address": s.get("practice.address")}
    if patient:
        ctx["patient"] = {k: patient.get(k, "") for k in ("title", "first_name", "last_name", "email", "id")}
        ctx["family"] = {"name": family_name or patient.get("last_name", "")}
        loc = d.find("locations", patient.get("preferred_location", "")) if patient.get("preferred_location") else None
        if loc:
            ctx["location"] = {"name": loc["name"], "address": loc.get("address", ""), "phone": loc.get("phone", "")}
        if provider is None and patient.get("usual_provider_id"):
            provider = d.find("providers", patient["usual_provider_id"])
    for group, rec in (("provider", provider), ("specialist", specialist)):
        if rec:
            ctx[group] = {k: rec.get(k, "") for k in ("title", "first_name", "last_name")}
    if appointment:
        start = datetime.fromisoformat(appointment["start"]).astimezone(ZoneInfo(s.get("practice.timezone")))
        who = d.find("providers", appointment.get("provider_id", "")) if appointment.get("provider_id") else None
        ctx["appointment"] = {"date": f"{start:%A} {start.day} {start:%B %Y}", "time": f"{start:%H:%M}",
                              "minutes": str(appointment.get("minutes", "")),
                              "provider": person_name(who) if who else "",
                              "location": appointment.get("location", "")}
        if appointment.get("location"):
            loc = d.find("locations", appointment["location"])
            if loc:
                ctx["location"] = {"name": loc["name"], "address": loc.get("address", ""), "phone": loc.get("phone", "")}
    ctx["booking"] = {"link": booking_link}
    return ctx


def labelled(typed: str | None, default: str) -> str:
    """An email's category or description: what reception typed (one line, at most 200
    characters) over the template's default; None keeps the default."""
    if typed is None:
        return default
    return "".join(ch for ch in " ".join(typed.split()) if not hidden(ch))[:200]


@dataclass
class MassResult:
    queued: int = 0
    no_address: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class Composer(Replies):
    def __init__(self, practice: Practice, outbox: Outbox, inbox: Inbox, templates: Templates | None = None) -> None:
        """`outbox`, `inbox`: the practice's own (the engine's), never copies: a reply or a
        forward is recorded on the message through the one Inbox that owns it."""
        self.practice = practice
        self.outbox = outbox
        self.inbox = inbox
        self.templates = templates if templates is not None else Templates(practice.store)

    def _from(self) -> tuple[str, str]:
        address = self.practice.settings.get("practice.email")
        if not address:
            raise InputInvalid("the practice has no email address", hint="Set practice.email in the setup wizard.")
        return address, self.practice.settings.get("practice.name")

    def _person(self, kind: str, rec: dict[str, Any]) -> rules.Person:
        return rules.Person(kind, rec.get("id", ""), rec.get("email", ""), rec.get("family_id", ""), person_name(rec))

    def check_rules(self, patient: dict[str, Any], to: list[rules.Person], cc: list[rules.Person],
                    has_attachment: bool, bcc: list[rules.Person] | None = None) -> list[RuleRefused]:
        return rules.check(rules.Recipients(tuple(to), tuple(cc), tuple(bcc or ())), self._person("patient", patient),
                           has_attachment)

    def people(self, addresses: list[str]) -> list[rules.Person]:
        """Typed addresses as the rules see them: a patient, provider or specialist, or another.
        (The compose window asks on every keystroke: no addresses, no directory read.)"""
        if not addresses:
            return []
        book = self._book()
        return [book.person(a) for a in addresses]

    def _book(self) -> rules.Book:
        return self.outbox.book()  # one cached view of the directory, shared with the gate

    def from_patient(self, patient_id: str, now: datetime, template: str | None = None, provider_id: str | None = None,
                     specialist_id: str | None = None, cc_specialist: bool = False, signature: bool = False,
                     attachments: list[Path] | None = None, subject: str = "", text: str = "",
                     extra_cc: list[str] | None = None, as_draft: bool = False,
                     scale_images_to: int | None = None, bcc: list[str] | None = None,
                     attached: list[Attachment] | None = None, html: str | None = None,
                     to_specialist: bool = False, confirmed_outside: bool = False) -> int:
        """The keyword form, kept for callers written before `NewEmail` (the CLI, tests): the
        same command, one frozen value built from the arguments; see `NewEmail` for each."""
        return self.compose(NewEmail(
            patient_id, subject=subject, text=text, template=template, provider_id=provider_id,
            specialist_id=specialist_id, cc_specialist=cc_specialist, to_specialist=to_specialist,
            signature=signature, extra_cc=tuple(extra_cc or ()), bcc=tuple(bcc or ()),
            attachments=tuple(attachments or ()), attached=tuple(attached or ()), html=html,
            scale_images_to=scale_images_to, as_draft=as_draft, confirmed_outside=confirmed_outside), now)

    def compose(self, email: NewEmail, now: datetime) -> int:
        """One email to or about a patient, queued (or kept as a draft): the rules are checked
        first, with every recipient and attachment known, and nothing is queued when they say no."""
        d = self.practice.directory
        patient = d.require("patients", email.patient_id)
        provider = d.require("providers", email.provider_id) if email.provider_id else (
            d.find("providers", patient["usual_provider_id"]) if patient.get("usual_provider_id") else None)
        specialist = d.require("specialists", email.specialist_id) if email.specialist_id else None
        if email.to_specialist and specialist is None:
            raise InputInvalid("no specialist was chosen to send to", hint="Choose the specialist, or send to the patient.")
        to = [self._person("specialist", specialist)] if email.to_specialist else [self._person("patient", patient)]
        cc = [self._person("specialist", specialist)] if (specialist and email.cc_specialist
                                                          and not email.to_specialist) else []
        extra = self.people([*email.extra_cc, *email.bcc])  # one directory read for both
        cc += extra[:len(email.extra_cc)]
        hidden = extra[len(email.extra_cc):]
        files = [*email.attached, *(self.attach_file(p, email.scale_images_to, email.patient_id)
                                    for p in email.attachments)]
        rules.Verdict(tuple(rules.check(rules.Recipients(tuple(to), tuple(cc), tuple(hidden)),
                                        self._person("patient", patient), bool(files),
                                        confirmed_outside=email.confirmed_outside))).raise_if_refused()
        subject, text, html = email.subject, email.text, email.html
        category = description = ""
        if email.template:
            t = self.templates.get(email.template)
            r = tpl.render(t, merge_context(self.practice, patient, provider, specialist))
            subject, text, html = r.subject, r.body, r.html
            category, description = t.category, t.description
        if email.signature:  # a templated email too: under the letter, once, in both parts
            text, html = self.signed(text, html, patient, provider)
        # reception's own words for this email, over the template's (empty: none)
        category = labelled(email.category, category)
        description = labelled(email.description, description)
        sender, name = self._from()
        draft = Draft(sender, name, [Recipient(p.address, p.name) for p in to], subject, text,
                      cc=[Recipient(p.address, p.name if p.kind != "other" else "") for p in cc], html=html,
                      attachments=files, bcc=[Recipient(p.address) for p in hidden])
        return self.outbox.add_draft(draft, now, as_draft=email.as_draft, patient_id=email.patient_id,
                                     about=rules.About((email.patient_id,), confirmed_outside=email.confirmed_outside),
                                     meta={"category": category, "description": description,
                                           "specialist_id": specialist["id"] if specialist else "",
                                           "to_specialist": email.to_specialist, "template": email.template or ""})

    def _signature_parts(self, patient: dict[str, Any] | None,
                         provider: dict[str, Any] | None) -> tuple[str, str | None]:
        """The practice signature for this patient and provider: its text and its own HTML (if any)."""
        code = self.practice.settings.get("signature.template")
        if not code or not self.templates.exists(code):
            return "", None
        r = tpl.render(self.templates.get(code), merge_context(self.practice, patient, provider))
        return r.body, r.html

    def signed(self, text: str, html: str | None, patient: dict[str, Any] | None,
               provider: dict[str, Any] | None) -> tuple[str, str | None]:
        """`text` and `html` with the practice signature under the letter (engine/core/signature.py):
        above anything quoted, not again when it is there already; unchanged when none is set up."""
        sig_text, sig_html = self._signature_parts(patient, provider)
        if not sig_text.strip():
            return text, html
        return (signature.add_to_text(text, sig_text),
                signature.add_to_html(html, sig_text, sig_html) if html is not None else None)

    @staticmethod
    def read_attachment(path: Path, scale_images_to: int | None = None) -> Attachment:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputInvalid(f"cannot attach {path}: {exc.strerror}", hint="Check the file name and folder.") from None
        name = outside_text(path.name)  # os.listdir's surrogateescape: a name no store could write
        ctype = mimetypes.guess_type(name)[0] or ""
        if scale_images_to:
            data = scale_down(data, ctype, scale_images_to)
        return Attachment(name, data, ctype)

    def attach_file(self, path: Path, scale_images_to: int | None, patient_id: str | None,
                    frame: int = 0) -> Attachment:
        """A file for an email about the patient: a DICOM x-ray is checked against them first, then
        sent as a JPEG of `frame` (a multi-frame one's, from 0) scaled to `scale_images_to` (None:
        the original file)."""
        read = self.read_attachment(path, None if looks_like_dicom(path.name, b"") else scale_images_to)
        if not looks_like_dicom(read.filename, read.data):
            return read
        d = self.practice.directory
        patient = d.require("patients", patient_id) if patient_id else None
        name, data, ctype = dicom_attachment(read.filename, read.data, patient, d.keys("patients"), scale_images_to,
                                             frame)
        return Attachment(name, data, ctype)

    # -- drafts ---------------------------------------------------------------------------
    def draft_contents(self, rid: int) -> dict[str, Any]:
        """What the compose window needs to open a draft again: recipients, subject, text, files."""
        item = self.outbox.get(rid)
        content = incoming.content(self.outbox.blob(item))
        return {"patient_id": item.get("patient_id", ""), "to": item["to"], "cc": item.get("cc", []),
                "specialist_id": item.get("specialist_id", "") if item.get("to_specialist") else "",
                "bcc": item.get("bcc", []), "subject": item["subject"], "text": content.text, "html": content.html,
                "category": item.get("category", ""), "description": item.get("description", ""),
                "attachments": [Attachment(a.filename, a.data, a.content_type) for a in content.attachments]}

    def revise_draft(self, rid: int, now: datetime, subject: str, text: str, extra_cc: list[str],
                     bcc: list[str], attached: list[Attachment], send: bool, html: str | None = None,
                     category: str | None = None, description: str | None = None,
                     signature: bool = False) -> dict[str, Any]:
        """Save a draft edited in the compose window, and queue it when `send`; the rules are
        checked again first, as for a new email. `category`, `description`: None keeps them;
        `signature`: the practice signature under the letter (not again if it is there)."""
        item = self.outbox.get(rid)
        d = self.practice.directory
        patient = d.require("patients", item["patient_id"]) if item.get("patient_id") else None
        to = self.people(item["to"])
        extra = self.people([*extra_cc, *bcc])
        cc, hidden = extra[:len(extra_cc)], extra[len(extra_cc):]
        if patient is not None:
            rules.Verdict(tuple(r for r in self.check_rules(patient, to, cc, bool(attached), hidden)
                                if r.rule != rules.NO_ADDRESS)).raise_if_refused()
        if signature:
            text, html = self.signed(text, html, patient, None)
        sender, name = self._from()
        draft = Draft(sender, name, [Recipient(p.address, p.name if p.kind != "other" else "") for p in to], subject,
                      text, cc=[Recipient(p.address, p.name if p.kind != "other" else "") for p in cc],
                      bcc=[Recipient(p.address) for p in hidden], attachments=list(attached), html=html)
        naming = {k: labelled(v, "") for k, v in (("category", category), ("description", description))
                  if v is not None}
        return self.outbox.revise_draft(rid, draft, now, queue=send, naming=naming)

    # -- the address book ---------------------------------------------------------------
    def address_book(self, search: str = "", limit: int = 50) -> list[dict[str, str]]:
        """Patients, providers and specialists by name, id or address; a typed address is offered as free."""
        d = self.practice.directory
        needle = search.strip().lower()
        out: list[dict[str, str]] = []
        for kind in ("patients", "providers", "specialists"):
            if kind == "patients":  # from the patient index: 20,000 read per keystroke took a second
                records, found = (d.search(needle, limit) if needle else d.first_patients(limit)), True
            else:
                records, found = d.list(kind), False
            for r in records:
                name = person_name(r)
                hay = f"{name} {r.get('id', '')} {r.get('email', '')}".lower()
                if found or not needle or all(part in hay for part in needle.split()):
                    out.append({"kind": kind[:-1], "id": r["id"], "name": name, "email": r.get("email", ""),
                                "family_id": r.get("family_id", "")})
        out.sort(key=lambda e: (e["kind"] != "patient", e["name"].lower()))
        if "@" in needle and not any(e["email"].lower() == needle for e in out):
            out.insert(0, {"kind": "other", "id": "", "name": search.strip(), "email": search.strip(), "family_id": ""})
        return out[:limit]

    def mass(self, template: str, patient_ids: list[str], now: datetime) -> MassResult:
        """One email per patient; one per family at a shared address (two families the practice
        let share one address get one email each, never one "family" email); everyone without an
        address listed. Every email passes the gate in `Outbox.add_drafts`, about its patients."""
        d = self.practice.directory
        t = self.templates.get(template)
        everyone = {p["id"]: p for p in d.list("patients")}
        unknown = [pid for pid in patient_ids if pid not in everyone]
        if unknown:
            raise InputInvalid(f"{len(unknown)} unknown patient id(s): {', '.join(unknown[:5])}",
                               hint="Check the ids in the file (one per line).")
        result = MassResult()
        by_address: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for pid in dict.fromkeys(patient_ids):
            p = everyone[pid]
            if not p.get("email"):
                result.no_address.append(pid)
                continue
            by_address.setdefault((mailbox_key(p["email"]), household(p)), []).append(p)
        sender, name = self._from()
        drafts = []
        for people in by_address.values():
            first, address = people[0], people[0]["email"]
            if len(people) > 1:  # a family sharing one address: one email, to the family
                family = first.get("last_name", "")
                ctx = merge_context(self.practice, first, family_name=family)
                ctx["patient"] = {**ctx["patient"], "title": "", "first_name": f"{family} family", "last_name": family}
                to = Recipient(address, f"The {family} family")
            else:
                ctx = merge_context(self.practice, first)
                to = Recipient(address, person_name(first))
            r = tpl.render(t, ctx)
            drafts.append((Draft(sender, name, [to], r.subject, r.body, html=r.html),
                           {"patient_id": first["id"] if len(people) == 1 else "",
                            "family_patients": [p["id"] for p in people] if len(people) > 1 else [],
                            "category": t.category, "description": t.description, "template": template}))
        result.ids = self.outbox.add_drafts(drafts, now)
        result.queued = len(result.ids)
        return result
