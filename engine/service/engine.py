"""The email service: one worker thread that sends (and, with the inbound
engine, receives) at the right times, and a heartbeat that says how it is.

    engine = Engine(practice); engine.start()
    engine.send_receive_now()     # from any thread; returns the pass's report
    engine.stop()                 # returns within a few seconds, whatever the network does

The worker sleeps until the next due thing (an item's deliver_after, a paced
slot, a period opening, a check time, the next heartbeat) and wakes at once on
a command or a settings change. It never touches Qt; listeners get plain calls.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.clock import SystemClock
from engine.adapters.sasl import SignInRequired
from engine.adapters.incoming import IncomingSettings, incoming_mode
from engine.adapters.smtp import SmtpSession, SmtpSettings, tls_mode
from engine.core import pacing
from engine.core import status as status_rules
from engine.core.outbox import Event as OutboxEvent
from engine.core.outbox import State as OutboxState
from engine.core.periods import parse_check_times, parse_periods
from engine.errors import PracticeMailError, ServerTimeout
from engine.service.heartbeat import Heartbeat
from engine.service.inbox import Inbox, ReceiveReport
from engine.service.outbox import Outbox, SendReport
from engine.service import signin
from engine.service.practice import Practice

log = logging.getLogger("practicemail.service")
HEARTBEAT_EVERY = timedelta(seconds=60)
ACCOUNT_RETRY = timedelta(minutes=5)
BATCH = 1000  # items claimed at once: a crash releases those not yet started
QUIET_COLLECT_AFTER = 1000  # messages received in one pass
# a timed-out check for mail: the generic timeout hint speaks of "the message" being tried again
RECEIVE_TIMEOUT_HINT = ("The mail server stopped answering; mail is checked again at the next check time "
                        "(or press Send/Receive). If it keeps happening, call the email provider.")
LOOP_BACKOFF_FIRST = timedelta(seconds=1)  # after an unexpected error in the worker, doubling...
LOOP_BACKOFF_MAX = timedelta(minutes=5)  # ...up to this


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    received: int = 0
    filed: int = 0
    errors: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "received": self.received, "filed": self.filed,
                "errors": self.errors or []}


class Engine:
    def __init__(self, practice: Practice, clock: Any = None) -> None:
        self.practice = practice
        self.clock = clock or SystemClock()
        self.outbox = Outbox(practice.store)
        self.inbox = Inbox.for_practice(practice)
        self.heartbeat = Heartbeat(practice.store, practice.settings)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._commands: queue.Queue[tuple[str, Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._session: SmtpSession | None = None
        self._incoming_session: Any = None
        self._last_check: datetime | None = None
        self._session_lock = threading.Lock()
        self._account_blocked_until: datetime | None = None
        self._recent_sends: list[datetime] = self.heartbeat.recent_sends()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._next_heartbeat: datetime | None = None
        self.smtp_timeout = 30.0
        practice.settings.on_change(self._settings_changed)

    # -- wiring ---------------------------------------------------------------------
    def subscribe(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Called from the worker thread with (event name, details). The kiosk's bridge re-emits as Qt signals."""
        self._listeners.append(listener)

    def _emit(self, name: str, details: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(name, details)
            except Exception:  # noqa: BLE001 - a listener must never stop the engine
                log.exception("an engine listener failed on %s", name)

    def _settings_changed(self, keys: set[str]) -> None:
        if any(k.startswith(("account.", "outgoing.", "tls.")) for k in keys):
            self._account_blocked_until = None
        self._wake.set()

    def smtp_settings(self) -> SmtpSettings:
        s = self.practice.settings
        port = int(s.get("outgoing.port"))
        return SmtpSettings(
            host=s.get("outgoing.host"), port=port, mode=tls_mode(port, bool(s.get("outgoing.starttls")), s.get("outgoing.security")),
            auth=bool(s.get("outgoing.auth")), credentials=signin.credentials(self.practice, "outgoing"),
            ca_file=s.get("tls.ca_file"), local_hostname="practicemail.localhost", timeout=self.smtp_timeout,
        )

    def incoming_settings(self) -> IncomingSettings:
        s = self.practice.settings
        protocol = s.get("incoming.protocol")
        port = int(s.get("incoming.port"))
        return IncomingSettings(
            protocol=protocol, host=s.get("incoming.host"), port=port,
            mode=incoming_mode(protocol, port, s.get("incoming.security")),
            credentials=signin.credentials(self.practice, "incoming"),
            ca_file=s.get("tls.ca_file"), timeout=self.smtp_timeout,
        )

    def test_credentials(self, timeout: float = 10.0) -> dict[str, Any]:
        """The setup test (nothing sent); see engine/service/credentials.py. When its server
        steps pass, the account counts as tested (the light leaves "not set up"); and when it
        runs beside this running service, it is also each direction's latest outcome."""
        from engine.service import credentials

        s = self.practice.settings
        incoming = self.incoming_settings() if s.get("incoming.enabled") else None
        result = credentials.run(self.smtp_settings(), incoming, s.get("practice.email"), self.heartbeat.record(),
                                 self.clock.now(), timeout)
        if result["ok"] and self.practice.writer:
            self.heartbeat.note_tested(self.clock.now(), self._account(), "setup test")
            if self.running:
                for direction in ("send", "receive") if incoming is not None else ("send",):
                    self._direction_ok(direction)
        return result

    def receive(self) -> ReceiveReport:
        """One check for new mail (nothing at all when incoming is turned off)."""
        s = self.practice.settings
        if not s.get("incoming.enabled"):
            return ReceiveReport()
        now = self.clock.now()
        settings = self.incoming_settings()

        def remember(box: Any) -> None:
            with self._session_lock:
                self._incoming_session = box

        try:
            if settings.protocol == "imap":
                report = self.inbox.receive_imap(settings, now, remember)
            else:
                report = self.inbox.receive_pop3(settings, now, bool(s.get("incoming.leave_on_server")), remember)
        finally:
            with self._session_lock:
                self._incoming_session = None
        self._last_check = now
        if report.error is None:
            self.heartbeat.note_receive(now, report.received)
            self._direction_ok("receive")
        else:  # connect, login, TLS, timeout, dropped: any of them, amber with the reason
            self._direction_failed("receive", report.error)
        if report.received >= QUIET_COLLECT_AFTER:
            # A large intake leaves many new long-lived objects; collect now, while the worker
            # is about to rest, rather than let a full collection (tens of ms with a big
            # store in memory) land in the middle of a later pass or a kiosk click.
            gc.collect()
        if report.received:
            self._emit("new_mail", {"received": report.received, "filed": report.filed, "flooded": report.flooded,
                                    "ids": report.new_ids})
        return report

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        recovered = self.outbox.recover(self.clock.now())
        if recovered:
            self.heartbeat.note_error(self.clock.now(), "recovery",
                                      f"{len(recovered)} item(s) were mid-send at the last stop and will be sent again",
                                      "Nothing to do; a patient may get one email twice.", failing=False)
        # before the thread starts: status is right the moment start() returns; a direction
        # whose last pass failed stays amber across a restart until a pass works
        self._beat("failing" if self._failing_directions() else "running")
        self._wake.clear()  # changes made before the start are seen by the first pass anyway
        self._thread = threading.Thread(target=self._run, name="practicemail-engine", daemon=True)
        self._thread.start()
        log.info("email service started (pid %d)", os.getpid())

    def stop(self, timeout: float = 5.0) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            # cut any connection the worker is blocked on; again and again, since a connect
            # may be between creating its socket and blocking on it when we first try
            with self._session_lock:
                for session in (self._session, self._incoming_session):
                    if session is not None:
                        session.abort()
            thread.join(0.05)
        self._thread = None
        self.heartbeat.beat(self.clock.now(), "stopped", self.outbox.counts())
        self.outbox.close()
        log.info("email service stopped")

    def restart(self) -> None:
        self.stop()
        self._account_blocked_until = None
        self.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- commands from other threads -------------------------------------------------------
    def send_receive_now(self, timeout: float | None = None) -> dict[str, Any]:
        """One manual pass (no pacing, periods ignored). Runs on the worker when it runs."""
        if not self.running:
            return self._manual_pass().as_dict()
        fut: Future[Any] = Future()
        self._commands.put(("send_receive", fut))
        self._wake.set()
        return fut.result(timeout)

    def wake(self) -> None:
        """Something changed (items queued): look again now rather than at the next heartbeat."""
        self._wake.set()

    # -- the worker -------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = LOOP_BACKOFF_FIRST
        while not self._stopping.is_set():
            try:
                self._drain_commands()
                if self._stopping.is_set():
                    break
                self._automatic_work()
                if self._next_heartbeat is None or self.clock.now() >= self._next_heartbeat:
                    self._beat(self.heartbeat.current_state())
                wake_at = self._next_wake()
            except Exception as exc:  # noqa: BLE001 - the service must survive anything and say so
                wake_at = self._loop_failed(exc, backoff)
                backoff = min(backoff * 2, LOOP_BACKOFF_MAX)
            else:
                if backoff != LOOP_BACKOFF_FIRST:
                    backoff = LOOP_BACKOFF_FIRST
                    self._loop_recovered()
            if self._commands.empty():
                self.clock.wait(self._wake, wake_at)
                self._wake.clear()
        self._drain_commands()

    def _loop_failed(self, exc: Exception, backoff: timedelta) -> datetime:
        """An error nobody foresaw: say so (amber, with the reason) and try again later, each
        time twice as late (1 s up to 5 min), never in a tight loop of tracebacks and logins."""
        log.exception("email service error (trying again in %s)", backoff)
        now = self.clock.now()
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        hint = "The service keeps trying; if this stays, restart it or export diagnostics for support."
        self.heartbeat.note_error(now, "service", message, hint, failing=True)
        self._beat("failing")
        self._emit("service_state", {"state": "failing", "error": message, "hint": hint})
        return now + backoff

    def _loop_recovered(self) -> None:
        if self._account_blocked_until is None and self.heartbeat.current_state() == "failing" \
                and not self._failing_directions():  # a direction still failing keeps the light amber
            self.heartbeat.clear_failing(self.clock.now())
            self._beat("running")
            self._emit("service_state", {"state": "running"})

    def _drain_commands(self) -> None:
        while True:
            try:
                name, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(self._manual_pass().as_dict())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

    def _beat(self, state: str) -> None:
        now = self.clock.now()
        self.heartbeat.beat(now, state, self.outbox.counts())
        self._next_heartbeat = now + HEARTBEAT_EVERY

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.practice.settings.get("practice.timezone"))

    def _per_minute(self) -> int | None:
        s = self.practice.settings
        return int(s.get("pacing.per_minute")) if s.get("pacing.enabled") else None

    def _next_wake(self) -> datetime | None:
        now = self.clock.now()
        candidates = [self._next_heartbeat] if self._next_heartbeat else []
        s = self.practice.settings
        if s.get("schedule.send_immediately"):
            periods = parse_periods(s.get("schedule.periods") or "")
            opens = pacing.next_period_start(now, self._tz(), periods)
            if opens is not None and opens > now:
                candidates.append(opens)
            elif opens is not None:
                waiting = self.outbox.waiting()
                if waiting:  # the first one's paced slot (held while the account is blocked)
                    first = max(waiting[0][1], now, self._account_blocked_until or now)
                    slot = pacing.next_automatic_slot(first, self._recent_sends, self._per_minute(), self._tz(),
                                                      periods)
                    if slot is not None:
                        candidates.append(slot)
                end = pacing.period_end(now, self._tz(), periods)
                if end:
                    candidates.append(end)
            if self._account_blocked_until:
                candidates.append(self._account_blocked_until)
            check = self._next_check(now)
            if check is not None:
                candidates.append(max(check, opens or check))
        return min(candidates) if candidates else None

    def _next_check(self, now: datetime) -> datetime | None:
        """When incoming mail is next due to be checked (every N minutes and/or at check times)."""
        s = self.practice.settings
        if not s.get("incoming.enabled"):
            return None
        candidates = []
        every = s.get("schedule.check_every_minutes")
        if every:
            candidates.append(now if self._last_check is None else self._last_check + timedelta(minutes=int(every)))
        times = parse_check_times(s.get("schedule.check_times") or "")
        if times:
            local = now.astimezone(self._tz())
            last = self._last_check.astimezone(self._tz()) if self._last_check else None
            for day in (local.date(), local.date() + timedelta(days=1)):
                for t in times:
                    at = datetime.combine(day, t, tzinfo=self._tz())
                    if last is None or at > last:
                        candidates.append(at)
                        break
        return min(candidates) if candidates else None

    def _automatic_work(self) -> None:
        s = self.practice.settings
        if not s.get("schedule.send_immediately"):
            return
        now = self.clock.now()
        periods = parse_periods(s.get("schedule.periods") or "")
        if not pacing.in_period(now, self._tz(), periods):
            return
        check = self._next_check(now)
        if check is not None and check <= now:
            self.receive()
        self._send_texts(manual=False)
        if self._account_blocked_until and now < self._account_blocked_until:
            return
        self.resolve_links()
        due = self.outbox.due(now, manual=False)
        if due:
            self._send(due, manual=False)

    def _send_texts(self, manual: bool) -> Any:
        """The SMS hook (issue 18): due text messages go through the SMS provider, beside the
        email pass and never through SMTP; engine/service/sms.py does the work."""
        from engine.service.sms import Texts

        texts = Texts(self.practice, self.outbox)
        try:
            report = texts.send_due(self.clock.now, manual)
            texts.check_provider(self.clock.now(), manual)  # replies and delivery statuses
            return report
        finally:
            texts.close()

    def resolve_links(self) -> None:
        """Items waiting for a booking link: ask the provider (none set: they wait, and say why)."""
        if not self.outbox.count_in(OutboxState.PENDING_LINK):
            return
        url = self.practice.settings.get("booking.provider_url")
        from engine.adapters.booking import HttpLinkProvider
        from engine.service.reminders import Reminders

        reminders = Reminders(self.practice, self.outbox)
        if not url:
            for rid in self.outbox.ids_in(OutboxState.PENDING_LINK):
                self.outbox.apply(rid, OutboxEvent.LINK_FAILED, self.clock.now(),
                                  error="no booking-link provider is set",
                                  hint="Set booking.provider_url, or use a template without a booking link.")
            return
        reminders.resolve_links(HttpLinkProvider(url, timeout=self.smtp_timeout), self.clock.now())

    def _manual_pass(self) -> PassResult:
        self.resolve_links()
        now = self.clock.now()
        due = self.outbox.due(now, manual=True)
        report = self._send(due, manual=True) if due else SendReport()
        texts = self._send_texts(manual=True)
        report.sent, report.failed = report.sent + texts.sent, report.failed + texts.failed
        report.errors.extend(texts.errors)
        if not due and self.heartbeat.current_state() == "failing" and self._account_blocked_until:
            report = self._probe_account()
        result = PassResult(sent=report.sent, failed=report.failed, errors=list(report.errors))
        if report.account_error is not None:
            result.errors = (result.errors or []) + [{"id": None, **_err(report.account_error)}]
        received = self.receive()
        result.received, result.filed = received.received, received.filed
        if received.error is not None:
            result.errors = (result.errors or []) + [{"id": None, **_err(received.error)}]
        return result

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

        An automatic send waits for `pacing.next_automatic_slot` (the rule the preview uses),
        counting every send of this pass the moment it happened. The pass ends rather than
        wait past the period's close or the next mail check, and as soon as a command or a
        settings change arrives (the loop takes it; the items not sent go back to ready).
        """
        per_minute = self._per_minute()
        periods = parse_periods(self.practice.settings.get("schedule.periods") or "")
        tz = self._tz()
        closes: datetime | None = None  # the open period's end, found once (it walks minute by minute)

        def before_each() -> bool:
            nonlocal closes
            while not self._stopping.is_set():
                if manual:
                    return True
                now = self.clock.now()
                self._recent_sends = [t for t in self._recent_sends if now - t < timedelta(seconds=120)]
                slot = pacing.next_automatic_slot(now, self._recent_sends, per_minute, tz, periods)
                if closes is None or now >= closes:
                    closes = pacing.period_end(now, tz, periods)
                if slot is None or closes is None or slot >= closes:
                    return False  # the period is over: the rest waits for the next one
                if slot <= now:
                    return True
                check = self._next_check(now)
                if check is not None and check <= slot:
                    return False  # receiving is due first
                self._save_recent_sends()
                until = min(slot, self._next_heartbeat) if self._next_heartbeat else slot
                if self.clock.wait(self._wake, until):
                    return False
                if self._next_heartbeat is not None and self.clock.now() >= self._next_heartbeat:
                    self._beat(self.heartbeat.current_state())
                if session.connected:
                    session.still_open()  # a server may drop a connection left quiet
            return False

        return before_each

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

    # -- the light: each direction's last outcome -------------------------------------------
    def _account(self) -> str | None:
        return status_rules.account_key(self.practice.settings.values())

    def _failing_directions(self) -> list[tuple[str, dict[str, Any]]]:
        return status_rules.failing_directions(self.heartbeat.record(), self.heartbeat.setup())

    def _direction_failed(self, direction: str, exc: PracticeMailError) -> None:
        """A pass of this direction could not connect, log in or finish: amber, with the reason."""
        now = self.clock.now()
        hint = RECEIVE_TIMEOUT_HINT if direction == "receive" and exc.hint == ServerTimeout.default_hint else exc.hint
        action = "sign_in" if isinstance(exc, SignInRequired) else ""  # the light offers to sign in again
        self.heartbeat.note_direction(now, direction, self._account(), exc.message, hint, action)
        self.heartbeat.note_error(now, direction, exc.message, hint, failing=True)
        self._beat("failing")
        self._emit("service_state", {"state": "failing", "direction": direction, "error": exc.message, "hint": hint})

    def _direction_ok(self, direction: str) -> None:
        """A pass of this direction worked. Green again only when no direction in use is failing."""
        now = self.clock.now()
        account = self._account()
        first = (self.heartbeat.tested() or {}).get("account") != account
        self.heartbeat.note_direction(now, direction, account)
        if first:
            self.heartbeat.note_tested(now, account, direction)
        if self.heartbeat.current_state() == "failing" and not self._failing_directions():
            self.heartbeat.clear_failing(now)
            self._beat("running")
            self._emit("service_state", {"state": "running"})
        elif first:
            self._emit("service_state", {"state": self.heartbeat.current_state()})


def _err(exc: PracticeMailError) -> dict[str, str]:
    return {"error": exc.message, "hint": exc.hint}
