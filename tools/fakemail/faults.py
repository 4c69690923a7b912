"""Faults a tester switches on and off while the servers run, and the transcript.

A fault names a protocol (smtp, imap, pop3, http), a step and an action:

    step      where it bites
    connect   on accept: action "refuse" (close at once, before any TLS), "hang" (never greet) or
              "delay" (greet, and on implicit-TLS ports start TLS, `seconds` late)
    tls       the handshake: action "untrusted" (a certificate from a CA nobody trusts)
    auth      action "reject" (the password is refused)
    mail, rcpt, data   SMTP: action "reply" with `code` (421, 450, 451, 452, 550, 552, 554)
    data      SMTP: action "drop" (the connection closes in the middle of the message, no reply)
    fetch     IMAP FETCH / POP3 RETR: action "drop" (close halfway through the message) or
              "hang" (send half the message, then nothing)
    any       action "delay" (every reply waits `seconds`) or "hang" (stop answering)
    login     POP3: action "in_use" (-ERR [IN-USE])
    capa      action "hide": the capability named in `text` is left out of CAPA / CAPABILITY
              and its command answers as unknown (a server without STLS or IDLE, say)
    sms, link HTTP: action "reply" with `code` (the gateway fails); sms also "hang": the request is
              carried out (a text taken) and never answered until the client closes the connection
    token     HTTP, the OAuth token endpoint: "reply" with `code` (5xx; or 400 with `text` an OAuth
              error: invalid_grant, slow_down, ...; or `text` a whole JSON error document, sent as
              it is), or "delay" `seconds` (tools/fakemail/oauth.py)
    bounce    SMTP: action "bounce": a recipient whose address is `text` (any recipient when empty) is
              accepted, and then a delivery status notification (RFC 3464, tools/fakemail/dsn.py)
              arrives in the mailbox of the user who sent it: `code` 5xx for good (550 no such
              user, the default; 552 mailbox full; 554 rejected as spam), 4xx delayed

Each fault fires always or with `probability`, and for `times` times or for ever.
Every session, command and reply is recorded in the transcript for assertions (the
newest TRANSCRIPT_LIMIT events are kept).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOLS = ("smtp", "imap", "pop3", "http")
STEPS = ("connect", "tls", "auth", "mail", "rcpt", "data", "fetch", "any", "login", "sms", "link", "capa", "token",
         "bounce")
ACTIONS = ("refuse", "hang", "untrusted", "reject", "reply", "drop", "delay", "in_use", "hide", "bounce")


@dataclass
class Fault:
    protocol: str
    step: str
    action: str
    code: int | None = None
    text: str = ""
    seconds: float = 0.0
    probability: float = 1.0
    times: int | None = None  # None: for ever

    def __post_init__(self) -> None:
        _check_types(self)
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}")
        if self.step not in STEPS:
            raise ValueError(f"step must be one of {STEPS}")
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}")
        if self.action == "reply" and not self.code:
            raise ValueError("a reply fault needs a code")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability is between 0 and 1")
        if self.seconds < 0 or (self.times is not None and self.times < 1):
            raise ValueError("seconds is at least 0 and times at least 1")


_TYPES: dict[str, tuple[type, ...]] = {"protocol": (str,), "step": (str,), "action": (str,), "code": (int,),
                                       "text": (str,), "seconds": (int, float), "probability": (int, float),
                                       "times": (int,)}


def _check_types(fault: "Fault") -> None:
    """A wrong type is refused when the fault is set (a 400 naming the field), not found later
    by every session dying on it: JSON's "0.5" is a string, and True is not a number here."""
    for name, types in _TYPES.items():
        value = getattr(fault, name)
        if value is None and name in ("code", "times"):
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            kind = " or ".join("number" if t in (int, float) and name in ("seconds", "probability") else
                               {str: "text", int: "whole number", float: "number"}[t] for t in types[:1])
            raise ValueError(f"{name} must be {kind}, not {type(value).__name__} {value!r}")


@dataclass
class Event:
    at: float
    protocol: str
    session: int
    direction: str  # "open", "close", "in" (client said), "out" (server said), "fault"
    text: str


TRANSCRIPT_LIMIT = 5000


