"""Recalls as stored, and the recall run that queues them, staggered.

The run queues in chunks: each chunk's messages in one durable outbox step
(`Outbox.add_drafts`), then its recalls marked sent. A crash between the two
leaves queued messages whose recalls still say due: the next run finds their
send keys on the outbox items and skips them (marking them sent), so each patient
is sent exactly once. The staggering continues after the last deliver-after still
waiting, so two runs together keep to `recalls.per_hour` too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.csvfile import read_rows
from engine.adapters.storage import RID
from engine.core import recalls as rc
from engine.core import templates as tpl
from engine.core.directory import person_name, preference
from engine.core.message import Draft, Recipient
from engine.core.outbox import State as OutboxState
from engine.core.periods import parse_periods
from engine.core.template_fill import Fill
from engine.errors import InputInvalid, Problem
from engine.service.compose import merge_context
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.templates import Templates

log = logging.getLogger("practicemail.service")
KIND = "recall"
CHUNK = 1000  # messages per durable step of a run (each step rewrites the recall list: 500 was twice the writes)
PATIENT_FIELDS = ("title", "first_name", "last_name", "email", "id")  # merge_context's patient group


@dataclass
class RunResult:
    dry_run: bool
    messages: list[dict[str, Any]] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)  # a text the SMS rules refused (too long...)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "messages": self.messages, "queued": len(self.queued) if not self.dry_run
                else 0, "ids": self.queued, "no_address": self.no_address, "already_queued": self.already,
                "opted_out": self.opted_out, "refused": self.refused}


TEXT = "sms:"  # an address that is a mobile number: the recall goes as a text


def _address(patient: dict[str, Any]) -> str:
    """Where one recall goes, by the patient's preference (both: email first); the other channel
    when the preferred one is missing; "" when neither (listed)."""
    email, mobile = patient.get("email", ""), patient.get("mobile", "")
    text = TEXT + mobile if mobile else ""
    if preference(patient) == "sms":
        return text or email
    return email or text


def _email_or_placeholder(address: str) -> str:
    """A text's message is only rendered (its body becomes the text): no email address to give."""
    return "text-message@invalid" if address.startswith(TEXT) else address


