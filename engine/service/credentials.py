"""The setup test: every step from name lookup to a dry run of sending, each with its
own timeout and a result a receptionist can act on. Nothing is ever sent.

The dry run stops after the server answers DATA with 354, by closing the
connection: once DATA is accepted, SMTP has no command to take it back (RSET is
not allowed inside DATA), and sending the end-of-data dot would send an empty
message. A server discards a transaction whose connection closes mid-DATA.

The overall result (`ok`) is about the servers only. Whether the email service is
running on this computer is said apart, as information (`service`): the test talks
to the servers itself and needs no service, and a practice setting up its first
desk has none running yet.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.adapters.connection import through
from engine.adapters.incoming import IMPLICIT, ImapMailbox, IncomingSettings, Pop3Mailbox
from engine.adapters.proxy import Proxy
from engine.adapters.sasl import OAuth2Login
from engine.adapters.smtp import SmtpSession, SmtpSettings
from engine.core import status as status_rules
from engine.errors import MailServerError, PracticeMailError, ProxyFailed, ServerTimeout

STEP_TIMEOUT = 10.0


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    message: str
    hint: str = ""
    blocking: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "seconds": round(self.seconds, 3), "message": self.message,
                "hint": self.hint}


def _run(name: str, fn: Callable[[], str], timeout: float, blocking: bool = True) -> Step:
    """One step on a helper thread, so no step can take longer than its timeout."""
    t0 = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="setup-test")
    future = pool.submit(fn)
    try:
        message = future.result(timeout)
        return Step(name, True, time.monotonic() - t0, message, blocking=blocking)
    except FutureTimeout:
        return Step(name, False, time.monotonic() - t0, f"no answer within {timeout:.0f} seconds",
                    ServerTimeout.default_hint, blocking)
    except PracticeMailError as exc:
        return Step(name, False, time.monotonic() - t0, exc.message, exc.hint, blocking)
    except Exception as exc:  # noqa: BLE001 - reported as a failed step, never raised
        return Step(name, False, time.monotonic() - t0, f"{type(exc).__name__}: {exc}",
                    "Export diagnostics and send them to support.", blocking)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _resolve(host: str, port: int, proxy: Proxy | None = None) -> str:
    """The server's name looked up here; through a proxy, the proxy looks it up (this computer
    may have no outside DNS), so the proxy's own name is looked up instead."""
    if not host:
        raise MailServerError("no server name is set", hint="Enter the server name in the setup wizard.")
    if proxy is not None:
        try:
            infos = socket.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ProxyFailed(f"the proxy's name {proxy.host} was not found ({exc.strerror})",
                              hint="Check the spelling of proxy.address.") from exc
        return f"{host} is looked up by the proxy at {proxy.where} ({proxy.host} is {infos[0][4][0]})"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise MailServerError(f"the server name {host} was not found ({exc.strerror})",
                              hint="Check the spelling of the server name.") from exc
    return f"{host} is {infos[0][4][0]}"


def _answered(server: SmtpSettings | IncomingSettings, how: str) -> str:
    """"SMTP host:port answered through the proxy at P:N (encrypted)": the connect steps' words."""
    protocol = "SMTP" if isinstance(server, SmtpSettings) else server.protocol.upper()
    return f"{protocol} {server.host}:{server.port} answered{through(server.proxy)} ({how})"


def _signed_in(outgoing: SmtpSettings, incoming: IncomingSettings | None) -> OAuth2Login | None:
    """The signed-in login either direction uses, if any (both share one token keeper)."""
    for login in (outgoing.credentials if outgoing.auth else None, incoming.credentials if incoming else None):
        if isinstance(login, OAuth2Login):
            return login
    return None


def _access_token(login: OAuth2Login) -> str:
    """A fresh access token from the sign-in service: proves the sign-in is still good (and
    the provider reachable) before any mail server is asked to accept it."""
    login.tokens.access_token(refresh=True)
    return f"the sign-in service issued an access token for {login.username}"


