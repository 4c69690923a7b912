"""The fake SMTP server: aiosmtpd, three listeners, faults and a transcript.

aiosmtpd's Controller cannot bind port 0, so the servers are created on our
own loop with `loop.create_server`. On the implicit-TLS listener aiosmtpd does
not know the channel is already encrypted, so that listener alone has
`auth_require_tls=False`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import ssl
import warnings
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from tools.fakemail import dsn
from tools.fakemail.faults import Faults, before_reply
from tools.fakemail.mailstore import MailStore
from tools.fakemail.oauth import OAuthServer, parse_bearer

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

    async def handle_EHLO(self, server: "FakeSMTP", session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        """PIPELINING offered (aiosmtpd reads pipelined commands in order; RFC 2920), and any
        extension a `capa hide` fault takes away left out (the command then answers 502)."""
        session.host_name = hostname
        responses = [*responses[:-1], "250-PIPELINING", responses[-1]] if responses else responses
        hidden = self.faults.hidden("smtp")
        kept = [r for r in responses[:-1] if r[4:].split(" ")[0].upper() not in hidden]
        last = responses[-1] if responses else ""
        if last and last[4:].split(" ")[0].upper() in hidden:  # the last line must be "250 ..."
            last = "250 HELP"
        return [*kept, last] if last else kept

    async def handle_MAIL(self, server: "FakeSMTP", session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if server.oauth is not None and server.bearer and server.oauth.expired(server.bearer):
            server.close_after_reply = True
            return "421 4.7.0 The access token expired: session closed, sign in again"
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

    # RFC 4954 §4 and the de-facto LOGIN mechanism: "Username:" / "Password:" (aiosmtpd's own
    # prompts end in a NUL byte, which some clients show or choke on)
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(self, handler: Handler, faults: Faults, listener: str, oauth: OAuthServer | None = None,
                 **kw: Any) -> None:
        super().__init__(handler, **kw)
        self.oauth = oauth
        self.bearer = ""  # the access token this session signed in with
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

    async def smtp_DATA(self, arg: str) -> None:
        """A 'data drop' fault bites in the middle of the message, as a dying server or a cut
        line would: the client has started sending and gets no reply at all."""
        self.faults.record("smtp", self.session_no, "in", f"DATA {arg or ''}".strip())
        ready = self.session is not None and self.envelope is not None and self.envelope.rcpt_tos and not arg
        fault = self.faults.take("smtp", "data", self.session_no, actions=("drop",)) if ready else None
        if fault is None:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            await self._reader.readuntil(b"\r\n")  # the first line of the message arrives...
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        assert self.transport is not None
        self.transport.abort()  # ...and the connection is gone
        self.transport = None  # aiosmtpd's command loop ends here, not on the message lines it has read

    async def smtp_STARTTLS(self, arg: str) -> None:
        self.faults.record("smtp", self.session_no, "in", f"STARTTLS {arg or ''}".strip())
        if "STARTTLS" in self.faults.hidden("smtp"):  # not offered, so not there
            await self.push("502 5.5.1 Command not implemented")
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg: str) -> None:
        self.faults.record("smtp", self.session_no, "in", f"AUTH {arg.split()[0] if arg else ''} ***")
        await super().smtp_AUTH(arg)

    async def auth_XOAUTH2(self, _: Any, args: list[str]) -> AuthResult:
        return await self._bearer("XOAUTH2", args)

    async def auth_OAUTHBEARER(self, _: Any, args: list[str]) -> AuthResult:
        return await self._bearer("OAUTHBEARER", args)

    async def _bearer(self, mechanism: str, args: list[str]) -> AuthResult:
        """A bearer token, as Microsoft 365 answers: a refused token gets the JSON challenge
        (RFC 7628 §3.2.2), the client's empty reply, then 535 5.7.3; a mailbox with SMTP AUTH
        turned off gets 535 5.7.139 even with a good token."""
        if len(args) > 1:
            try:
                raw = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                return AuthResult(success=False, handled=False, message="501 5.5.2 Can't decode base64")
        else:
            answer = await self.challenge_auth("")
            if answer is MISSING:
                return AuthResult(success=False, handled=True)
            raw = answer
        parsed = parse_bearer(mechanism, raw)
        refused = self.faults.take("smtp", "auth", self.session_no) is not None
        user = None if refused or parsed is None or self.oauth is None else self.oauth.check_token(*parsed)
        if user is None:
            assert self.oauth is not None
            if await self.challenge_auth(self.oauth.failure_challenge(mechanism), encode_to_b64=False) is MISSING:
                return AuthResult(success=False, handled=True)
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        if self.oauth is not None and self.oauth.smtp_disabled(user):
            return AuthResult(success=False, handled=False, message=(
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. "
                "Visit https://aka.ms/smtp_auth_disabled for more information."))
        assert parsed is not None
        self.bearer = parsed[1]
        return AuthResult(success=True, auth_data=user.username)


class ImplicitTls(asyncio.Protocol):
    """The smtps listener: the connect faults first (a refusal refuses before any TLS, as a
    closed port would), then the handshake, then aiosmtpd's session on the secure transport."""

    def __init__(self, make: Any, faults: Faults, tls: ssl.SSLContext, loop: asyncio.AbstractEventLoop,
                 transports: set[Any]) -> None:
        self.make, self.faults, self.tls, self.loop, self.transports = make, faults, tls, loop, transports
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transports.add(transport)
        if self.faults.take("smtp", "connect", 0, actions=("refuse",)) is not None:
            transport.abort()
            return
        self.task = self.loop.create_task(self._secure(transport))  # type: ignore[arg-type]

    async def _secure(self, transport: asyncio.Transport) -> None:
        try:
            secure = await self.loop.start_tls(transport, self, self.tls, server_side=True)
        except (ssl.SSLError, OSError):  # the client gave up or refused our certificate
            transport.abort()
            return
        if secure is None:
            return
        session = self.make()
        secure.set_protocol(session)
        session.connection_made(secure)

    def data_received(self, data: bytes) -> None:  # the TLS layer has it until the session does
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        pass


def _record_commands() -> None:
    """Record each SMTP verb (without its secret arguments) in the transcript."""
    for verb in ("EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP", "QUIT", "VRFY"):
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
                     loop: asyncio.AbstractEventLoop, oauth: OAuthServer | None = None) -> Any:
    handler = Handler(store, faults)
    authenticator = make_authenticator(store, faults)
    common: dict[str, Any] = dict(data_size_limit=SIZE_LIMIT, hostname="fakemail.localhost", enable_SMTPUTF8=True,
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
            return FakeSMTP(handler, faults, listener, oauth, **common, **kw)

    return factory
