"""Appointment mail: what to queue and what to drop when an appointment changes. Pure.

A receptionist may try three slots before the patient says yes. Confirmations
are held for the configured delay, so only the final slot's goes out:

- booked (version v): queue a confirmation for v, held until now + delay.
- moved (to version v): drop every confirmation not yet sent; queue one for v
  (an update, with a higher SEQUENCE, when an earlier one already went out).
- cancelled: drop every confirmation not yet sent; if one did go out (or may
  be going out now), queue a cancellation; if none did, send nothing.

Exactly one item per (appointment, version, kind): the idempotency key.

Reminders (`plan_reminders`) follow the same shape, one item per (appointment,
version, rule): planned at booking for the time the rule names ("2 days before
at 10:00", "7 days before"), re-planned on a move, dropped on a cancellation.
A rule whose time has already passed when the slot is booked or moved to
(booked inside its lead time, or the slot is past) is SKIPPED, never sent late:
the confirmation has just told the patient, and a "2 days before" reminder an
hour before would mislead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from engine.errors import InputInvalid, Problem

CONFIRMATION, CANCELLATION, WELCOME, REMINDER = "confirmation", "cancellation", "welcome", "reminder"
CHANNELS = ("email", "sms")
NOT_YET_SENT = ("draft", "ready")
WENT_OR_GOING = ("sent", "sending")


@dataclass(frozen=True)
class Existing:
    """An outbox item about this appointment, as far as the rules care."""

    rid: int
    kind: str
    version: int
    status: str
    key: str = ""  # the stored idempotency key (reminders: it names the rule)


@dataclass(frozen=True)
class Queue:
    kind: str
    version: int
    deliver_after: datetime
    key: str
    rule: str = ""  # reminders: the rule that asked for it


@dataclass
class Plan:
    drop: list[int] = field(default_factory=list)
    queue: list[Queue] = field(default_factory=list)


def key(appointment_id: str, version: int, kind: str) -> str:
    return f"{appointment_id}:{version}:{kind}"


def plan(event: str, appointment_id: str, version: int, existing: list[Existing], now: datetime,
         delay_minutes: int) -> Plan:
    p = Plan()
    held = [e for e in existing if e.kind == CONFIRMATION and e.status in NOT_YET_SENT]
    went = [e for e in existing if e.kind == CONFIRMATION and e.status in WENT_OR_GOING]
    keys = {key(appointment_id, e.version, e.kind) for e in existing}
    if event in ("moved", "cancelled"):
        p.drop = [e.rid for e in held]
    if event in ("booked", "moved"):
        k = key(appointment_id, version, CONFIRMATION)
        if k not in keys:
            p.queue.append(Queue(CONFIRMATION, version, now + timedelta(minutes=delay_minutes), k))
    if event == "cancelled" and went:
        k = key(appointment_id, version, CANCELLATION)
        if k not in keys:
            p.queue.append(Queue(CANCELLATION, version, now, k))
    return p


# -- appointment reminders -------------------------------------------------------------------

_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_TEMPLATE = re.compile(r"^[A-Z0-9_-]{1,32}$")
_AT = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")  # as the appointments import checks it
MAX_DAYS = 90


def appointment_type(text: str) -> str:
    """An appointment's type as stored ("checkup", "hygiene"; "" for none), or ValueError.

    One spelling for booking, import and rules, lower case, so a rule for "Hygiene" meets
    an appointment booked as "hygiene"."""
    text = (text or "").strip(" ")
    if text and not _TYPE.match(text):
        raise ValueError(f"{text[:40]!r} is not an appointment type (like checkup or hygiene)")
    return text.lower()


@dataclass(frozen=True)
class Rule:
    """'SMS 2 days before at 10:00' or 'email 7 days before': one reminder per appointment version.

    `at` set: the day `days` before the appointment's (practice-local) day, at that local time.
    `at` unset: exactly `days` and `hours` before the appointment's start.
    Empty `provider_id` / `location` / `appointment_type`: every appointment; set, only those with it.
    """

    id: str
    channel: str
    days: int
    template: str
    at: time | None = None
    hours: int = 0
    provider_id: str = ""
    location: str = ""
    appointment_type: str = ""

    def applies(self, provider_id: str, location: str, appointment_type: str = "") -> bool:
        return (not self.provider_id or self.provider_id == provider_id) and (
            not self.location or self.location == location) and (
            not self.appointment_type or self.appointment_type == appointment_type)

    def describe(self) -> str:
        lead = f"{self.days} day{'s' if self.days != 1 else ''}"
        if self.at is None and self.hours:
            lead += f" {self.hours} hour{'s' if self.hours != 1 else ''}"
        when = f"{lead} before" + (f" at {self.at:%H:%M}" if self.at is not None else "")
        only = [x for x in (self.appointment_type and f"{self.appointment_type} appointments",
                            self.provider_id and f"provider {self.provider_id}",
                            self.location and f"at {self.location}") if x]
        return f"{self.channel.upper() if self.channel == 'sms' else self.channel} {when}" + (
            f" ({', '.join(only)})" if only else "")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "days": self.days, "hours": self.hours,
                "at": "" if self.at is None else f"{self.at:%H:%M}", "template": self.template,
                "provider_id": self.provider_id, "location": self.location,
                "appointment_type": self.appointment_type, "describe": self.describe()}


def _int(value: Any, name: str, low: int, high: int, problems: list[Problem]) -> int:
    try:
        text = "0" if value in (None, "") else str(value)
        if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,3}", text):
            raise ValueError
        n = int(text)
        if not low <= n <= high:
            raise ValueError
        return n
    except ValueError:
        problems.append(Problem(None, name, f"{str(value)[:40]!r} is not a whole number from {low} to {high}"))
        return 0


def parse_rule(fields: Mapping[str, Any]) -> Rule:
    """What a person typed (or a stored record) -> a Rule, or InputInvalid naming every bad field."""
    problems: list[Problem] = []
    raw = {k: "" if fields.get(k) is None else str(fields.get(k))
           for k in ("id", "channel", "template", "at", "provider_id", "location", "appointment_type")}
    text = {k: v.strip(" ") for k, v in raw.items()}
    for k, v in raw.items():  # before any stripping: a trailing NEL or U+2029 is refused, not trimmed
        if any(ord(ch) < 32 or ord(ch) == 127 or ch in "\u0085\u2028\u2029" for ch in v) or len(v) > 64:
            problems.append(Problem(None, k, "has a line break or control character, or is too long"))
    if not _RULE_ID.match(text["id"]):
        problems.append(Problem(None, "id", f"{text['id'][:40]!r} is not a rule id (letters, digits, _ -)"))
    channel = text["channel"].lower()
    if channel not in CHANNELS:
        problems.append(Problem(None, "channel", f"{text['channel'][:40]!r} is not email or sms"))
    if not _TEMPLATE.match(text["template"]):
        problems.append(Problem(None, "template", f"{text['template'][:40]!r} is not a template code"))
    days = _int(fields.get("days", 0), "days", 0, MAX_DAYS, problems)
    hours = _int(fields.get("hours", 0), "hours", 0, 23, problems)
    at = None
    if text["at"]:
        m = _AT.match(text["at"])
        if not m:
            problems.append(Problem(None, "at", f"{text['at'][:40]!r} is not a time like 10:00"))
        else:
            at = time(int(m.group(1)), int(m.group(2)))
    if at is not None and hours:
        problems.append(Problem(None, "hours", "give hours before, or a time of day, not both"))
    if at is None and days == 0 and hours == 0:
        problems.append(Problem(None, "days", "a reminder 0 hours before the appointment is no reminder"))
    kind = ""
    try:
        kind = appointment_type(text["appointment_type"])
    except ValueError as exc:
        problems.append(Problem(None, "appointment_type", str(exc)))
    if problems:
        raise InputInvalid("the reminder rule is not valid", problems,
                           hint="Correct the fields named; see `reminders rules add --help`.")
    return Rule(text["id"], channel, days, text["template"], at, hours, text["provider_id"], text["location"], kind)


def reminder_time(rule: Rule, start: datetime, tz: tzinfo) -> datetime:
    """When the rule's reminder for an appointment starting at `start` goes (aware, UTC).

    With a time of day the wall clock is the practice's, so it is 10:00 on either side of a
    daylight-saving change (a time that does not exist that day is read as the zone says)."""
    if rule.at is None:
        return (start - timedelta(days=rule.days, hours=rule.hours)).astimezone(start.tzinfo)
    day = start.astimezone(tz).date() - timedelta(days=rule.days)
    return datetime.combine(day, rule.at, tzinfo=tz).astimezone(start.tzinfo)


def reminder_key(appointment_id: str, version: int, rule_id: str) -> str:
    return f"{appointment_id}:{version}:{REMINDER}:{rule_id}"


@dataclass(frozen=True)
class Slot:
    """What the reminder rules need of an appointment version."""

    appointment_id: str
    version: int
    start: datetime
    provider_id: str = ""
    location: str = ""
    appointment_type: str = ""


@dataclass(frozen=True)
class TooLate:
    """A rule that applies to an appointment version but whose reminder will not go: its time
    had passed when the slot was booked or moved to. Reception is told, never left to wonder."""

    rule: Rule
    at: datetime  # when the reminder would have gone
    past: bool  # the appointment itself had started (else: booked inside the rule's lead time)

    def words(self, tz: tzinfo) -> str:
        """One line in the practice's words, times in the practice's zone."""
        why = ("the appointment time has already passed" if self.past else
               f"it would have gone {self.at.astimezone(tz):%a %d %b %H:%M}, before the appointment was booked for this time")
        return f"Reminder rule {self.rule.id} ({self.rule.describe()}) will not send for this appointment: {why}."


def too_late(slot: Slot, now: datetime, rules: Iterable[Rule], tz: tzinfo) -> list[TooLate]:
    """The applying rules whose reminder for this slot is skipped at `now` (the planner's own test)."""
    out = []
    for rule in rules:
        if rule.applies(slot.provider_id, slot.location, slot.appointment_type):
            at = reminder_time(rule, slot.start, tz)
            if at <= now or at >= slot.start:
                out.append(TooLate(rule, at, slot.start <= now))
    return out


def plan_reminders(event: str, slot: Slot, existing: Iterable[Existing], now: datetime, rules: Iterable[Rule],
                   tz: tzinfo) -> Plan:
    """booked/moved: one reminder per applying rule for this version (none whose time has passed,
    none at or after the start); moved/cancelled: every reminder not yet sent is dropped."""
    existing = list(existing)
    p = Plan()
    if event in ("moved", "cancelled"):
        p.drop = [e.rid for e in existing if e.kind == REMINDER and e.status in NOT_YET_SENT]
    if event not in ("booked", "moved"):
        return p
    keys = {e.key for e in existing if e.key}
    rules = list(rules)
    late = {x.rule.id for x in too_late(slot, now, rules, tz)}  # skipped, never sent late (too_late says why)
    for rule in rules:
        if not rule.applies(slot.provider_id, slot.location, slot.appointment_type) or rule.id in late:
            continue
        at = reminder_time(rule, slot.start, tz)
        k = reminder_key(slot.appointment_id, slot.version, rule.id)
        if k not in keys:
            p.queue.append(Queue(REMINDER, slot.version, at, k, rule.id))
    return p