def run(outgoing: SmtpSettings, incoming: IncomingSettings | None, from_address: str,
        heartbeat: dict[str, Any] | None, now: datetime, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
    """The whole test. Steps after the first failure are not run."""
    steps = _SetupTest(outgoing, incoming, from_address, timeout).steps_run()
    failures = [s for s in steps if not s.ok]
    first = failures[0] if failures else None
    return {"ok": not failures, "steps": [s.as_dict() for s in steps],
            "message": first.message if first else "every step passed",
            "hint": first.hint if first else "", "service": service_line(heartbeat, now)}


class _SetupTest:
    """One run of the test: its steps in the order the report shows them, each a method that
    returns its line, and the sessions the later steps reuse (`state`)."""

    def __init__(self, outgoing: SmtpSettings, incoming: IncomingSettings | None, from_address: str,
                 timeout: float) -> None:
        self.outgoing = outgoing
        self.incoming = incoming
        self.from_address = from_address
        self.timeout = timeout
        self.steps: list[Step] = []
        self.state: dict[str, Any] = {}

    def step(self, name: str, fn: Callable[[], str], blocking: bool = True) -> bool:
        result = _run(name, fn, self.timeout, blocking)
        self.steps.append(result)
        return result.ok or not blocking

    def steps_run(self) -> list[Step]:
        outgoing, incoming, step = self.outgoing, self.incoming, self.step
        ok = step("outgoing server name", lambda: _resolve(outgoing.host, outgoing.port, outgoing.proxy))
        if ok and incoming is not None:
            ok = step("incoming server name", lambda: _resolve(incoming.host, incoming.port, incoming.proxy))
        signed_in = _signed_in(outgoing, incoming)
        if ok and signed_in is not None:
            ok = step("get an access token", lambda: _access_token(signed_in))
        if ok and incoming is not None:
            ok = step("connect to incoming server", self.incoming_connect) and \
                step("log in to incoming server", self.incoming_login)
        if ok:
            ok = step("connect to outgoing server", self.outgoing_connect) and \
                step("log in to outgoing server", self.outgoing_login)
        if ok:
            ok = step("dry run of sending", self.dry_run)
        try:
            if "out" in self.state:
                self.state["out"].close()
            if "in" in self.state:
                self.state["in"].close()
        finally:
            if ok:
                step("disconnect", self.disconnect)
        return self.steps

    def incoming_connect(self) -> str:
        incoming = self.incoming
        assert incoming is not None
        box: Any = ImapMailbox(incoming) if incoming.protocol == "imap" else Pop3Mailbox(incoming)
        self.state["in"] = box
        box.connect_only()
        return _answered(incoming, f"{'TLS' if incoming.mode == IMPLICIT else 'STARTTLS'}, certificate trusted")

    def incoming_login(self) -> str:
        assert self.incoming is not None
        self.state["in"].login_only()
        if isinstance(self.incoming.credentials, OAuth2Login):
            return "the incoming server accepted the sign-in (access token)"
        return "the incoming server accepted the user name and password"

    def outgoing_connect(self) -> str:
        session = SmtpSession(dataclasses.replace(self.outgoing, auth=False))
        self.state["out_probe"] = session
        session.open()
        session.close()
        return _answered(self.outgoing, "encrypted" if session.encrypted else "NOT encrypted")

    def outgoing_login(self) -> str:
        session = SmtpSession(self.outgoing)
        self.state["out"] = session
        session.open()
        return "the outgoing server accepted the login" if self.outgoing.auth else \
            "no login needed (authentication is off)"

    def dry_run(self) -> str:
        session: SmtpSession = self.state["out"]
        code = session.dry_run(self.from_address, self.from_address)
        return f"MAIL FROM and RCPT TO accepted; DATA answered {code}; stopped there (nothing sent)"

    def disconnect(self) -> str:
        for key in ("in",):
            box = self.state.pop(key, None)
            if box is not None:
                box.close()
        return "disconnected"


def service_line(heartbeat: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """Information beside the test, never part of its result: is the service running here?"""
    if status_rules.alive(heartbeat, now):
        return {"running": True, "message": "the email service is running", "hint": ""}
    return {"running": False, "message": "the email service is not running on this computer",
            "hint": "The test does not need it; the kiosk starts it (or practicemail serve), "
                    "and mail goes out and comes in only while it runs."}

