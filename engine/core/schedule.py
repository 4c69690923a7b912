"""The one schedule rule: what automatic work happens next, and when.

The worker asks it when to wake, whether it may work now, and before every automatic send;
`reminders preview`, the wizard's "Tomorrow" and the schedule runbook ask it for the plan of
the next hours. Because they ask the same rule with the same facts, the preview promises what
the worker does (tests/integration/test_schedule_engine.py holds them to it on the real worker).

Pure: no clock and no I/O. The facts come in as arguments: the typed settings snapshot
(`ScheduleSettings`), the outbox's due facts (`Due`, one per ready item), the sends pacing
counts, and the moment of the last mail check.

    email   paced (engine/core/pacing.py), inside a period, in (due time, id) order
    sms     paced by sms.per_minute (the same rule, counting texts only), inside a period and
            outside the quiet hours, in (due time, id) order
    check   every N minutes and at the check times, inside a period (a check time outside
            every period is caught up when the next one opens)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.core import pacing
from engine.core.outbox import due_at
from engine.core.settings_snapshot import ScheduleSettings
from engine.core.sms import in_quiet_hours, quiet_ends

EMAIL, SMS = "email", "sms"
SEND, CHECK, WAITS, NEVER = "send", "check", "waits for Send/Receive", "never (no periods set)"


@dataclass(frozen=True)
class Due:
    """One ready outbox item, as far as the schedule cares."""

    id: int
    channel: str  # EMAIL or SMS: texts go through the SMS provider, paced apart from emails
    at: datetime  # its deliver_after, or later while it waits out a retry's backoff

    @classmethod
    def of(cls, rid: int, record: Mapping[str, Any]) -> Due:
        return cls(rid, SMS if record.get("kind") == SMS else EMAIL, due_at(record))


@dataclass(frozen=True)
class Step:
    """One thing the service will do: a send (of item `id`), a mail check, or an item that waits."""

    at: datetime
    what: str  # SEND, CHECK, WAITS, NEVER
    id: int | None = None
    channel: str = ""
    note: str = ""  # a check's: "every 15 minutes until 18:00", "at 12:30"


def in_order(due: Sequence[Due]) -> list[Due]:
    """The worker's order: due time, then id."""
    return sorted(due, key=lambda d: (d.at, d.id))


def may_work(s: ScheduleSettings, now: datetime) -> bool:
    """Automatic work (sending, checking) runs only in automatic mode and inside a period."""
    return s.automatic and pacing.in_period(now, s.tz, s.periods)


def email_slot(s: ScheduleSettings, now: datetime, recent_sends: Sequence[datetime]) -> datetime | None:
    """When the next automatic email may go (None: no period, ever)."""
    return pacing.next_automatic_slot(now, recent_sends, s.per_minute, s.tz, s.periods)


def text_slot(s: ScheduleSettings, now: datetime, recent_texts: Sequence[datetime]) -> datetime | None:
    """When the next automatic text may go: paced by sms.per_minute against the texts alone (the
    emails' pacing never holds one back), then inside a period and outside the quiet hours.
    Pacing only says "not before", so a paced instant moved on to an opening is still paced."""
    return text_at(s, pacing.next_automatic_send(now, recent_texts, s.sms_per_minute))


def plan_texts(s: ScheduleSettings, now: datetime, texts: Sequence[Due], recent_texts: Sequence[datetime],
               until: datetime | None = None) -> list[tuple[int, datetime]]:
    """When each text will go, in the worker's order, each counted for the next one's pacing."""
    sends = list(recent_texts)
    out: list[tuple[int, datetime]] = []
    for d in in_order(texts):
        at = text_slot(s, max(now, d.at), sends)
        if at is None or (until is not None and at > until):
            break
        sends.append(at)
        out.append((d.id, at))
    return out


def text_at(s: ScheduleSettings, at: datetime) -> datetime | None:
    """When a text due at `at` goes: the first moment inside a period and outside the quiet hours."""
    for _ in range(16):  # each round moves past a closed period or a quiet stretch
        opens = pacing.next_period_start(at, s.tz, s.periods)
        if opens is None:
            return None
        if not in_quiet_hours(opens, s.tz, s.quiet_hours):
            return opens
        at = quiet_ends(opens, s.tz, s.quiet_hours)
    return None