class Recalls:
    def __init__(self, practice: Practice, outbox: Outbox, templates: Templates | None = None) -> None:
        self.practice = practice
        self.outbox = outbox
        self.templates = templates if templates is not None else Templates(practice.store)
        self._c = practice.store.collection("recalls")

    # -- the list ---------------------------------------------------------------------------
    def list(self, patient_id: str | None = None) -> list[rc.Recall]:
        found = self._c.find(lambda r: patient_id is None or r.get("patient_id") == patient_id)
        return sorted((rc.Recall.from_dict(r) for r in found), key=lambda r: (r.due, r.patient_id, r.type))

    def _last_appointments(self) -> dict[tuple[str, str], date]:
        """(patient, appointment type) -> the day of the latest appointment of that type not cancelled."""
        tz = ZoneInfo(self.practice.settings.get("practice.timezone"))
        last: dict[tuple[str, str], date] = {}
        for a in self.practice.store.collection("appointments").all():
            if a.get("type") and a.get("status") != "cancelled":
                day = datetime.fromisoformat(a["start"]).astimezone(tz).date()
                k = (a["patient_id"], a["type"])
                last[k] = max(day, last.get(k, day))
        return last

    def import_csv(self, path: Path) -> int:
        return self.import_rows(read_rows(path, rc.COLUMNS, rc.REQUIRED), path.name)

    def import_rows(self, rows: list[tuple[int, dict[str, str]]], source: str = "import") -> int:
        """All rows or none. A recall of a patient and type already listed is replaced (the file is
        the practice system's word); one whose due date changes is due again."""
        patients = self.practice.directory.keys("patients")
        derived = self._last_appointments()
        new: dict[str, rc.Recall] = {}
        problems: list[Problem] = []
        for n, row in rows:
            recall, row_problems = rc.validate_row(row, n, patients, derived)
            problems += row_problems
            if recall is not None:
                if recall.key in new:
                    problems.append(Problem(n, "type", f"{recall.type} for {recall.patient_id} appears twice"))
                new[recall.key] = recall
        if problems:
            raise InputInvalid(f"{source}: {len(problems)} problem(s), nothing imported", problems)
        self._upsert(list(new.values()))
        log.info("imported %d recall(s) from %s", len(new), source)
        return len(new)

    def derive(self, kind: str, months: int) -> int:
        """A recall for every patient with an appointment of `kind`: its day plus `months`."""
        rows = [(0, {"patient_id": pid, "type": t, "interval_months": str(months), "due_date": ""})
                for (pid, t) in sorted(self._last_appointments()) if t == kind.lower()]
        return self.import_rows(rows, f"appointments of type {kind}") if rows else 0

    def _upsert(self, recalls: list[rc.Recall]) -> None:
        stored = {f"{r['patient_id']}:{r['type']}": {k: v for k, v in r.items() if k != RID} for r in self._c.all()}
        for r in recalls:
            old = stored.get(r.key)
            keep = old is not None and old["due"] == r.due.isoformat()
            stored[r.key] = {**(old or {}), **r.as_dict(), "status": old["status"] if keep else "due"}
        self._c.replace_all(list(stored.values()))  # one durable write: all or none

    # -- the run ------------------------------------------------------------------------------
    def _already_queued(self) -> tuple[frozenset[str], datetime | None]:
        """Send keys on recall items not cancelled, and the latest deliver-after still waiting."""
        keys: set[str] = set()
        last: datetime | None = None
        for item in self.outbox.recall_items():
            keys.update(item.recall_keys)
            if item.status is OutboxState.READY and item.deliver_after is not None:
                at = item.deliver_after
                last = at if last is None or at > last else last
        return frozenset(keys), last

    def run(self, due_before: date, now: datetime, location: str = "", dry_run: bool = False,
            progress: Callable[[int, int], None] | None = None) -> RunResult:
        """One message per patient due on or before `due_before` (at `location` only, when given).
        `progress(queued, total)` is called after each durable chunk."""
        s = self.practice.settings
        d = self.practice.directory
        code = s.get("recalls.template")
        templates = self.templates
        if not code or not templates.exists(code):
            raise InputInvalid("no recall template is set" if not code else f"no template {code!r}",
                               hint="Set recalls.template to a template's code (`templates list` shows them).")
        if not s.get("practice.email"):
            raise InputInvalid("the practice has no email address", hint="Set practice.email in the setup wizard.")
        if location:
            d.require("locations", location)
        everyone = {p["id"]: p for p in d.list("patients")}
        by_patient: dict[str, list[rc.Recall]] = {}
        for r in self.list():
            p = everyone.get(r.patient_id)
            if r.status == "due" and r.due <= due_before and p is not None and (
                    not location or p.get("preferred_location") == location):
                by_patient.setdefault(r.patient_id, []).append(r)
        opted_out = sorted(pid for pid in by_patient if preference(everyone[pid]) == "none")
        dues = [rc.Due(pid, everyone[pid].get("family_id", ""), _address(everyone[pid]),
                       tuple(r.send_key for r in recs)) for pid, recs in by_patient.items() if pid not in opted_out]
        already, last = self._already_queued()
        tz = ZoneInfo(s.get("practice.timezone"))
        plan = rc.plan_run(dues, already, now, int(s.get("recalls.per_hour")), tz,
                           parse_periods(s.get("schedule.periods") or ""), last)
        result = RunResult(dry_run, [{"patients": list(m.patient_ids), "to": m.address,
                                      "deliver_after": m.deliver_after.isoformat()} for m in plan.messages],
                           no_address=plan.no_address, already=plan.already, opted_out=opted_out)
        if dry_run:
            return result
        self._mark_sent(already, now)  # a crash after queueing, before marking: marked now, not sent again
        drafts = Drafts(self.practice, templates.get(code), code, everyone)
        for i in range(0, len(plan.messages), CHUNK):
            chunk = plan.messages[i:i + CHUNK]
            emails = [m for m in chunk if not m.address.startswith(TEXT)]
            result.queued += self.outbox.add_drafts([drafts.draft(m) for m in emails], now)
            result.queued += self._texts([m for m in chunk if m.address.startswith(TEXT)], drafts, now, result)
            self._mark_sent(frozenset(k for m in chunk for k in m.send_keys), now)
            if progress is not None:
                progress(len(result.queued), len(plan.messages))
        log.info("recall run: %d message(s) queued, %d without an address, %d already queued",
                 len(result.queued), len(plan.no_address), len(plan.already))
        return result

    def _texts(self, planned: list[rc.Planned], drafts: Drafts, now: datetime, result: RunResult) -> list[int]:
        """Recalls to patients who prefer texts: the template's text body, to the (shared) mobile."""
        from engine.service.sms import Texts

        wanted = []
        for m in planned:
            draft, meta = drafts.draft(m)
            meta = {k: v for k, v in meta.items() if k not in ("kind", "deliver_after", "patient_id")}
            wanted.append((m.patient_ids[0], draft.text.strip(), m.deliver_after, meta))
        ids, refused = Texts(self.practice, self.outbox).queue_many(wanted, now)  # one write for the chunk
        for i, exc in refused:
            result.refused.append({"patients": list(planned[i].patient_ids), "error": exc.message, "hint": exc.hint})
        return ids

    def _mark_sent(self, keys: frozenset[str], now: datetime) -> None:
        """The recalls of these send keys still due, marked sent in one write (read in place: a run
        marks a chunk at a time, and making each stored recall a Recall to ask its key cost more than
        the write)."""
        if not keys:
            return
        ids = self._c.ids(lambda r: r.get("status") == "due" and _send_key(r) in keys)
        if ids:
            self._c.modify_many(ids, lambda _i, r: {**r, "status": "sent", "sent_at": now.isoformat()}, copies=False)


