"""The email service: one worker thread that sends (and, with the inbound
engine, receives) at the right times, and a heartbeat that says how it is.

    engine = Engine(practice); engine.start()
    engine.send_receive_now()     # from any thread; returns the pass's report
    engine.stop()                 # returns within a few seconds, whatever the network does

The worker sleeps until the next due thing (an item's deliver_after, a paced
slot, a period opening, a check time: the schedule rule's answer, engine/core/
schedule.py; or the next heartbeat) and wakes at once on a command or a settings
change. It never touches Qt; listeners get plain calls.
"""

from __future__ import annotations

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

from engine.adapters.clock import SystemClock
from engine.adapters.smtp import SmtpSession
from engine.core import schedule
from engine.core.outbox import Event as OutboxEvent
from engine.core.outbox import State as OutboxState
from engine.errors import MailServerError, PracticeMailError, ServiceUnavailable
from engine.service import signin
from engine.service.account import AccountSide
from engine.service.heartbeat import Heartbeat
from engine.service.inbox import Inbox
from engine.service.outbox import Outbox, SendReport
from engine.service.passes import PACING_MEMORY, SendPasses
from engine.service.prompts import PromptAsking
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from engine.service.templates import Templates

log = logging.getLogger("practicemail.service")
HEARTBEAT_EVERY = timedelta(seconds=60)
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


