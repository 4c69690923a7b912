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
from engine.core import templates as tpl
from engine.core.directory import person_name
from engine.core.message import Attachment, Draft, Recipient
from engine.errors import InputInvalid, RuleRefused
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.templates import Templates

ATTACHMENT_WARN_BYTES = 10 * 1024 * 1024


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


@dataclass
class MassResult:
    queued: int = 0
    no_address: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class Composer:
    def __init__(self, practice: Practice, outbox: Outbox) -> None:
        self.practice = practice
        self.outbox = outbox
        self.templates = Templates(practice.store)

    def _from(self) -> tuple[str, str]:
        address = self.practice.settings.get("practice.email")
        if not address:
            raise InputInvalid("the practice has no email address", hint="Set practice.email in the setup wizard.")
        return address, self.practice.settings.get("practice.name")

    def _person(self, kind: str, rec: dict[str, Any]) -> rules.Person:
        return rules.Person(kind, rec.get("id", ""), rec.get("email", ""), rec.get("family_id", ""), person_name(rec))

    def check_rules(self, patient: dict[str, Any], to: list[rules.Person], cc: list[rules.Person],
                    has_attachment: bool) -> list[RuleRefused]:
        return rules.check(rules.Recipients(tuple(to), tuple(cc)), self._person("patient", patient), has_attachment)

    def from_patient(self, patient_id: str, now: datetime, template: str | None = None, provider_id: str | None = None,
                     specialist_id: str | None = None, cc_specialist: bool = False, signature: bool = False,
                     attachments: list[Path] | None = None, subject: str = "", text: str = "",
                     extra_cc: list[str] | None = None, as_draft: bool = False) -> int:
        d = self.practice.directory
        patient = d.require("patients", patient_id)
        provider = d.require("providers", provider_id) if provider_id else (
            d.find("providers", patient["usual_provider_id"]) if patient.get("usual_provider_id") else None)
        specialist = d.require("specialists", specialist_id) if specialist_id else None
        to = [self._person("patient", patient)]
        cc = [self._person("specialist", specialist)] if (specialist and cc_specialist) else []
        patients, providers, specialists = d.list("patients"), d.list("providers"), d.list("specialists")
        cc += [rules.person_for(a, patients, providers, specialists) for a in (extra_cc or [])]
        files = [self._read_attachment(p) for p in (attachments or [])]
        refused = self.check_rules(patient, to, cc, bool(files))
        if refused:
            raise refused[0]
        category = description = ""
        if template:
            t = self.templates.get(template)
            r = tpl.render(t, merge_context(self.practice, patient, provider, specialist))
            subject, text, html = r.subject, r.body, r.html
            category, description = t.category, t.description
        else:
            html = None
            if signature:
                text = text.rstrip("\n") + "\n\n" + self._signature(patient, provider)
        sender, name = self._from()
        draft = Draft(sender, name, [Recipient(p.address, p.name) for p in to], subject, text,
                      cc=[Recipient(p.address, p.name if p.kind != "other" else "") for p in cc], html=html,
                      attachments=files)
        return self.outbox.add_draft(draft, now, as_draft=as_draft, patient_id=patient_id,
                                     meta={"category": category, "description": description,
                                           "specialist_id": specialist["id"] if specialist else "",
                                           "template": template or ""})

    def _signature(self, patient: dict[str, Any] | None, provider: dict[str, Any] | None) -> str:
        code = self.practice.settings.get("signature.template")
        if not code or not self.templates.exists(code):
            return ""
        return tpl.render(self.templates.get(code), merge_context(self.practice, patient, provider)).body

    @staticmethod
    def _read_attachment(path: Path) -> Attachment:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputInvalid(f"cannot attach {path}: {exc.strerror}", hint="Check the file name and folder.") from None
        return Attachment(path.name, data, mimetypes.guess_type(path.name)[0] or "")

    def mass(self, template: str, patient_ids: list[str], now: datetime) -> MassResult:
        """One email per patient; one per family address; everyone without an address listed."""
        d = self.practice.directory
        t = self.templates.get(template)
        everyone = {p["id"]: p for p in d.list("patients")}
        unknown = [pid for pid in patient_ids if pid not in everyone]
        if unknown:
            raise InputInvalid(f"{len(unknown)} unknown patient id(s): {', '.join(unknown[:5])}",
                               hint="Check the ids in the file (one per line).")
        result = MassResult()
        by_address: dict[str, list[dict[str, Any]]] = {}
        for pid in dict.fromkeys(patient_ids):
            p = everyone[pid]
            if not p.get("email"):
                result.no_address.append(pid)
                continue
            by_address.setdefault(p["email"], []).append(p)
        sender, name = self._from()
        drafts = []
        for address, people in by_address.items():
            first = people[0]
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