@dataclass
class Faults:
    """The switchboard. Thread-safe: tests and the control endpoint change it while servers run."""

    seed: int | None = None
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # the newest events only: a fake server left running all day (make demo) must not grow
    # without bound, and a large heap slowed its every garbage collection
    transcript: deque[Event] = field(default_factory=lambda: deque(maxlen=TRANSCRIPT_LIMIT))
    _sessions: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, protocol: str, step: str, action: str, **kw: Any) -> Fault:
        fault = Fault(protocol, step, action, **kw)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, protocol: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if protocol is not None and f.protocol != protocol]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, protocol: str, step: str, session: int = 0, actions: tuple[str, ...] = ()) -> Fault | None:
        """The fault that fires now at this step, if any (counts down `times`); `actions`: only
        faults of these actions (a step where different actions bite at different moments)."""
        with self._lock:
            for f in self._faults:
                if f.protocol != protocol or f.step != step or (actions and f.action not in actions):
                    continue
                if f.probability < 1.0 and self._rng.random() >= f.probability:
                    continue
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                self.transcript.append(Event(time.time(), protocol, session, "fault", f"{step}:{f.action}"))
                return f
        return None

    def bounces(self, recipients: list[str], session: int = 0) -> list[tuple[str, Fault]]:
        """The recipients a `bounce` fault names now, each with its fault (counts down `times`)."""
        out = []
        with self._lock:
            for rcpt in recipients:
                for f in list(self._faults):
                    if f.protocol != "smtp" or f.step != "bounce" or f.text.strip().lower() not in ("", rcpt.lower()):
                        continue
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._faults.remove(f)
                    self.transcript.append(Event(time.time(), "smtp", session, "fault", f"bounce:{rcpt}"))
                    out.append((rcpt, f))
                    break
        return out

    def hidden(self, protocol: str) -> set[str]:
        """Capabilities a `capa hide` fault takes away now (upper case). Read without counting
        down `times`: a hidden capability stays hidden for every command of the session."""
        with self._lock:
            return {f.text.upper() for f in self._faults
                    if f.protocol == protocol and f.step == "capa" and f.action == "hide"}

    def new_session(self, protocol: str, peer: str) -> int:
        with self._lock:
            self._sessions += 1
            n = self._sessions
            self.transcript.append(Event(time.time(), protocol, n, "open", peer))
        return n

    def record(self, protocol: str, session: int, direction: str, text: str) -> None:
        with self._lock:
            self.transcript.append(Event(time.time(), protocol, session, direction, text[:500]))

    def commands(self, protocol: str) -> list[str]:
        """What clients said, in order (for assertions)."""
        with self._lock:
            return [e.text for e in self.transcript if e.protocol == protocol and e.direction == "in"]


async def before_reply(faults: Faults, protocol: str, session: int) -> None:
    """The 'any' step's faults, applied before a server writes a reply: delay it, or never answer."""
    import asyncio

    fault = faults.take(protocol, "any", session)
    if fault is not None and fault.action == "delay":
        await asyncio.sleep(fault.seconds)
    if fault is not None and fault.action == "hang":
        await asyncio.sleep(3600)


async def until_closed(reader: object, limit: float = 3600) -> None:
    """Say nothing until the client goes away (or `limit` passes), as a stuck server whose
    session still ends when its connection closes (and, for POP3, frees the mailbox)."""
    import asyncio

    async def drain() -> None:
        while await reader.read(65536):  # type: ignore[attr-defined]
            pass

    try:
        await asyncio.wait_for(drain(), limit)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass


async def on_connect(faults: Faults, protocol: str, session: int, transport: object) -> bool:
    """The 'connect' step's faults for a stream server. False: the session ends here
    (refused at once, or left hanging without a greeting until the server stops)."""
    import asyncio

    fault = faults.take(protocol, "connect", session)
    if fault is not None and fault.action == "refuse":
        transport.abort()  # type: ignore[attr-defined]
        return False
    if fault is not None and fault.action == "hang":
        await asyncio.sleep(3600)
        return False
    if fault is not None and fault.action == "delay":  # a slow server: greeting (and TLS) late
        await asyncio.sleep(fault.seconds)
    return True
