"""The fake SMTP server: aiosmtpd, three listeners, faults and a transcript.

aiosmtpd's Controller cannot bind port 0, so the servers are created on our
own loop with `loop.create_server`. On the implicit-TLS listener aiosmtpd does
not know the channel is already encrypted, so that listener alone has
`auth_require_tls=False`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import warnings
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tools.fakemail import dsn
from tools.fakemail.faults import Faults, before_reply
from tools.fakemail.mailstore import MailStore

SIZE_LIMIT = 10 * 1024 * 1024
# aiosmtpd logs every connection, and a deprecation notice on each AUTH, at INFO/WARNING.
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Handler:
    def __init__(self, store: MailStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults

    def _reply(self, server: "FakeSMTP", step: str) -> str | None:
        fault = self.faults.take("smtp", step, server.session_no)
        if fault is None:
            return None
        if fault.action == "drop":
            assert server.transport is not None
            server.transport.abort()
            return "421 4.4.2 connection dropped"
        if fault.action == "reply" and fault.code is not None:
            text = fault.text or {
                421: "4.3.2 Service not available, closing channel", 450: "4.2.1 Mailbox unavailable, try later",
                451: "4.3.0 Local error in processing", 452: "4.3.1 Insufficient system storage",
                550: "5.1.1 No such user here", 552: "5.3.4 Message size exceeds fixed maximum message size",
                554: "5.7.1 Message rejected as spam",
            }.get(fault.code, "fault injected")
            if fault.code == 421:
                server.close_after_reply = True
            return f"{fault.code} {text}"
        return None

    async def handle_MAIL(self, server: "FakeSMTP", session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        reply = self._reply(server, "mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: "FakeSMTP", session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self._reply(server, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: "FakeSMTP", session: Session, envelope: Envelope) -> str:
        reply = self._reply(server, "data")
        if reply:
            return reply
        data = envelope.original_content or b""
        self.store.record_accepted(envelope.mail_from or "", envelope.rcpt_tos, data)
        for rcpt, fault in self.faults.bounces(list(envelope.rcpt_tos), server.session_no):
            # accepted now, bounced later: back to the sender's own mailbox, as a real relay does
            self.store.deliver_to_address(envelope.mail_from or "",
                                          dsn.build(envelope.mail_from or "", rcpt, fault.code or 550, data))
        return "250 2.0.0 OK queued"


class FakeSMTP(SMTP):
    """aiosmtpd's SMTP with connection faults, delays, and a transcript."""

    def __init__(self, handler: Handler, faults: Faults, listener: str, **kw: Any) -> None:
        super().__init__(handler, **kw)
        self.faults = faults
        self.listener = listener
        self.session_no = 0
        self.close_after_reply = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        if first:
            peer = str(transport.get_extra_info("peername"))
            self.session_no = self.faults.new_session("smtp", f"{self.listener} {peer}")
            fault = self.faults.take("smtp", "connect", self.session_no)
            if fault is not None and fault.action == "refuse":
                transport.abort()
                return
            if fault is not None and fault.action == "hang":
                self.transport = transport  # accepted, never greeted
                return
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.faults.record("smtp", self.session_no, "close", repr(error) if error else "")
        if self._handler_coroutine is not None:
            super().connection_lost(error)

    def eof_received(self) -> bool | None:
        if self._handler_coroutine is None:  # a "hang" or "refuse" session never started
            return False
        return super().eof_received()

    async def push(self, status: Any) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        await before_reply(self.faults, "smtp", self.session_no)
        self.faults.record("smtp", self.session_no, "out", text)
        await super().push(status)
        if self.close_after_reply and self.transport is not None:
            self.transport.close()

    async def smtp_AUTH(self, arg: str) -> None:
        self.faults.record("smtp", self.session_no, "in", f"AUTH {arg.split()[0] if arg else ''} ***")
        await super().smtp_AUTH(arg)


def _record_commands() -> None:
    """Record each SMTP verb (without its secret arguments) in the transcript."""
    for verb in ("EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "STARTTLS", "VRFY"):
        original = getattr(SMTP, f"smtp_{verb}")

        async def recorded(self: FakeSMTP, arg: str, _original: Any = original, _verb: str = verb) -> None:
            self.faults.record("smtp", self.session_no, "in", f"{_verb} {arg or ''}".strip())
            await _original(self, arg)

        setattr(FakeSMTP, f"smtp_{verb}", recorded)


_record_commands()


def make_authenticator(store: MailStore, faults: Faults) -> Any:
    def authenticator(server: FakeSMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if faults.take("smtp", "auth", server.session_no) is not None:
            return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")
        if isinstance(auth_data, LoginPassword):
            user = store.check_login(auth_data.login.decode("utf-8", "replace"),
                                     auth_data.password.decode("utf-8", "replace"))
            if user is not None:
                return AuthResult(success=True, auth_data=user.username)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    return authenticator


def protocol_factory(store: MailStore, faults: Faults, listener: str, tls: ssl.SSLContext,
                     loop: asyncio.AbstractEventLoop) -> Any:
    handler = Handler(store, faults)
    authenticator = make_authenticator(store, faults)
    common: dict[str, Any] = dict(data_size_limit=SIZE_LIMIT, hostname="fakemail.localhost",
                                  ident="fakemail ESMTP", authenticator=authenticator, loop=loop, timeout=60)
    if listener == "submission":
        kw = dict(tls_context=tls, require_starttls=True, auth_required=True, auth_require_tls=True)
    elif listener == "smtps":
        kw = dict(tls_context=None, require_starttls=False, auth_required=True, auth_require_tls=False)
    else:  # plain: STARTTLS offered, not required; AUTH offered but not required
        kw = dict(tls_context=tls, require_starttls=False, auth_required=False, auth_require_tls=False)

    def factory() -> FakeSMTP:
        with warnings.catch_warnings():
            # smtps: TLS is implicit, aiosmtpd just cannot tell (see the module docstring)
            warnings.simplefilter("ignore", UserWarning)
            return FakeSMTP(handler, faults, listener, **common, **kw)

    return factory
