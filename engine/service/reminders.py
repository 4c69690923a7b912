"""Appointment events and the mail they cause: confirmations (held for the delay,
replaced when the slot moves), cancellations, welcome mail, calendar files,
the prompt-before-send hook for the kiosk, and the preview of what is coming.
Reminder rules ("SMS 2 days before at 10:00") are stored here too (ReminderRules),
and each booking, move and cancellation re-plans their reminders.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.storage import RID
from engine.core import headers, ical, schedule
from engine.core import reminders as rules
from engine.core import templates as tpl
from engine.core.directory import person_name
from engine.core.message import Attachment, Draft, Recipient
from engine.core.outbox import Event
from engine.core.outbox import State as OutboxState
from engine.errors import InputInvalid, NotFound, PracticeMailError
from engine.service.compose import merge_context
from engine.service.heartbeat import Heartbeat
from engine.service.outbox import Outbox, OutboxItem
from engine.service.practice import Practice
from engine.service.reminder_rules import ReminderRules, channel_for
from engine.service.templates import Templates

log = logging.getLogger("practicemail.service")


@dataclass
class PreviewLine:
    at: datetime
    what: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "what": self.what, "detail": self.detail}


def _check_length(minutes: int) -> None:
    """One rule for book and move: an invitation whose end comes before its start (or an
    appointment of a day and more) is refused before anything is stored or queued."""
    if not 1 <= minutes <= 720:
        raise InputInvalid(f"{minutes} minutes is not a length of appointment", hint="Use 1 to 720 minutes.")


def _held(patient: dict[str, Any]) -> str:
    """Why automatic mail to this patient is held ("" when it is not): their address bounced."""
    bad = patient.get("email_bad") or {}
    return f"held: the address {bad.get('address', '')} bounced ({bad.get('reason', '')})" if bad else ""


class Reminders:
    def __init__(self, practice: Practice, outbox: Outbox, templates: Templates | None = None) -> None:
        self.practice = practice
        self.outbox = outbox
        self.templates = templates if templates is not None else Templates(practice.store)
        self.appointments = practice.store.collection("appointments")
        self.rules = ReminderRules(practice, self.templates)  # engine/service/reminder_rules.py

    # -- appointments -------------------------------------------------------------------
    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.practice.settings.get("practice.timezone"))

    def _start(self, text: str) -> datetime:
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            raise InputInvalid(f"{text!r} is not a date and time", hint="Use ISO 8601, like 2026-12-03T14:00.") from None
        return start if start.tzinfo else start.replace(tzinfo=self._tz())

    def get(self, aid: str) -> dict[str, Any]:
        found = self.appointments.find_by("id", aid)
        if not found:
            raise NotFound(f"no appointment {aid!r}")
        return found[0]

    def for_patient(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's appointments, soonest first (cancelled ones too, marked so)."""
        return sorted(self.appointments.find_by("patient_id", patient_id), key=lambda r: r["start"])

    def book(self, patient_id: str, start: str, minutes: int, now: datetime, provider_id: str = "",
             location: str = "", aid: str | None = None, appointment_type: str = "") -> str:
        """Books and plans its mail; `late_reminders` then says which rules' reminders will not go."""
        d = self.practice.directory
        patient = d.require("patients", patient_id)
        if provider_id:
            d.require("providers", provider_id)
        location = location or patient.get("preferred_location", "")
        if location:
            d.require("locations", location)
        _check_length(minutes)
        try:
            kind = rules.appointment_type(appointment_type)
        except ValueError as exc:
            raise InputInvalid(str(exc), hint="Use letters, digits, - or _, like checkup or hygiene.") from None
        aid = aid or f"A{now:%Y%m%d}-{secrets.token_hex(3)}"
        if self.appointments.find_by("id", aid):
            raise InputInvalid(f"appointment {aid!r} already exists", hint="Use move to change it.")
        record = {"id": aid, "patient_id": patient_id, "provider_id": provider_id or patient.get("usual_provider_id", ""),
                  "start": self._start(start).isoformat(), "minutes": minutes, "location": location,
                  "type": kind, "version": 1, "status": "booked", "source": "reception"}
        self.appointments.insert(record)
        self._apply("booked", record, now)
        self._close_recalls(patient_id, now)
        return aid

    def _close_recalls(self, patient_id: str, now: datetime) -> None:
        """A booking after a recall went out closes it: the recall did its job (status booked)."""
        recalls = self.practice.store.collection("recalls")
        ids = recalls.ids(lambda r: r.get("patient_id") == patient_id and r.get("status") == "sent")
        if ids:
            recalls.modify_many(ids, lambda _i, r: {**r, "status": "booked", "booked_at": now.isoformat()}, copies=False)
            log.info("patient %s booked: %d recall(s) closed", patient_id, len(ids))

    def move(self, aid: str, start: str, now: datetime, minutes: int | None = None) -> None:
        rec = self.get(aid)
        if rec.get("status") == "cancelled":
            raise InputInvalid(f"appointment {aid} is cancelled", hint="Book a new appointment instead.")
        if minutes is not None:
            _check_length(minutes)
        version = int(rec.get("version", 1)) + 1
        fields = {"start": self._start(start).isoformat(), "version": version}
        if rec.get("attention"):
            fields["attention"] = ""  # moved by reception: a calendar's decline or proposal is dealt with
        if rec.get("confirmed"):
            fields["confirmed"] = False  # the patient confirmed the old time, not this one
        if minutes is not None:
            fields["minutes"] = minutes
        self.appointments.update(rec[RID], fields)
        self._apply("moved", {**rec, **fields}, now)

    def cancel(self, aid: str, now: datetime) -> None:
        rec = self.get(aid)
        if rec.get("status") == "cancelled":
            return
        version = int(rec.get("version", 1)) + 1
        self.appointments.update(rec[RID], {"status": "cancelled", "version": version, "attention": ""})
        self._apply("cancelled", {**rec, "status": "cancelled", "version": version}, now)

    def needing_attention(self) -> list[dict[str, Any]]:
        """Appointments a patient's calendar declined or proposed another time for (reception's
        tasks: engine/service/calendar_answers.py), soonest first. Nothing was changed by itself."""
        return sorted(self.appointments.find(lambda r: bool(r.get("attention"))), key=lambda r: r["start"])

    def settle_attention(self, aid: str) -> None:
        """Reception has dealt with it (telephoned, moved or cancelled the appointment)."""
        self.appointments.update(self.get(aid)[RID], {"attention": ""})

    def _existing(self, aid: str) -> list[rules.Existing]:
        # a reminder sent as a text is an outbox item of kind sms: to the planner it is a reminder
        return [rules.Existing(r[RID], rules.REMINDER if r.get("rule") else r.get("kind", ""),
                               int(r.get("appointment_version", 0)), r["status"], r.get("idempotency_key", ""))
                for r in self.outbox.for_appointment(aid)]

    def _apply(self, event: str, appt: dict[str, Any], now: datetime) -> None:
        s = self.practice.settings
        plan = rules.plan(event, appt["id"], int(appt["version"]), self._existing(appt["id"]), now,
                          int(s.get("reminders.confirmation_delay_minutes")))
        for rid in plan.drop:
            self.outbox.apply(rid, Event.CANCEL, now)
            log.info("held confirmation %d dropped: appointment %s %s", rid, appt["id"], event)
        for q in plan.queue:
            self._queue(q, appt, now)
        self._apply_reminders(event, appt, now)

    # -- reminders before the appointment -------------------------------------------------
    @staticmethod
    def _slot(appt: dict[str, Any]) -> rules.Slot:
        return rules.Slot(appt["id"], int(appt["version"]), datetime.fromisoformat(appt["start"]),
                          appt.get("provider_id", ""), appt.get("location", ""), appt.get("type", ""))

    def late_reminders(self, aid: str, now: datetime) -> list[str]:
        """Asked right after a booking or move (with its `now`): each rule whose reminder for the
        slot as it stands will not go, and why, one line each (the planner's own test)."""
        appt = self.get(aid)
        if appt.get("status") == "cancelled":
            return []
        tz = self._tz()
        return [x.words(tz) for x in rules.too_late(self._slot(appt), now, self.rules.list(), tz)]

    def _apply_reminders(self, event: str, appt: dict[str, Any], now: datetime) -> None:
        slot = self._slot(appt)
        every = {r.id: r for r in self.rules.list()}
        plan = rules.plan_reminders(event, slot, self._existing(appt["id"]), now, every.values(), self._tz())
        for rid in plan.drop:
            self.outbox.apply(rid, Event.CANCEL, now)
            log.info("reminder %d dropped: appointment %s %s", rid, appt["id"], event)
        for q in plan.queue:
            self._queue_reminder(q, every[q.rule], appt, now)

    def _queue_reminder(self, q: rules.Queue, rule: rules.Rule, appt: dict[str, Any], now: datetime) -> int | None:
        s = self.practice.settings
        patient = self.practice.directory.require("patients", appt["patient_id"])
        if not self.templates.exists(rule.template):
            log.warning("reminder rule %s: template %s is gone; no reminder for appointment %s", rule.id,
                        rule.template, appt["id"])
            return None
        meta = {"appointment_id": appt["id"], "appointment_version": q.version, "idempotency_key": q.key,
                "rule": rule.id, "channel": rule.channel, "template": rule.template, "category": "Appointments",
                "description": f"Reminder ({rule.describe()})"}
        channel = channel_for(rule.channel, patient)
        if channel is None:
            log.info("patient %s: no %s reminder for appointment %s (preference %s, or no address or number)",
                     patient["id"], rule.channel, appt["id"], patient.get("preference") or "email")
            return None
        template = rule.template
        if channel == "sms" and rule.channel == "email":  # an email rule falling back to a text needs a text's words
            template = s.get("reminders.sms_template") or ""
            if not template or not self.templates.exists(template):
                log.warning("patient %s: the email reminder for appointment %s could go only as a text, and "
                            "reminders.sms_template is not set", patient["id"], appt["id"])
                return None
        r = tpl.render(self.templates.get(template), merge_context(self.practice, patient, appointment=appt))
        if channel == "sms":
            from engine.service.sms import Texts

            try:  # automatic: moved past quiet hours by the queue itself
                return Texts(self.practice, self.outbox).queue(patient["id"], r.body.strip(), now,
                                                               deliver_after=q.deliver_after, automatic=True,
                                                               meta={**meta, "channel": "sms"},
                                                               not_after=datetime.fromisoformat(appt["start"]))
            except InputInvalid as exc:
                log.warning("reminder for appointment %s not queued as a text: %s", appt["id"], exc.message)
                return None
        draft = Draft(s.get("practice.email"), s.get("practice.name"), [Recipient(patient["email"], person_name(patient))],
                      r.subject, r.body, html=r.html)
        rid = self.outbox.add_draft(draft, now, deliver_after=q.deliver_after, patient_id=patient["id"],
                                    kind=rules.REMINDER, automatic=True, meta=meta)
        log.info("reminder %d planned for %s (appointment %s version %d, rule %s)", rid, q.deliver_after.isoformat(),
                 appt["id"], q.version, rule.id)
        return rid

    # -- building the mail -------------------------------------------------------------------
    def _queue(self, q: rules.Queue, appt: dict[str, Any], now: datetime) -> int | None:
        s = self.practice.settings
        code = s.get("reminders.confirmation_template" if q.kind == rules.CONFIRMATION
                     else "reminders.cancellation_template")
        patient = self.practice.directory.require("patients", appt["patient_id"])
        if not code or not self.templates.exists(code):
            log.warning("no %s template set: nothing queued for appointment %s", q.kind, appt["id"])
            return None
        if not patient.get("email"):
            log.warning("patient %s has no email address: no %s for appointment %s", patient["id"], q.kind, appt["id"])
            return None
        prompt = q.kind == rules.CONFIRMATION and bool(s.get("reminders.prompt_before_send"))
        meta = {"appointment_id": appt["id"], "appointment_version": q.version, "idempotency_key": q.key,
                "prompt": prompt, "template": code, "category": "Appointments", "description": q.kind.capitalize()}
        held = _held(patient)
        if held:  # the address bounced: a draft for reception, never sent on its own
            draft = self._draft(code, appt, patient, q.kind == rules.CANCELLATION, now, link="")
            rid = self.outbox.add_draft(draft, now, as_draft=True, patient_id=patient["id"], kind=q.kind,
                                        automatic=True, meta={**meta, "prompt": False, "held": held})
            log.warning("%s %d held for reception: %s", q.kind, rid, held)
            return rid
        if "booking.link" in tpl.fields_used(self.templates.get(code)):
            # the link must be finished by the booking system first: the message is built then
            rid = self.outbox.add_pending_link({
                **meta, "kind": q.kind, "automatic": True, "patient_id": patient["id"], "from": s.get("practice.email"),
                "to": [patient["email"]], "cc": [], "bcc": [], "envelope_to": [patient["email"]],
                "subject": f"({q.kind} waiting for its booking link)", "deliver_after": q.deliver_after.isoformat(),
                "link_token": "", "cancelled_ics": q.kind == rules.CANCELLATION}, now)
            log.info("%s %d waits for a booking link (appointment %s)", q.kind, rid, appt["id"])
            return rid
        draft = self._draft(code, appt, patient, q.kind == rules.CANCELLATION, now, link="")
        rid = self.outbox.add_draft(draft, now, deliver_after=q.deliver_after, patient_id=patient["id"],
                                    kind=q.kind, automatic=True, meta=meta)
        log.info("%s %d queued for appointment %s (version %d)", q.kind, rid, appt["id"], q.version)
        return rid

    def _draft(self, code: str, appt: dict[str, Any], patient: dict[str, Any], cancelled: bool, now: datetime,
               link: str) -> Draft:
        s = self.practice.settings
        r = tpl.render(self.templates.get(code), merge_context(self.practice, patient, appointment=appt,
                                                               booking_link=link))
        attachments = [self._ics(appt, patient, cancelled=cancelled, now=now)] if s.get("reminders.include_ical") else []
        to = Recipient(patient["email"], headers.display_name(person_name(patient)))  # a record's name: one line
        return Draft(s.get("practice.email"), s.get("practice.name"), [to],
                     r.subject, r.body, html=r.html, attachments=attachments)

    def resolve_links(self, provider: Any, now: datetime) -> dict[str, int]:
        """Ask the booking system about every item waiting for a link. Never sends one without it."""
        done = {"ready": 0, "failed": 0, "pending": 0}
        for item in self.outbox.in_state(OutboxState.PENDING_LINK):
            rid = item.id
            try:
                token = item.get("link_token") or provider.request(item["appointment_id"], item.patient_id)
                if not item.get("link_token"):
                    self.outbox.link_requested(rid, token, now)
                state = provider.state(token)
            except PracticeMailError as exc:
                self.outbox.apply(rid, Event.LINK_FAILED, now, error=exc.message, hint=exc.hint)
                done["failed"] += 1
                continue
            if state.status == "ready" and state.url:
                appt = self.get(item["appointment_id"])
                patient = self.practice.directory.require("patients", item["patient_id"])
                draft = self._draft(item["template"], appt, patient, bool(item.get("cancelled_ics")), now, state.url)
                self.outbox.link_ready(rid, draft, now)
                done["ready"] += 1
            elif state.status == "failed":
                self.outbox.apply(rid, Event.LINK_FAILED, now, error="the booking system could not make the link",
                                  hint="Reset the item to ask again, or cancel it.")
                done["failed"] += 1
            else:
                done["pending"] += 1
        return done

    def _ics(self, appt: dict[str, Any], patient: dict[str, Any], cancelled: bool, now: datetime) -> Attachment:
        s = self.practice.settings
        loc = self.practice.directory.find("locations", appt.get("location", "")) if appt.get("location") else None
        where = ", ".join(x for x in ((loc or {}).get("name", ""), (loc or {}).get("address", "")) if x)
        alarm = s.get("reminders.alarm_minutes")
        inv = ical.Invitation(
            appointment_id=appt["id"], sequence=int(appt["version"]) - 1,
            start=datetime.fromisoformat(appt["start"]), minutes=int(appt["minutes"]),
            summary=f"Dental appointment at {s.get('practice.name') or 'the practice'}", location=where,
            organizer_email=s.get("practice.email"), organizer_name=s.get("practice.name"),
            attendee_email=patient["email"], attendee_name=person_name(patient), timezone=s.get("practice.timezone"),
            cancelled=cancelled, alarm_minutes=None if alarm in (None, "") else int(alarm))
        method = "CANCEL" if cancelled else "REQUEST"
        return Attachment("appointment.ics", ical.build(inv, now), "text/calendar",
                          (("method", method), ("charset", "utf-8")))

    # -- welcome mail ---------------------------------------------------------------------------
    def welcome(self, patient: dict[str, Any], now: datetime) -> int | None:
        """A new patient (added by reception, never by an import) gets the welcome template, once."""
        s = self.practice.settings
        code = s.get("reminders.new_patient_template")
        if not code or not self.templates.exists(code) or not patient.get("email"):
            return None
        k = f"{patient['id']}:welcome"
        if self.outbox.has_key(k):
            return None
        r = tpl.render(self.templates.get(code), merge_context(self.practice, patient))
        to = Recipient(patient["email"], headers.display_name(person_name(patient)))  # a record's name: one line
        draft = Draft(s.get("practice.email"), s.get("practice.name"), [to],
                      r.subject, r.body, html=r.html)
        held = _held(patient)
        return self.outbox.add_draft(draft, now, as_draft=bool(held), patient_id=patient["id"], kind=rules.WELCOME,
                                     automatic=True, meta={"idempotency_key": k, "template": code,
                                                           "category": "Patients", "description": "Welcome",
                                                           **({"held": held} if held else {})})

    def held_for_bad_address(self) -> list[OutboxItem]:
        """Automatic mail held as drafts because the patient's address bounced: reception's list
        (correct the address and send the draft, or telephone the patient)."""
        return self.outbox.held_drafts()

    # -- the kiosk's prompt-before-send hook ------------------------------------------------------
    def awaiting_prompt(self) -> list[OutboxItem]:
        return self.outbox.awaiting_prompt()

    def answer_prompt(self, rid: int, send: bool, now: datetime, by: str = "") -> None:
        """Yes: it goes at the next pass (no more holding). No: the confirmation is cancelled.
        `by`: who answered, in words (the other desks are told)."""
        self.outbox.answer_prompt(rid, send, now, by)

    # -- what tomorrow looks like -------------------------------------------------------------------
    def preview(self, now: datetime, hours: int = 24) -> list[PreviewLine]:
        """Sends and checks in the next `hours`: the schedule rule's plan (engine/core/schedule.py,
        the rule the worker follows), from the sends pacing has already counted."""
        s = self.practice.settings.snapshot().schedule
        recent = Heartbeat(self.practice.store).recent_sends()
        texts = Heartbeat(self.practice.store).recent_texts()
        steps = schedule.plan(s, now, self.outbox.due_facts(), recent, now + timedelta(hours=hours), texts)
        return [_line(step, self.outbox.get(step.id) if step.id is not None else None) for step in steps]


def _line(step: schedule.Step, item: dict[str, Any] | None) -> PreviewLine:
    """A step in words (the `what` texts are what `reminders preview --json` has always said)."""
    if item is None:
        return PreviewLine(step.at, "check for mail", step.note)
    if step.what == schedule.SEND:
        return PreviewLine(step.at, f"send {item.get('kind', 'email')}",
                           f"#{step.id} to {', '.join(item['to'])}: {item['subject']}")
    return PreviewLine(step.at, step.what, f"#{step.id} {item['subject']}")
