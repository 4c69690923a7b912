"""Composing mail from templates, with the confidentiality rules checked first.

From a patient's file: the patient in To, the usual provider by default, an
optional specialist (copied when asked), a template or free text, the
signature when asked, attachments. Mass email: one email per patient, one per
family sharing an address (addressed to the family), everyone without an
address listed; all queued in one durable step, then paced by the engine.
"""

from __future__ import annotations

import mimetypes
from html import escape
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.core import confidentiality as rules
from engine.core import headers
from engine.core.addresses import mailbox_key
from engine.core import incoming
from engine.core import templates as tpl
from engine.adapters.documents import dicom_attachment, looks_like_dicom, scale_down
from engine.core.directory import household, person_name
from engine.core.message import Attachment, Draft, Recipient
from engine.errors import InputInvalid, RuleRefused
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


def _quote(msg: dict[str, Any], original: str) -> str:
    who = headers.flatten(msg.get("from_name") or msg.get("from") or "") or "the sender"
    when = (msg.get("date") or msg.get("received") or "")[:16].replace("T", " ")
    return f"On {when}, {who} wrote:\n" + "\n".join("> " + line for line in original.splitlines())


@dataclass
class MassResult:
    queued: int = 0
    no_address: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class Composer:
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
        elif email.signature:
            sig = self._signature(patient, provider)
            text = text.rstrip("\n") + "\n\n" + sig
            if html is not None:
                html += "<p>" + escape(sig).replace("\n", "<br>") + "</p>"
        sender, name = self._from()
        draft = Draft(sender, name, [Recipient(p.address, p.name) for p in to], subject, text,
                      cc=[Recipient(p.address, p.name if p.kind != "other" else "") for p in cc], html=html,
                      attachments=files, bcc=[Recipient(p.address) for p in hidden])
        return self.outbox.add_draft(draft, now, as_draft=email.as_draft, patient_id=email.patient_id,
                                     about=rules.About((email.patient_id,), confirmed_outside=email.confirmed_outside),
                                     meta={"category": category, "description": description,
                                           "specialist_id": specialist["id"] if specialist else "",
                                           "to_specialist": email.to_specialist, "template": email.template or ""})

    def _signature(self, patient: dict[str, Any] | None, provider: dict[str, Any] | None) -> str:
        code = self.practice.settings.get("signature.template")
        if not code or not self.templates.exists(code):
            return ""
        return tpl.render(self.templates.get(code), merge_context(self.practice, patient, provider)).body

    @staticmethod
    def read_attachment(path: Path, scale_images_to: int | None = None) -> Attachment:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputInvalid(f"cannot attach {path}: {exc.strerror}", hint="Check the file name and folder.") from None
        ctype = mimetypes.guess_type(path.name)[0] or ""
        if scale_images_to:
            data = scale_down(data, ctype, scale_images_to)
        return Attachment(path.name, data, ctype)

    def attach_file(self, path: Path, scale_images_to: int | None, patient_id: str | None) -> Attachment:
        """A file for an email about the patient: a DICOM x-ray is checked against them first, then
        sent as a JPEG scaled to `scale_images_to` (None: the original file)."""
        read = self.read_attachment(path, None if looks_like_dicom(path.name, b"") else scale_images_to)
        if not looks_like_dicom(read.filename, read.data):
            return read
        d = self.practice.directory
        patient = d.require("patients", patient_id) if patient_id else None
        name, data, ctype = dicom_attachment(read.filename, read.data, patient, d.keys("patients"), scale_images_to)
        return Attachment(name, data, ctype)

    # -- drafts ---------------------------------------------------------------------------
    def draft_contents(self, rid: int) -> dict[str, Any]:
        """What the compose window needs to open a draft again: recipients, subject, text, files."""
        item = self.outbox.get(rid)
        content = incoming.content(self.outbox.blob(item))
        return {"patient_id": item.get("patient_id", ""), "to": item["to"], "cc": item.get("cc", []),
                "specialist_id": item.get("specialist_id", "") if item.get("to_specialist") else "",
                "bcc": item.get("bcc", []), "subject": item["subject"], "text": content.text, "html": content.html,
                "attachments": [Attachment(a.filename, a.data, a.content_type) for a in content.attachments]}

    def revise_draft(self, rid: int, now: datetime, subject: str, text: str, extra_cc: list[str],
                     bcc: list[str], attached: list[Attachment], send: bool, html: str | None = None) -> dict[str, Any]:
        """Save a draft edited in the compose window, and queue it when `send`; the rules are
        checked again first, as for a new email."""
        item = self.outbox.get(rid)
        d = self.practice.directory
        patient = d.require("patients", item["patient_id"]) if item.get("patient_id") else None
        to = self.people(item["to"])
        extra = self.people([*extra_cc, *bcc])
        cc, hidden = extra[:len(extra_cc)], extra[len(extra_cc):]
        if patient is not None:
            rules.Verdict(tuple(r for r in self.check_rules(patient, to, cc, bool(attached), hidden)
                                if r.rule != rules.NO_ADDRESS)).raise_if_refused()
        sender, name = self._from()
        draft = Draft(sender, name, [Recipient(p.address, p.name if p.kind != "other" else "") for p in to], subject,
                      text, cc=[Recipient(p.address, p.name if p.kind != "other" else "") for p in cc],
                      bcc=[Recipient(p.address) for p in hidden], attachments=list(attached), html=html)
        return self.outbox.revise_draft(rid, draft, now, queue=send)

    # -- the address book ---------------------------------------------------------------
    def address_book(self, search: str = "", limit: int = 50) -> list[dict[str, str]]:
        """Patients, providers and specialists by name, id or address; a typed address is offered as free."""
        d = self.practice.directory
        needle = search.strip().lower()
        out: list[dict[str, str]] = []
        for kind in ("patients", "providers", "specialists"):
            for r in d.list(kind):
                name = person_name(r)
                hay = f"{name} {r.get('id', '')} {r.get('email', '')}".lower()
                if not needle or all(part in hay for part in needle.split()):
                    out.append({"kind": kind[:-1], "id": r["id"], "name": name, "email": r.get("email", ""),
                                "family_id": r.get("family_id", "")})
        out.sort(key=lambda e: (e["kind"] != "patient", e["name"].lower()))
        if "@" in needle and not any(e["email"].lower() == needle for e in out):
            out.insert(0, {"kind": "other", "id": "", "name": search.strip(), "email": search.strip(), "family_id": ""})
        return out[:limit]

    # -- reply and forward -----------------------------------------------------------------
    def reply(self, message_id: int, now: datetime, text: str, signature: bool = False) -> int:
        """A reply to an inbox message: threaded (In-Reply-To, References), the original quoted."""
        msg = self.inbox.get(message_id)
        original = self.inbox.content(message_id).text
        patient = self.practice.directory.find("patients", msg["patient_id"]) if msg.get("patient_id") else None
        body = text.rstrip("\n") + "\n\n" + _quote(msg, original)
        if signature:
            body = text.rstrip("\n") + "\n\n" + self._signature(patient, None) + "\n" + _quote(msg, original)
        original_subject = headers.flatten(msg["subject"])  # from a stranger: one line, encoded by us when sent
        subject = original_subject if original_subject.lower().startswith("re:") else f"Re: {original_subject}"
        sender, name = self._from()
        if not msg.get("from"):
            raise InputInvalid("the message has no sender to reply to", hint="Write a new email instead.")
        # only plain ids, the decoded name and the From address: nothing else of the original
        # (never its Reply-To) reaches our headers
        refs = headers.message_ids([*msg.get("references", []), *([msg["message_id"]] if msg.get("message_id") else [])])
        in_reply_to = (headers.message_ids([msg.get("message_id") or ""]) or [None])[0]
        draft = Draft(sender, name, [Recipient(msg["from"], headers.display_name(msg.get("from_name", "")))], subject,
                      body, in_reply_to=in_reply_to, references=refs[-20:])
        rid = self.outbox.add_draft(draft, now, patient_id=msg.get("patient_id", ""),
                                    about=rules.About(self.message_patients(msg)),
                                    meta={"specialist_id": msg.get("specialist_id", ""), "reply_to": message_id})
        self.inbox.mark_replied(message_id, now, rid)
        return rid

    def message_patients(self, msg: dict[str, Any]) -> tuple[str, ...]:
        """Whose mail an inbox message is, for the rules: its patient when filed; when unfiled,
        every patient at the sender's mailbox (a family's shared address: that family); none for a
        specialist's or a stranger's."""
        if msg.get("patient_id"):
            return (msg["patient_id"],)
        if msg.get("specialist_id"):
            return ()
        at = [p.id for p in self._book().at_mailbox(msg.get("from", ""))] if msg.get("from") else []
        return tuple(dict.fromkeys([*at, *msg.get("candidates", [])]))

    @staticmethod
    def item_patients(item: dict[str, Any]) -> tuple[str, ...]:
        """Whose mail an outbox item is: its patient, or the patients of a family's email."""
        return tuple(item.get("family_patients") or ([item["patient_id"]] if item.get("patient_id") else []))

    def forward_patients(self, message_id: int | None = None, item_id: int | None = None) -> list[str]:
        """The names of the patients whose mail this is (what a confirmation must name)."""
        ids = self.message_patients(self.inbox.get(message_id)) if message_id is not None else (
            self.item_patients(self.outbox.get(item_id)) if item_id is not None else ())
        return [p.name or p.id for p in self._book().about(ids)]

    def forward(self, message_id: int, to: str, now: datetime, text: str = "", confirmed_outside: bool = False,
                subject: str = "") -> int:
        """Forward with the original attached (the kiosk's forward window sends its edited `text`
        and `subject` too; the original still goes whole, so nothing reception cut is lost). Refused to a patient outside the family of the
        message's patient (an unfiled message from a family's shared address: that family); to
        an address that is no patient, provider or specialist only when `confirmed_outside`
        (reception confirmed, naming the patient), and then recorded in the message's history."""
        msg = self.inbox.get(message_id)
        about = rules.About(self.message_patients(msg), forwarding=True, confirmed_outside=confirmed_outside)
        rid, target = self._forward(self.inbox.raw(message_id), subject or msg["subject"],
                                    msg.get("patient_id", ""), to, now, text, {"forward_of": message_id}, about)
        detail = f"to {target.kind} {target.id or target.address}"
        if confirmed_outside and about.patient_ids and target.kind == "other":
            detail += f", outside the practice, confirmed by reception for {', '.join(self.forward_patients(message_id))}"
        self.inbox.mark_forwarded(message_id, now, detail)
        return rid

    def forward_sent(self, item_id: int, to: str, now: datetime, text: str = "", confirmed_outside: bool = False) -> int:
        """Forward an outbox item (a confirmation a patient says never came, to their other
        address): the same rules as forwarding a patient's mail."""
        item = self.outbox.get(item_id)
        if not item.get("blob"):
            raise InputInvalid(f"outbox item {item_id} has no message yet", hint="Wait until it is ready, then forward.")
        about = rules.About(self.item_patients(item), forwarding=True, confirmed_outside=confirmed_outside)
        rid, _ = self._forward(self.outbox.blob(item), item["subject"], item.get("patient_id", ""), to, now, text,
                               {"forward_of_item": item_id}, about)
        return rid

    def _forward(self, raw: bytes, subject: str, patient_id: str, to: str, now: datetime, text: str,
                 meta: dict[str, Any], about: rules.About) -> tuple[int, rules.Person]:
        (target,) = self.people([to])
        subject = headers.flatten(subject)  # decoded, from the original: one line, encoded by us when sent
        subject = subject if subject.lower().startswith("fwd:") else f"Fwd: {subject}"
        sender, name = self._from()
        draft = Draft(sender, name,
                      [Recipient(target.address, headers.display_name(target.name) if target.kind != "other" else "")],
                      subject, text or "Forwarded message attached.",
                      attachments=[Attachment("forwarded.eml", raw, "message/rfc822")])
        return self.outbox.add_draft(draft, now, patient_id=patient_id, meta=meta, about=about), target

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
