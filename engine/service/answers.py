"""Messages that answer something we sent (a bounce, a calendar answer): what intake files
and records for them. Each reader (engine/service/bounces.py, calendar_answers.py) has
`take(raw, facts, now) -> Taken | None`; intake (engine/service/inbox_shelf.py) asks them in
turn and writes what they return into the message record (engine/service/inbox_records.py),
so the readers never shape a message record themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.core import filing


@dataclass(frozen=True)
class Taken:
    """An incoming message that answers something we sent: how it is filed and what it records
    (a bounce's or a calendar answer's findings, and its timeline lines)."""

    decision: filing.Decision
    bounce: dict[str, Any] | None = None
    calendar_answer: dict[str, Any] | None = None
    timeline: tuple[dict[str, str], ...] = ()