@functools.lru_cache(maxsize=4096)
def _day(stored: str) -> str:
    return date.fromisoformat(stored).isoformat()


def _send_key(stored: Mapping[str, Any]) -> str:
    """`Recall.from_dict(stored).send_key`, without making the Recall (a stored due date is read
    as a date, as there, once per distinct value)."""
    return f"recall:{stored['patient_id']}:{stored['type']}:{_day(stored['due'])}"


class Drafts:
    """One run's messages, each exactly as making it on its own would (merge_context and the
    template for its patient, or its family), without reading the settings and the directory per
    patient: the practice's name and address once, and merge_context once per preferred location
    and usual provider (all it looks up), the patient's own fields then laid over it as
    merge_context lays them; and the template filled rather than rendered where it allows
    (engine/core/template_fill.py). tests/integration/test_recalls_fast.py holds the two to the
    same items, families and hostile names included."""

    def __init__(self, practice: Practice, template: tpl.Template, code: str,
                 everyone: Mapping[str, Mapping[str, Any]]) -> None:
        s = practice.settings
        self.practice, self.template, self.code, self.everyone = practice, template, code, everyone
        self.sender = (s.get("practice.email"), s.get("practice.name"))
        self.fill = Fill(template)
        self._around: dict[tuple[Any, Any], dict[str, dict[str, str]]] = {}

    def context(self, patient: Mapping[str, Any], family_name: str = "") -> dict[str, dict[str, str]]:
        """`merge_context(practice, patient, family_name=family_name)`."""
        key = (patient.get("preferred_location", ""), patient.get("usual_provider_id", ""))
        around = self._around.get(key)
        if around is None:
            around = merge_context(self.practice, {"preferred_location": key[0], "usual_provider_id": key[1]})
            self._around[key] = around
        return {**around, "patient": {k: patient.get(k, "") for k in PATIENT_FIELDS},
                "family": {"name": family_name or patient.get("last_name", "")}}

    def draft(self, m: rc.Planned) -> tuple[Draft, dict[str, Any]]:
        people = [self.everyone[pid] for pid in m.patient_ids]
        first = people[0]
        if len(people) > 1:  # family members due together at one address: one message, to the family
            family = first.get("last_name", "")
            ctx = self.context(first, family_name=family)
            ctx["patient"] = {**ctx["patient"], "title": "", "first_name": f"{family} family", "last_name": family}
            to = Recipient(_email_or_placeholder(m.address), f"The {family} family")
        else:
            ctx = self.context(first)
            to = Recipient(_email_or_placeholder(m.address), person_name(first))
        r = self.fill(ctx)
        meta = {"kind": KIND, "patient_id": first["id"] if len(people) == 1 else "",
                "family_patients": list(m.patient_ids) if len(people) > 1 else [], "recall_keys": list(m.send_keys),
                "idempotency_key": m.key, "deliver_after": m.deliver_after.isoformat(), "template": self.code,
                "category": self.template.category or "Recalls", "description": "Recall"}
        return Draft(*self.sender, [to], r.subject, r.body, html=r.html), meta
