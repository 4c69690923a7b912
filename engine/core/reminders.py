"""Appointment mail: what to queue and what to drop when an appointment changes. Pure.

A receptionist may try three slots before the patient says yes. Confirmations
are held for the configured delay, so only the final slot's goes out:

- booked (version v): queue a confirmation for v, held until now + delay.
- moved (to version v): drop every confirmation not yet sent; queue one for v
  (an update, with a higher SEQUENCE, when an earlier one already went out).
- cancelled: drop every confirmation not yet sent; if one did go out (or may
  be going out now), queue a cancellation; if none did, send nothing.

Exactly one item per (appointment, version, kind): the idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

CONFIRMATION, CANCELLATION, WELCOME = "confirmation", "cancellation", "welcome"
NOT_YET_SENT = ("draft", "ready")
WENT_OR_GOING = ("sent", "sending")


@dataclass(frozen=True)
class Existing:
    """An outbox item about this appointment, as far as the rules care."""

    rid: int
    kind: str
    version: int
    status: str


@dataclass(frozen=True)
class Queue:
    kind: str
    version: int
    deliver_after: datetime
    key: str


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
