"""The Engine's send passes: one SMTP session per pass, items claimed in batches, each automatic
send paced by the schedule rule the moment before it goes, and the account's state (blocked
for a while after it failed) kept from one pass to the next.

A part of `Engine` (engine/service/engine.py), split off by topic to keep each module small;
it reads the engine's clock, outbox, heartbeat, wake and stop events and the pacing memory,
all set up in `Engine.__init__`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.adapters.smtp import SmtpSession, SmtpSettings
from engine.core import pacing, schedule
from engine.errors import PracticeMailError
from engine.service.outbox import SendReport

if TYPE_CHECKING:
    from engine.core.settings_snapshot import ScheduleSettings
    from engine.service.heartbeat import Heartbeat
    from engine.service.outbox import Outbox
    from engine.service.practice import Practice

log = logging.getLogger("practicemail.service")
ACCOUNT_RETRY = timedelta(minutes=5)
BATCH = 1000  # items claimed at once: a crash releases those not yet started
FOLD_BEFORE_REST = timedelta(seconds=1)  # a paced rest at least this long folds the sends so far first
PACING_MEMORY = timedelta(seconds=120)  # sends older than this never hold a send back


class SendPasses:
    practice: Practice
    clock: Any
    outbox: Outbox
    heartbeat: Heartbeat
    _wake: threading.Event
    _stopping: threading.Event
    _session: SmtpSession | None
    _session_lock: threading.Lock
    _recent_sends: list[datetime]
    _recent_texts: list[datetime]
    _account_blocked_until: datetime | None
    _next_heartbeat: datetime | None
    _next_prompt: datetime | None
    _last_check: datetime | None
    _emit: Callable[[str, dict[str, Any]], None]
    _beat: Callable[[str], None]
    _ask_due_prompts: Callable[[], None]
    smtp_settings: Callable[[], SmtpSettings]
    _direction_ok: Callable[[str], None]
    _direction_failed: Callable[[str, PracticeMailError], None]

    def _settle_stuck(self, stuck: list[int]) -> None:
        """Items in `sending` that this worker is not sending (between passes it sends nothing):
        a pass left them there when its end-of-pass save failed (a full disk, say). The crash
        recovery's in-flight rule settles them (Outbox.recover): outcomes in the journal folded in,
        so nothing the server took goes twice; one attempted with no outcome flagged and sent once
        more; the rest back to ready. A save that fails again raises: the loop backs off, amber,
        with the reason, instead of planning them as due now and waking for them without end."""
        log.warning("outbox item(s) %s were left in sending; settling them from the journal",
                    ", ".join(map(str, stuck)))
        flagged = self.outbox.recover(self.clock.now())
        if flagged:
            self.heartbeat.note_error(self.clock.now(), "recovery",
                                      f"{len(flagged)} item(s) were mid-send when a save failed and will be "
                                      "sent again", "Nothing to do; a patient may get one message twice.",
                                      failing=False)

    def _probe_account(self) -> SendReport:
        """Nothing to send but the account was failing: a connect-and-login tells whether it is fixed."""
        report = SendReport()
        try:
            with SmtpSession(self.smtp_settings()):
                pass
        except PracticeMailError as exc:
            report.account_error = exc
            self._account_failed(exc)
        else:
            self._account_ok()
        return report

    def _pace(self, manual: bool, session: SmtpSession) -> Callable[[], bool]:
        """Called before each send of a pass: True to send now, False to end the pass here.

        An automatic send waits for the schedule rule's slot (the rule the preview uses),
        counting every send of this pass the moment it happened. The pass ends rather than
        wait past the period's close or the next mail check, and as soon as a command or a
        settings change arrives (the loop takes it; the items not sent go back to ready).
        """
        s = self.practice.settings.snapshot().schedule
        closes: datetime | None = None  # the open period's end, found once (it walks minute by minute)

        def before_each() -> bool:
            nonlocal closes
            while not self._stopping.is_set():
                if manual:
                    return True
                now = self.clock.now()
                self._recent_sends = [t for t in self._recent_sends if now - t < PACING_MEMORY]
                slot = schedule.email_slot(s, now, self._recent_sends)
                if closes is None or now >= closes:
                    closes = pacing.period_end(now, s.tz, s.periods)
                if slot is None or closes is None or slot >= closes:
                    return False  # the period is over: the rest waits for the next one
                if slot <= now:
                    return True
                check = schedule.next_check(s, now, self._last_check)
                if check is not None and check <= slot:
                    return False  # receiving is due first
                text = self._next_text(s, now)
                if text is not None and text <= slot:
                    return False  # a text is due first: texts are paced apart, emails never hold them
                if not self._rest_until(slot, session):
                    return False
            return False

        return before_each

    def _next_text(self, s: ScheduleSettings, now: datetime) -> datetime | None:
        """The next automatic text's paced moment (its own pacing, sms.per_minute)."""
        texts = [d for d in self.outbox.due_facts() if d.channel == schedule.SMS]
        first = schedule.plan_texts(s, now, texts, self._recent_texts)[:1]
        return first[0][1] if first else None

    def _rest_until(self, slot: datetime, session: SmtpSession) -> bool:
        """Wait for a paced slot inside a pass, beating the heartbeat on the way; False when woken
        (a command or a settings change): the pass ends and the loop takes it.

        Before a rest of a second or more, the sends so far are folded into the records and
        the pacing memory saved: a preview made meanwhile (another process, perhaps) must see
        them as sent, or it would promise them again and the rest of the pass too late."""
        if slot - self.clock.now() >= FOLD_BEFORE_REST:
            self.outbox.fold()
        else:
            self.outbox.sync_journal()  # no outcome waits in a journal's buffer across a rest
        self._save_recent_sends()
        # a confirmation falling due mid-pass is asked about then, not when the pass ends (prompts.py)
        until = min(t for t in (slot, self._next_heartbeat, self._next_prompt) if t is not None)
        if self.clock.wait(self._wake, until):
            return False
        if self._next_heartbeat is not None and self.clock.now() >= self._next_heartbeat:
            self._beat(self.heartbeat.current_state())
        if self._next_prompt is not None and self.clock.now() >= self._next_prompt:
            self._ask_due_prompts()
        if session.connected:
            session.still_open()  # a server may drop a connection left quiet
        return True

    def _sent_one(self, at: datetime) -> None:
        """Every send counts for pacing the moment it happens."""
        self._recent_sends.append(at)

    def _save_recent_sends(self) -> None:
        """What the preview (another process, perhaps) reads as the sends pacing counts."""
        self.heartbeat.save_recent_sends(self._recent_sends[-200:])

    def _send(self, due: list[int], manual: bool) -> SendReport:
        total = SendReport()
        session = SmtpSession(self.smtp_settings())  # one session for the whole pass
        with self._session_lock:
            self._session = session
        try:
            for start in range(0, len(due), BATCH):
                if not self._send_batch(due[start:start + BATCH], session, manual, total):
                    break
        finally:
            with self._session_lock:
                self._session = None
            session.close()
        return total

    def _send_batch(self, batch: list[int], session: SmtpSession, manual: bool, total: SendReport) -> bool:
        """Claim and send one batch; False when the pass must stop (account failure, stopping)."""
        claimed = self.outbox.claim(batch, self.clock.now())
        report = self.outbox.send_claimed(claimed, session, self.clock.now, self._pace(manual, session),
                                          self._sent_one)
        total.sent += report.sent
        total.failed += report.failed
        total.retrying += report.retrying
        total.errors.extend(report.errors)
        self._save_recent_sends()
        if report.sent or report.failed or report.retrying:
            self.heartbeat.note_send(self.clock.now(), report.sent, report.failed + report.retrying,
                                     report.errors[-1] if report.errors else None)
            self._emit("outbox_changed", {"sent": report.sent, "failed": report.failed})
        if report.account_error is not None:
            total.account_error = report.account_error
            self._account_failed(report.account_error)
            return False
        if report.sent:
            self._account_ok()
        return not self._stopping.is_set() and not report.ended_early

    def _account_failed(self, exc: PracticeMailError) -> None:
        self._account_blocked_until = self.clock.now() + ACCOUNT_RETRY
        self._direction_failed("send", exc)

    def _account_ok(self) -> None:
        self._account_blocked_until = None
        self._direction_ok("send")