def next_check(s: ScheduleSettings, now: datetime, last_check: datetime | None) -> datetime | None:
    """When mail is next due to be checked (every N minutes and/or at check times), periods aside."""
    if not s.receiving:
        return None
    candidates = []
    if s.check_every:
        candidates.append(now if last_check is None else last_check + s.check_every)
    if s.check_times:
        local = now.astimezone(s.tz)
        last = last_check.astimezone(s.tz) if last_check else None
        for day in (local.date(), local.date() + timedelta(days=1)):
            for t in s.check_times:
                at = datetime.combine(day, t, tzinfo=s.tz)
                if last is None or at > last:
                    candidates.append(at)
                    break
    return min(candidates) if candidates else None


def check_due(s: ScheduleSettings, now: datetime, last_check: datetime | None) -> bool:
    check = next_check(s, now, last_check)
    return check is not None and check <= now


def next_wake(s: ScheduleSettings, now: datetime, due: Sequence[Due], recent_sends: Sequence[datetime],
              last_check: datetime | None, blocked_until: datetime | None = None,
              recent_texts: Sequence[datetime] = ()) -> datetime | None:
    """The next instant automatic work may have something to do (None: nothing ever, until a change).

    Inside a period: the first email's paced slot (held while the account is blocked), the first
    text's paced moment, the period's close and the next check. Outside: the next period's opening."""
    if not s.automatic or not s.periods:
        return None
    opens = pacing.next_period_start(now, s.tz, s.periods)
    candidates = [blocked_until] if blocked_until else []
    if opens is not None and opens > now:
        candidates.append(opens)
    elif opens is not None:
        ordered = in_order(due)
        email = next((d for d in ordered if d.channel == EMAIL), None)
        if email is not None:
            slot = email_slot(s, max(email.at, now, blocked_until or now), recent_sends)
            candidates.append(slot)
        candidates.extend(at for _, at in plan_texts(s, now, [d for d in ordered if d.channel == SMS],
                                                      recent_texts)[:1])
        candidates.append(pacing.period_end(now, s.tz, s.periods))
    check = next_check(s, now, last_check)
    if check is not None:
        candidates.append(max(check, opens or check))
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def plan(s: ScheduleSettings, now: datetime, due: Sequence[Due], recent_sends: Sequence[datetime],
         until: datetime, recent_texts: Sequence[datetime] = ()) -> list[Step]:
    """Everything that will happen up to `until`, soonest first: each send, and the mail checks."""
    ordered = in_order(due)
    if not s.automatic:
        steps = [Step(max(d.at, now), WAITS, d.id, d.channel) for d in ordered]
    elif not s.periods:
        steps = [Step(max(d.at, now), NEVER, d.id, d.channel) for d in ordered]
    else:
        emails = [(d.id, d.at) for d in ordered if d.channel == EMAIL]
        steps = [Step(at, SEND, rid, EMAIL) for rid, at in
                 pacing.plan_automatic_sends(now, emails, recent_sends, s.per_minute, s.tz, s.periods, until=until)]
        texts = [d for d in ordered if d.channel == SMS]
        steps.extend(Step(at, SEND, rid, SMS) for rid, at in plan_texts(s, now, texts, recent_texts, until))
        steps.extend(_checks(s, now, until))
    return sorted(steps, key=lambda x: (x.at, x.what != CHECK, x.id or 0))


def _checks(s: ScheduleSettings, now: datetime, until: datetime) -> list[Step]:
    """The mail checks up to `until`: one line per stretch of a period for "every N minutes" (not
    one per check), and one per check time; a check time outside every period shows at the next
    opening, when the worker catches it up."""
    if not s.receiving:
        return []
    steps: list[Step] = []
    t = now
    while s.check_every and t <= until:
        opens = pacing.next_period_start(t, s.tz, s.periods)
        if opens is None or opens > until:
            break
        closes = pacing.period_end(opens, s.tz, s.periods) or until
        minutes = int(s.check_every.total_seconds() // 60)
        steps.append(Step(opens, CHECK, note=f"every {minutes} minutes until {closes.astimezone(s.tz):%H:%M}"))
        t = closes + timedelta(minutes=1)
    seen: set[datetime] = set()
    local = now.astimezone(s.tz)
    for day in range(0, int((until - now).total_seconds() // 86400) + 2):
        for ct in s.check_times:
            at = pacing.next_period_start(datetime.combine((local + timedelta(days=day)).date(), ct, tzinfo=s.tz),
                                          s.tz, s.periods)
            if at is None or not now <= at <= until or at in seen:
                continue
            seen.add(at)
            late = "" if at.astimezone(s.tz).time().replace(tzinfo=None) == ct else " (when the period opens)"
            if late and s.check_every:
                continue  # the opening's own check, already a line
            steps.append(Step(at, CHECK, note=f"at {ct:%H:%M}{late}"))
    return steps
