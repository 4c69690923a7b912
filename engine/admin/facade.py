"""What runbooks may use: `admin`, a facade over the process's App (engine/service/app.py).

The admin reads through the App it is given and builds no service object of its own: in the
kiosk it is the kiosk's App (the one worker, the one outbox); for a runbook or an export on a
folder another process holds, a reader App, which refuses actions before trying them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from engine.core import pacing, schedule
from engine.core.outbox import State as OutboxState
from engine.service.app import RID, App
from engine.service.engine import Engine
from engine.service.practice import Practice

FAILED_SHOWN = 50


class Admin:
    def __init__(self, app: App) -> None:
        """Over the process's App: the kiosk's, or the command line's (a reader's refuses actions)."""
        self.app = app

    @property
    def practice(self) -> Practice:
        return self.app.practice

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    # -- reading --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        st = self.app.heartbeat.status(self.now())
        return {"state": st["state"], "reason": st.get("reason", ""), "hint": st.get("hint", ""),
                "last heartbeat": st.get("at") or "never",
                "last send": (st.get("last_send") or {}).get("at", "never"),
                "last check": (st.get("last_receive") or {}).get("at", "never")}

    def history(self) -> list[dict[str, Any]]:
        return list(reversed((self.app.heartbeat.record() or {}).get("history", [])))[:100]

    def last_errors(self) -> list[dict[str, Any]]:
        return [h for h in self.history() if h.get("event") == "error"][:20]

    def outbox_counts(self) -> dict[str, int]:
        return self.app.outbox.counts()

    def failed_items(self) -> list[dict[str, Any]]:
        items = self.app.outbox.in_state(OutboxState.FAILED)[:FAILED_SHOWN]
        return [{"id": r[RID], "to": ", ".join(r["to"]), "subject": r["subject"], "code": r.get("last_code"),
                 "server said": r.get("last_error", ""), "what to do": r.get("last_hint", "")} for r in items]

    def failure_summary(self) -> list[dict[str, Any]]:
        """Failed items grouped by the server's reason: '552 message too large: 3 items'."""
        groups: dict[str, int] = {}
        for r in self.app.outbox.in_state(OutboxState.FAILED):
            key = f"{r.get('last_code') or ''} {r.get('last_error', '')}".strip()
            groups[key] = groups.get(key, 0) + 1
        return [{"reason": k, "items": n} for k, n in sorted(groups.items(), key=lambda kv: -kv[1])]

    def sync_state(self) -> list[dict[str, Any]]:
        return self.app.inbox.sync_state()

    def unreadable_messages(self) -> list[dict[str, Any]]:
        rows = self.app.inbox.messages.find(lambda r: bool(r.get("unreadable")) or bool(r.get("problems")))
        return [{"id": r[RID], "from": r["from"], "received": r["received"], "problems": ", ".join(r["problems"])}
                for r in rows][:50]

    def settings(self) -> dict[str, Any]:
        return self.practice.settings.values()

    def config_problems(self) -> list[dict[str, Any]]:
        return [{"key": p.column, "problem": p.message} for p in self.practice.settings.check()]

    def preview(self, hours: int = 24) -> list[dict[str, Any]]:
        return [x.as_dict() for x in self.app.reminders.preview(self.now(), hours)]

    def timeline(self, hours: int = 24) -> str:
        """A picture of the next hours, one character per 15 minutes: '=' inside a period,
        '.' outside, 'c' a mail check, 'S' sends (with how many below). Drawn from the schedule
        rule's plan, the one the worker follows; items that wait for Send/Receive (or for periods
        to be set) are counted under the picture, never drawn as if something ran then."""
        s = self.practice.settings.snapshot().schedule
        now = self.now()
        start = now.astimezone(s.tz).replace(minute=0, second=0, microsecond=0)
        slots = hours * 4
        marks = ["=" if pacing.in_period(start + timedelta(minutes=15 * i), s.tz, s.periods) else "."
                 for i in range(slots)]
        counts = [0] * slots
        steps = schedule.plan(s, now, self.engine.outbox.due_facts(), self.engine.heartbeat.recent_sends(),
                              now + timedelta(hours=hours), self.engine.heartbeat.recent_texts())
        for step in steps:
            i = int((step.at.astimezone(s.tz) - start).total_seconds() // 900)
            if not 0 <= i < slots:
                continue
            if step.what == schedule.SEND:
                counts[i] += 1
                marks[i] = "S"
            elif step.what == schedule.CHECK and marks[i] != "S":
                marks[i] = "c"
        ruler = "".join(f"{(start + timedelta(hours=h)).hour:02d}  " for h in range(hours))
        sends = "".join(str(min(c, 9)) if c else " " for c in counts)
        waiting = sum(1 for step in steps if step.what in (schedule.WAITS, schedule.NEVER))
        why = "automatic sending is off" if not s.automatic else "no periods are set"
        held = f"\n{waiting} item(s) wait for Send/Receive ({why})" if waiting else ""
        return (f"{ruler}\n{''.join(marks)}\n{sends}\n"
                "= period (automatic work allowed)   . outside   c check for mail   S sends (count below, 9 = 9+)"
                + held)

    def test_credentials(self) -> dict[str, Any]:
        return self.app.test_credentials()

    def log_excerpt(self, lines: int = 80) -> str:
        path = self.practice.folder / "logs" / "practicemail.log"
        if not path.exists():
            return "(no log yet)"
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])

    # -- actions (only in [action] cells) ---------------------------------------------
    def reset_failed(self) -> int:
        return len(self.app.reset_failed([]))

    def restart_service(self) -> str:
        if not self.app.running:
            return "the email service does not run in this process; restart it where it runs (kiosk or serve)"
        self.app.restart()
        return "the email service was restarted"

    def send_receive(self) -> dict[str, Any]:
        return self.app.send_receive_now()