class Engine(AccountSide, SendPasses, PromptAsking):
    """The worker and its commands. Its account side (server settings, receiving, the light per
    direction) is in engine/service/account.py, its send passes in engine/service/passes.py; when
    anything automatic happens is the schedule rule's answer (engine/core/schedule.py)."""

    def __init__(self, practice: Practice, clock: Any = None) -> None:
        self.practice = practice
        self.clock = clock or SystemClock()
        self.outbox = Outbox(practice.store)
        self.inbox = Inbox.for_practice(practice, self.outbox)
        self.heartbeat = Heartbeat(practice.store, practice.settings)
        # one Templates and one Reminders for the whole graph: the App hands out these same objects
        self.templates = Templates(practice.store)
        self.reminders = Reminders(practice, self.outbox, self.templates)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._commands: queue.Queue[tuple[str, Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lingering: threading.Thread | None = None  # a worker still alive after its stop
        self._session: SmtpSession | None = None
        self._incoming_session: Any = None
        self._last_check: datetime | None = None
        self._session_lock = threading.Lock()
        self._cancel = threading.Event()  # reception cancelled the manual pass under way
        self._manual_running = threading.Event()
        self._account_blocked_until: datetime | None = None
        self._recent_sends: list[datetime] = self.heartbeat.recent_sends()
        self._recent_texts: list[datetime] = self.heartbeat.recent_texts()  # text pacing's, apart from email's
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._next_heartbeat: datetime | None = None
        self.smtp_timeout = 30.0
        self._texts: Any = None  # the SMS side (engine/service/sms.py), built at the first pass, kept
        self._init_prompts()  # prompt-before-send, asked by the worker (engine/service/prompts.py)
        practice.settings.on_change(self._settings_changed)

    # -- wiring ---------------------------------------------------------------------
    def subscribe(self, listener: Callable[[str, dict[str, Any]], None], answers_prompts: bool = False) -> None:
        """Called from the worker thread with (event name, details). The kiosk's bridge re-emits as Qt signals.
        `answers_prompts`: a desk that asks reception "send this confirmation now?" (prompts.py)."""
        self._listeners.append(listener)
        if answers_prompts:
            self.answers_prompts(listener)

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

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._old_worker_gone()
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
            # cut any connection the worker is blocked on (mail and the SMS provider's); again and
            # again, since a connect may be between creating its socket and blocking on it
            with self._session_lock:
                for session in (self._session, self._incoming_session):
                    if session is not None:
                        session.abort()
            if self._texts is not None:
                self._texts.abort()
            thread.join(0.05)
        self._thread = None
        if thread.is_alive():  # stuck where nothing can cut it: no new worker until it has gone
            self._lingering = thread
            log.warning("the email service's worker did not stop within %.0f s", timeout)
        self.heartbeat.stopped(self.clock.now(), self.outbox.counts())  # not over a successor's beat
        if self._texts is not None:
            self._texts.close()  # its HTTP client; built again at the next pass
        self.outbox.close()
        log.info("email service stopped")

    def _old_worker_gone(self, wait: float = 5.0) -> None:
        """A worker that outlived its stop ends before another starts: two at once would each
        take the other's item in flight for a crash's and send it again."""
        old = self._lingering
        if old is None:
            return
        old.join(wait)
        if old.is_alive():
            raise ServiceUnavailable("the email service was not started: its last run has not finished yet",
                                     hint="Try again in a minute; if it stays, close the program and open it again.")
        self._lingering = None

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
            return self._cancellable_pass()
        fut: Future[Any] = Future()
        self._commands.put(("send_receive", fut))
        self._wake.set()
        return fut.result(timeout)

    def cancel_pass(self, timeout: float = 5.0) -> bool:
        """Reception's Cancel for a Send/Receive hung on a server that stopped answering: the
        pass's connections are cut (again and again, as `stop` does, since a connect may not be
        blocking yet), the rest of the pass is skipped. An item cut mid-send goes back to ready
        (a network error is a retry), so nothing is lost. False when no manual pass was running."""
        if not self._manual_running.is_set():
            return False
        self._cancel.set()
        deadline = time.monotonic() + timeout
        while self._manual_running.is_set() and time.monotonic() < deadline:
            with self._session_lock:
                sessions = [x for x in (self._session, self._incoming_session) if x is not None]
            for session in sessions:
                session.abort()
            if self._texts is not None:
                self._texts.abort()  # a text waiting for the provider's answer: a retry
            time.sleep(0.05)
        return True

    def wake(self) -> None:
        """Something changed (items queued): look again now rather than at the next heartbeat."""
        self._wake.set()

    # -- the worker -------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = LOOP_BACKOFF_FIRST
        while not self._stopping.is_set():
            try:
                self._ask_due_prompts()  # asked the moment it falls due, periods or not, before any pass
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
        if isinstance(exc, OSError):  # the data folder's disk: full, read-only, gone
            message = f"could not save the practice's data: {exc.strerror or exc}"
            hint = "Free space on the disk that holds the practice's data; nothing is lost, the service keeps trying."
        elif isinstance(exc, PracticeMailError):
            message, hint = exc.message, exc.hint
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
                fut.set_result(self._cancellable_pass())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

    def _cancellable_pass(self) -> dict[str, Any]:
        """A manual pass that `cancel_pass` may cut short; its report says so (and the light)."""
        self._cancel.clear()
        self._manual_running.set()
        try:
            report = self._manual_pass().as_dict()
        finally:
            self._manual_running.clear()
        report["cancelled"] = self._cancel.is_set()
        if report["cancelled"]:
            self._cancel.clear()
            cancelled = MailServerError("Send/Receive was cancelled while the server was not answering",
                                        hint="Nothing was lost: what was not sent goes at the next pass.")
            if report["errors"]:  # a cut connection: the light says why, in reception's words
                self._direction_failed("send", cancelled)
            else:
                self.heartbeat.note_error(self.clock.now(), "send", cancelled.message, cancelled.hint, failing=False)
            log.info("manual pass cancelled by reception")
        return report

    def _beat(self, state: str) -> None:
        now = self.clock.now()
        self.heartbeat.beat(now, state, self.outbox.counts())
        self._next_heartbeat = now + HEARTBEAT_EVERY

    def _next_wake(self) -> datetime | None:
        """The schedule rule's next instant (or the next heartbeat, if sooner). An item left in
        `sending` is settled first (`_settle_stuck`): never planned as due now, never woken for."""
        now = self.clock.now()
        s = self.practice.settings.snapshot().schedule
        due, stuck = self.outbox.worker_facts()
        if stuck:
            self._settle_stuck(stuck)
            due, stuck = self.outbox.worker_facts()
            if stuck:  # the loop backs off and says so
                raise PracticeMailError(f"outbox item(s) {', '.join(map(str, stuck))} stay in sending",
                                        hint="Restart the service; if it stays, export diagnostics for support.")
        wake = schedule.next_wake(s, now, due, self._recent_sends, self._last_check,
                                  self._account_blocked_until, self._recent_texts)
        candidates = [t for t in (wake, self._next_heartbeat, self._next_prompt) if t is not None]
        return min(candidates) if candidates else None

    def _automatic_work(self) -> None:
        s = self.practice.settings.snapshot().schedule
        now = self.clock.now()
        if not schedule.may_work(s, now):
            return
        if schedule.check_due(s, now, self._last_check):
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
        email pass and never through SMTP; engine/service/sms.py does the work. One `Texts` for the
        engine's life: its provider (an HTTP client with its TLS context and open connections) is
        kept from pass to pass and built again only when the settings change."""
        if self._texts is None:
            from engine.service.sms import Texts

            self._texts = Texts(self.practice, self.outbox, inbox=self.inbox)
        now = self.clock.now()
        self._recent_texts = [t for t in self._recent_texts if now - t < PACING_MEMORY]
        report = self._texts.send_due(self.clock.now, manual, self._recent_texts)
        self.heartbeat.save_recent_texts(self._recent_texts[-200:])  # what the preview counts
        self._texts.check_provider(self.clock.now(), manual)  # replies and delivery statuses
        return report

    def resolve_links(self) -> None:
        """Items waiting for a booking link: ask the provider (none set: they wait, and say why)."""
        if not self.outbox.count_in(OutboxState.PENDING_LINK):
            return
        url = self.practice.settings.snapshot().booking_provider_url
        from engine.adapters.booking import HttpLinkProvider

        reminders = self.reminders
        if not url:
            for rid in self.outbox.ids_in(OutboxState.PENDING_LINK):
                self.outbox.apply(rid, OutboxEvent.LINK_FAILED, self.clock.now(),
                                  error="no booking-link provider is set",
                                  hint="Set booking.provider_url, or use a template without a booking link.")
            return
        provider = HttpLinkProvider(url, timeout=self.smtp_timeout, proxy=signin.practice_proxy(self.practice))
        reminders.resolve_links(provider, self.clock.now())

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
        if self._cancel.is_set():
            return result  # cancelled: the mail check is skipped too
        received = self.receive()
        result.received, result.filed = received.received, received.filed
        if received.error is not None:
            result.errors = (result.errors or []) + [{"id": None, **_err(received.error)}]
        return result


def _err(exc: PracticeMailError) -> dict[str, str]:
    return {"error": exc.message, "hint": exc.hint}
