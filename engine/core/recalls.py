"""Recalls: who is due for a check-up or a hygiene visit, and when each message goes. Pure.

A recall is (patient, type, interval, due date): imported from the practice system's CSV or
derived from the patient's last appointment of that type plus the interval. A recall run
sends ONE message per patient (a patient due for two types gets one), and family members due
together who share an address get one message between them. Messages are staggered: each
gets a deliver-after time inside the periods, spaced so that no 60 minutes ever hold more
than `per_hour` of them (spacing = 3600 s / N, rounded up: N+1 messages never fit in an hour).

Each recall sent carries its send key (patient, type, due date); a message's keys are stored
on its outbox item, so a rerun (after a crash, or by mistake) skips every recall already
queued: each patient is sent exactly once.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from engine.core import pacing
from engine.core.periods import Period
from engine.errors import Problem

COLUMNS = ("patient_id", "type", "interval_months", "due_date")
REQUIRED = ("patient_id", "type", "interval_months")
STATUSES = ("due", "sent", "booked")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_BAD = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Recall:
    patient_id: str
    type: str
    interval_months: int
    due: date
    status: str = "due"

    @property
    def key(self) -> str:
        """One recall per patient per type."""
        return f"{self.patient_id}:{self.type}"

    @property
    def send_key(self) -> str:
        """What a run remembers it sent: this patient, this type, this due date."""
        return f"recall:{self.patient_id}:{self.type}:{self.due.isoformat()}"

    def as_dict(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id, "type": self.type, "interval_months": self.interval_months,
                "due": self.due.isoformat(), "status": self.status}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Recall":
        return cls(d["patient_id"], d["type"], int(d["interval_months"]), date.fromisoformat(d["due"]),
                   d.get("status", "due"))


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validate_row(row: Mapping[str, Any], n: int | None, patients: frozenset[str],
                 derived_due: Mapping[tuple[str, str], date]) -> tuple[Recall | None, list[Problem]]:
    """One CSV row -> a Recall, or its problems. An empty due_date is derived from the last
    appointment of that type (`derived_due`, already plus nothing: the interval is added here)."""
    problems: list[Problem] = []
    raw = {c: "" if row.get(c) is None else str(row.get(c)) for c in COLUMNS}
    for c, v in raw.items():
        if _BAD.search(v) or len(v) > 64:
            problems.append(Problem(n, c, "has a control, line-break or direction character, or is too long"))
    v = {c: x.strip() for c, x in raw.items()}
    if not v["patient_id"]:
        problems.append(Problem(n, "patient_id", "is empty but required"))
    elif v["patient_id"] not in patients:
        problems.append(Problem(n, "patient_id", f"no patient with id {v['patient_id'][:40]!r}"))
    kind = v["type"].lower()
    if not _TYPE.match(kind):
        problems.append(Problem(n, "type", f"{v['type'][:40]!r} is not a recall type (like checkup or hygiene)"))
    months = 0
    if not re.fullmatch(r"[0-9]{1,3}", v["interval_months"]) or not 1 <= int(v["interval_months"]) <= 120:
        problems.append(Problem(n, "interval_months", f"{v['interval_months'][:40]!r} is not 1 to 120 months"))
    else:
        months = int(v["interval_months"])
    due: date | None = None
    if v["due_date"]:
        try:
            due = date.fromisoformat(v["due_date"])
        except ValueError:
            problems.append(Problem(n, "due_date", f"{v['due_date'][:40]!r} is not a date like 2027-03-01"))
    elif not problems:
        last = derived_due.get((v["patient_id"], kind))
        if last is None:
            problems.append(Problem(n, "due_date", f"is empty and the patient has no earlier {kind} appointment"))
        else:
            due = add_months(last, months)
    if problems or due is None:
        return None, problems
    return Recall(v["patient_id"], kind, months, due), []


@dataclass(frozen=True)
class Due:
    """A patient due in this run, as the grouping needs them."""

    patient_id: str
    family_id: str
    address: str  # where the message goes; "" when the patient has none
    send_keys: tuple[str, ...]


@dataclass(frozen=True)
class Planned:
    patient_ids: tuple[str, ...]
    address: str
    send_keys: tuple[str, ...]
    deliver_after: datetime

    @property
    def key(self) -> str:
        return "recall-run:" + ",".join(sorted(self.send_keys))


@dataclass
class RunPlan:
    messages: list[Planned] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # patients whose recall a run already queued


def group(dues: Iterable[Due]) -> tuple[list[list[Due]], list[str]]:
    """One group per patient; family members sharing one address together. Patients without
    an address are listed, never silently skipped."""
    groups: dict[tuple[str, ...], list[Due]] = {}
    missing: list[str] = []
    for d in dues:
        if not d.address:
            missing.append(d.patient_id)
            continue
        k = ("family", d.family_id, d.address.lower()) if d.family_id else ("patient", d.patient_id)
        groups.setdefault(k, []).append(d)
    return list(groups.values()), missing


def spacing(per_hour: int) -> timedelta:
    return timedelta(microseconds=math.ceil(3_600_000_000 / per_hour))


def stagger(count: int, start: datetime, per_hour: int, tz: tzinfo, periods: Sequence[Period]) -> list[datetime]:
    """`count` deliver-after times from `start`, inside the periods, never more than `per_hour`
    in any 60 minutes. With no periods set the times still follow the spacing."""
    gap = spacing(per_hour)
    times: list[datetime] = []
    t = start
    for _ in range(count):
        t = pacing.next_period_start(t, tz, periods) or t
        times.append(t)
        t = t + gap
    return times


def plan_run(dues: Sequence[Due], already_sent: frozenset[str], start: datetime, per_hour: int, tz: tzinfo,
             periods: Sequence[Period], last_planned: datetime | None = None) -> RunPlan:
    """The whole run: who gets what, when. `already_sent`: send keys earlier runs queued;
    `last_planned`: the latest deliver-after still waiting from earlier runs (the stagger
    continues after it, so two runs together still keep to `per_hour`)."""
    plan = RunPlan()
    fresh: list[Due] = []
    for d in dues:
        if set(d.send_keys) & already_sent:
            plan.already.append(d.patient_id)
        else:
            fresh.append(d)
    groups, plan.no_address = group(fresh)
    if last_planned is not None:
        start = max(start, last_planned + spacing(per_hour))
    for people, at in zip(groups, stagger(len(groups), start, per_hour, tz, periods)):
        plan.messages.append(Planned(tuple(p.patient_id for p in people), people[0].address,
                                     tuple(k for p in people for k in p.send_keys), at))
    return plan


def busiest_hour(times: Iterable[datetime]) -> int:
    """The most deliver-after times in any 60 minutes (half-open windows): for tests and benches."""
    ts = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - timedelta(hours=1):
            lo += 1
        best = max(best, hi - lo + 1)
    return best
