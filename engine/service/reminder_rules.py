"""Reminder rules as stored ("SMS 2 days before at 10:00", "email 7 days before"), and which
channel a rule's reminder takes for a patient. The planning is engine/core/reminders.py's;
engine/service/reminders.py queues what it plans."""

from __future__ import annotations

import logging
from typing import Any

from engine.adapters.storage import RID
from engine.core import reminders as rules
from engine.core.directory import preference
from engine.errors import InputInvalid, NotFound
from engine.service.practice import Practice
from engine.service.templates import Templates

log = logging.getLogger("practicemail.service")


def channel_for(rule_channel: str, patient: dict[str, Any]) -> str | None:
    """A rule's reminder reaches a patient who accepts its channel (preference email, sms or both;
    none: nothing); when that channel's address or number is missing, or the address bounced for
    good (`email_bad`, issue 20), it falls back to the other one; with neither, None (the log
    lists it)."""
    accepts = {"email": {"email"}, "sms": {"sms"}, "both": {"email", "sms"}}.get(preference(patient), set())
    if rule_channel not in accepts:
        return None
    have = {"email": bool(patient.get("email")) and not patient.get("email_bad"), "sms": bool(patient.get("mobile"))}
    other = "sms" if rule_channel == "email" else "email"
    return rule_channel if have[rule_channel] else other if have[other] else None


class ReminderRules:
    """The practice's reminder rules, as stored (collection `reminder_rules`)."""

    def __init__(self, practice: Practice, templates: Templates | None = None) -> None:
        self.practice = practice
        self.templates = templates if templates is not None else Templates(practice.store)
        self._c = practice.store.collection("reminder_rules")

    def list(self) -> list[rules.Rule]:
        return sorted((rules.parse_rule(r) for r in self._c.all()), key=lambda x: x.id)

    def add(self, fields: dict[str, Any]) -> rules.Rule:
        """Checked first (fields, then that its template, provider and location exist); nothing stored on a problem."""
        taken = {r.id for r in self.list()}
        if not fields.get("id"):
            fields = {**fields, "id": next(f"R{n}" for n in range(1, len(taken) + 2) if f"R{n}" not in taken)}
        rule = rules.parse_rule(fields)
        if rule.id in taken:
            raise InputInvalid(f"reminder rule {rule.id!r} already exists", hint="Delete it first, or give another id.")
        if not self.templates.exists(rule.template):
            raise InputInvalid(f"no template {rule.template!r}", hint="`templates list` shows the codes.")
        kind = self.templates.get(rule.template).kind
        if kind != rule.channel:  # a text of an email's words (or an email without a subject) helps nobody
            raise InputInvalid(f"{rule.template} is {'a text' if kind == 'sms' else 'an email'} template, and the "
                               f"rule sends {'a text' if rule.channel == 'sms' else 'an email'}",
                               hint="Choose a template of the rule's kind (`sms templates list` shows the text ones).")
        if rule.provider_id:
            self.practice.directory.require("providers", rule.provider_id)
        if rule.location:
            self.practice.directory.require("locations", rule.location)
        stored = rule.as_dict()
        stored.pop("describe")
        self._c.insert(stored)
        log.info("reminder rule %s added: %s", rule.id, rule.describe())
        return rule

    def delete(self, rule_id: str) -> None:
        found = self._c.find_by("id", rule_id)
        if not found:
            raise NotFound(f"no reminder rule {rule_id!r}", hint="`reminders rules list` shows them.")
        self._c.remove(found[0][RID])
        log.info("reminder rule %s deleted (reminders already queued stay queued)", rule_id)
