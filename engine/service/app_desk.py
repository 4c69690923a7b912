"""The App's answers for the front desk's day (engine/service/app.py inherits them): the day
list, the recall list, why an item waits, and patients added or changed at the desk
with the import's own checks (engine/core/directory.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.core import directory as rules
from engine.core.outbox import State
from engine.service.values import DayAppointment, DeskCounts, OutboxItem, Patient, RecallLine, RecallMessage, RecallRun

# the patient fields reception may set at the desk (the rest come from the practice system)
PATIENT_FIELDS = ("title", "first_name", "last_name", "date_of_birth", "email", "mobile", "family_id",
                  "usual_provider_id", "preferred_location", "preference")




class DeskDoor:
    """Needs the App's `directory`, `inbox`, `reminders`, `recalls`, `outbox`, `settings`, `zone`,
    `now`, `patients`, `patient`, `engine` and `_command`."""

    directory: Any
    inbox: Any
    reminders: Any
    recalls: Any
    outbox: Any
    settings: Any
    zone: Any
    now: Any
    patients: Any
    patient: Any
    _command: Any
    engine: Any

    def desk_counts(self) -> DeskCounts:
        """The navigation's numbers: read in place (no record copied), on the kiosk's jobs thread."""
        by_status = self.outbox.counts()
        waiting = sum(by_status.get(s.value, 0) for s in (State.READY, State.SENDING, State.PENDING_LINK))
        failed = sum(by_status.get(s.value, 0) for s in (State.FAILED, State.LINK_FAILED, State.BOUNCED))
        return DeskCounts(unread=self.inbox.unread(), waiting=waiting, failed=failed)

    def appointments_on(self, day: date) -> list[DayAppointment]:
        """The appointments starting on `day` in the practice's time, soonest first, with who,
        with whom and how far the confirmation got (the newest confirmation item's state)."""
        zone = self.zone()
        first = datetime.combine(day, time(0), zone)
        last = first + timedelta(days=1)
        rows = sorted(self.reminders.appointments.find(lambda r: _starts_within(r, first, last)),
                      key=lambda r: r["start"])  # only the day's copied: 40,000 read and copied took ~0.5 s
        d = self.directory
        names = d.names("providers", {r.get("provider_id") or "" for r in rows})
        wanted = {r["id"] for r in rows}
        confirmations: dict[str, str] = {}
        for item in self.outbox.iter_newest(lambda r: rules.is_one_of(r.get("appointment_id"), wanted)):  # newest first
            aid = item.record.get("appointment_id")
            if aid in wanted and item.kind == "confirmation" and aid not in confirmations:
                confirmations[aid] = item.status.value
        out = []
        people = d.people("patients", {r["patient_id"] for r in rows})  # one read, not one per row
        for r in rows:
            patient = people.get(r["patient_id"])
            out.append(DayAppointment(
                id=r["id"], start=r["start"], minutes=int(r["minutes"]), patient_id=r["patient_id"],
                patient_name=Patient.from_record(patient).name if patient else r["patient_id"],
                provider=names.get(r.get("provider_id") or "", r.get("provider_id") or ""),
                type=r.get("type") or "", status=r.get("status", "booked"),
                confirmation=confirmations.get(r["id"], ""), record=dict(r)))
        return out

    def recall_list(self) -> list[RecallLine]:
        """The recalls on file, soonest due first, with the patient's name (printed, emailed as PDF)."""
        recalls = self.recalls.list()
        names = {p.id: p.name for p in (Patient.from_record(r) for r in
                                        self.directory.people("patients", {r.patient_id for r in recalls}).values())}
        return [RecallLine(r.patient_id, names.get(r.patient_id, r.patient_id), r.type, r.due, r.status)
                for r in recalls]

    def recall_locations(self) -> list[str]:
        """The practice's locations by name: a recall run may be for one of them."""
        return sorted(r["name"] for r in self.directory.list("locations"))

    def recall_preview(self, due_before: date, location: str = "") -> RecallRun:
        """The engine's dry run of `practicemail recalls run --dry-run`: nothing is queued."""
        return self._recall_run(self.recalls.run(due_before, self.now(), location=location, dry_run=True))

    def run_recalls(self, due_before: date, location: str = "") -> RecallRun:
        """The recall run itself (the CLI's `recalls run`): one message per patient, staggered."""
        self._command("run recalls")
        result = self.recalls.run(due_before, self.now(), location=location)
        self.engine.wake()
        return self._recall_run(result)

    def _recall_run(self, result: Any) -> RecallRun:
        named = {pid for m in result.messages for pid in m["patients"]} | set(result.no_address) | \
            set(result.opted_out) | set(result.already) | {pid for r in result.refused for pid in r["patients"]}
        names = {p.id: p.name for p in (Patient.from_record(r) for r in self.directory.people("patients", named).values())}
        messages = tuple(RecallMessage(m["to"], tuple(m["patients"]), tuple(names.get(p, p) for p in m["patients"]),
                                       m["deliver_after"]) for m in result.messages)
        why = [(pid, "no email address or mobile") for pid in result.no_address] + \
            [(pid, "asked for no messages") for pid in result.opted_out] + \
            [(pid, "already queued by an earlier run") for pid in result.already] + \
            [(pid, f"not queued: {r['error']}") for r in result.refused for pid in r["patients"]]
        return RecallRun(result.dry_run, messages, 0 if result.dry_run else len(result.queued),
                         tuple((names.get(pid, pid), reason) for pid, reason in why))

    def next_patient_id(self) -> str:
        """A free patient code for a patient added at the desk (P followed by a number): the one
        after the patients' count, looked up alone (issue 19: not every code read for each new
        patient); when that one is taken, the next free one after it, from every code."""
        d = self.directory
        n = d.count("patients") + 1
        if not d.exists("patients", f"P{n:03d}"):
            return f"P{n:03d}"
        taken = d.keys("patients")
        while f"P{n:03d}" in taken:
            n += 1
        return f"P{n:03d}"

    def waiting_words(self, item: OutboxItem) -> str:
        """Why a ready item has not gone, in reception's words: with automatic sending off (the
        demo), a due item waits for Send/Receive; a confirmation may wait for reception's answer.
        Empty when nothing holds it. For the outbox's Reason column."""
        if item.status.value != "ready":
            return ""
        if item.record.get("prompt"):  # never sent unasked (engine/service/prompts.py says who is asked)
            if self.engine.desk_answers:  # this desk asks reception (the service's or another desk)
                return "waits for your answer: send this confirmation?"
            if self.engine.other_desks_answer:  # on a database: every open desk is asked (desk_prompts.py)
                return "waiting for a desk to confirm: every open desk is asked"
            return "waiting for a desk to confirm: no desk that can answer is open"  # a headless service on files
        if not self.settings.get("schedule.send_immediately"):
            return "waits for Send/Receive (automatic sending is off)"
        return ""

    def add_patient(self, fields: dict[str, str]) -> Patient:
        """A new patient (a code is given when none is): checked as an imported row is, a
        mobile made E.164; refused with every problem named, nothing stored."""
        self._command("add a patient")
        row = {k: str(fields.get(k) or "") for k in PATIENT_FIELDS}
        row["id"] = str(fields.get("id") or "") or self.next_patient_id()
        return Patient.from_record(self.directory.add_patient(row))

    def update_patient(self, patient_id: str, fields: dict[str, str]) -> Patient:
        """The patient's details changed, checked as an import is; a corrected email clears
        the bounced mark (Directory.update)."""
        self._command("change a patient")
        self.directory.update("patients", patient_id, {k: str(v or "") for k, v in fields.items()
                                                       if k in PATIENT_FIELDS})
        return self.patient(patient_id)


def _starts_within(record: Mapping[str, Any], first: datetime, last: datetime) -> bool:
    """The appointment starts in [first, last); a start that is not a time is on no day."""
    try:
        return first <= datetime.fromisoformat(str(record.get("start", ""))) < last
    except (ValueError, TypeError):
        return False
