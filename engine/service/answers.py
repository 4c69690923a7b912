"""Messages that answer something we sent (a bounce, a calendar answer): what intake files
and records for them. Each reader (engine/service/bounces.py, calendar_answers.py) has
`take(raw, facts, now) -> Taken | None`; engine/service/inbox.py asks them in turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.core import filing


@dataclass(frozen=True)
class Taken:
    """An incoming message that answers something we sent: how it is filed and what it records."""

    decision: filing.Decision
    fields: dict[str, Any] = field(default_factory=dict)
    timeline: tuple[dict[str, str], ...] = ()
