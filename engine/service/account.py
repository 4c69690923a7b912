"""The Engine's side that faces the mail account: the server settings it connects with, the
check for new mail, the setup test, and the status light's view of each direction (send,
receive) as the last pass left it.

A part of `Engine` (engine/service/engine.py), split off by topic to keep each module small;
it reads the engine's practice, clock, heartbeat and inbox, and the session slots `stop()`
aborts, all set up in `Engine.__init__`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters.incoming import IncomingSettings, incoming_mode
from engine.adapters.proxy import Proxy
from engine.adapters.sasl import SignInRequired
from engine.adapters.smtp import SmtpSettings, tls_mode
from engine.core import status as status_rules
from engine.errors import PracticeMailError, ServerTimeout
from engine.service import signin
from engine.service.inbox import ReceiveReport

if TYPE_CHECKING:
    from engine.adapters.smtp import SmtpSession
    from engine.service.heartbeat import Heartbeat
    from engine.service.inbox import Inbox
    from engine.service.practice import Practice

log = logging.getLogger("practicemail.service")
QUIET_COLLECT_AFTER = 1000  # messages received in one pass
# a timed-out check for mail: the generic timeout hint speaks of "the message" being tried again
RECEIVE_TIMEOUT_HINT = ("The mail server stopped answering; mail is checked again at the next check time "
                        "(or press Send/Receive). If it keeps happening, call the email provider.")


class AccountSide:
    practice: Practice
    clock: Any
    heartbeat: Heartbeat
    inbox: Inbox
    smtp_timeout: float
    _session: SmtpSession | None
    _incoming_session: Any
    _session_lock: threading.Lock
    _last_check: datetime | None
    _emit: Callable[[str, dict[str, Any]], None]
    _beat: Callable[[str], None]

    running: bool

    def smtp_settings(self) -> SmtpSettings:
        s = self.practice.settings.snapshot()
        return SmtpSettings(
            host=s.outgoing_host, port=s.outgoing_port,
            mode=tls_mode(s.outgoing_port, s.outgoing_starttls, s.outgoing_security),
            auth=bool(s.outgoing_auth), credentials=signin.credentials(self.practice, "outgoing"),
            ca_file=s.tls_ca_file, local_hostname="practicemail.localhost", timeout=self.smtp_timeout,
            proxy=self.mail_proxy(),
        )

    def incoming_settings(self) -> IncomingSettings:
        s = self.practice.settings.snapshot()
        return IncomingSettings(
            protocol=s.incoming_protocol, host=s.incoming_host, port=s.incoming_port,
            mode=incoming_mode(s.incoming_protocol, s.incoming_port, s.incoming_security),
            credentials=signin.credentials(self.practice, "incoming"),
            ca_file=s.tls_ca_file, timeout=self.smtp_timeout, proxy=self.mail_proxy(),
        )

    def mail_proxy(self) -> Proxy | None:
        """The proxy SMTP, IMAP and POP3 go through (proxy.use_for_email), or None."""
        return signin.practice_proxy(self.practice, email=True)

    def test_credentials(self, timeout: float = 10.0) -> dict[str, Any]:
        """The setup test (nothing sent); see engine/service/credentials.py. When its server
        steps pass, the account counts as tested (the light leaves "not set up"); and when it
        runs beside this running service, it is also each direction's latest outcome."""
        from engine.service import credentials

        s = self.practice.settings.snapshot()
        incoming = self.incoming_settings() if s.schedule.receiving else None
        result = credentials.run(self.smtp_settings(), incoming, s.email, self.heartbeat.record(),
                                 self.clock.now(), timeout)
        if result["ok"] and self.practice.writer:
            self.heartbeat.note_tested(self.clock.now(), self._account(), "setup test")
            if self.running:
                for direction in ("send", "receive") if incoming is not None else ("send",):
                    self._direction_ok(direction)
        return result

    def receive(self) -> ReceiveReport:
        """One check for new mail (nothing at all when incoming is turned off)."""
        s = self.practice.settings.snapshot()
        if not s.schedule.receiving:
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
                report = self.inbox.receive_pop3(settings, now, s.incoming_leave_on_server, remember)
        finally:
            with self._session_lock:
                self._incoming_session = None
        self._last_check = now
        self._received(report, now)
        return report

    def _received(self, report: ReceiveReport, now: datetime) -> None:
        """A check's outcome: on the light, and to the listeners."""
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
