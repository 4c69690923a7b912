"""Receiving over POP3 with poplib: the talking only. Answers are read in wire.py, from the
connection's buffered file, in blocks rather than poplib's line at a time; TLS and logins
come from connection.py and sasl.py. poplib, ssl and socket errors become engine errors here.

POP3 tracks UIDL and deletes on the server only what the caller says is stored (deletes apply
at QUIT).
"""

from __future__ import annotations

import logging
import poplib
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import TypeVar

from engine.adapters import wire
from engine.adapters.connection import IMPLICIT, IncomingSettings, cut, open_socket, tls_context
from engine.adapters.network import proxied, server_words, translate_incoming
from engine.adapters.proxy import Proxy
from engine.adapters.sasl import OAuth2Login, pop3_login
from engine.errors import MailServerError, ServerUnreachable

log = logging.getLogger("practicemail.pop3")
T = TypeVar("T")


def translate(exc: BaseException, host: str, port: int) -> MailServerError:
    """Any failure talking POP3 -> the engine error a person can act on."""
    known = translate_incoming(exc, host, port)
    if known is not None:
        return known
    if isinstance(exc, poplib.error_proto) and server_words(exc) == "-ERR EOF":  # poplib's words for a closed line
        return ServerUnreachable(f"{host}:{port} closed the connection",
                                 hint="The connection dropped; mail will be fetched again on the next check.")
    if isinstance(exc, poplib.error_proto):
        return wire.pop3_refusal(server_words(exc))
    if isinstance(exc, (EOFError, ConnectionError)):
        return ServerUnreachable(f"{host}:{port} closed the connection: {server_words(exc)}",
                                 hint="The connection dropped; mail will be fetched again on the next check.")
    if isinstance(exc, OSError):
        return ServerUnreachable(f"talking to {host}:{port} failed: {exc}")
    raise exc


class _DialledPOP3(poplib.POP3):
    """poplib with its connection from `open_socket`: direct or through the proxy, with TLS
    when given a context (implicit TLS; poplib's POP3_SSL calls POP3._create_socket by name,
    so it is done here). STARTTLS is poplib's own `stls` on the socket made here."""

    def __init__(self, host: str, port: int, timeout: float, proxy: Proxy | None,
                 context: ssl.SSLContext | None) -> None:
        self._proxy, self._context = proxy, context
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float) -> socket.socket:  # poplib's own hook
        return open_socket(self.host, self.port, timeout, self._proxy, self._context)


class Pop3Mailbox:
    """One POP3 session. Deletions requested with `delete` apply at `quit`."""

    def __init__(self, settings: IncomingSettings) -> None:
        self.s = settings
        self.pop: poplib.POP3 | None = None
        self._pipelining: bool | None = None

    def connect_only(self) -> None:
        s = self.s
        try:
            ctx = tls_context(s.ca_file)
            if s.mode == IMPLICIT:
                pop: poplib.POP3 = _DialledPOP3(s.host, s.port, s.timeout, s.proxy, ctx)
            else:
                pop = _DialledPOP3(s.host, s.port, s.timeout, s.proxy, None)
                self.pop = pop
                pop.stls(ctx)
            self.pop = pop
        except Exception as exc:
            greeted = self.pop is not None  # poplib read the greeting in the constructor
            self.close()
            err = translate(exc, s.host, s.port)
            raise (err if greeted else proxied(err, s.proxy, s.host, s.port, "incoming")) from exc

    def login_only(self) -> None:
        assert self.pop is not None
        try:
            if isinstance(self.s.credentials, OAuth2Login):
                pop3_login(self.pop, self.s.credentials)
            else:
                self.pop.user(self.s.credentials.username)
                self.pop.pass_(self.s.credentials.secret())
        except Exception as exc:
            self.close()
            raise translate(exc, self.s.host, self.s.port) from exc

    def __enter__(self) -> "Pop3Mailbox":
        self.connect_only()
        self.login_only()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except Exception as exc:
            raise translate(exc, self.s.host, self.s.port) from exc

    def _send(self, command: str) -> None:
        """One command on the wire, answer unread. poplib has no such call of its own (nor
        pipelining): its connection's socket, as its writer uses it; UTF-8 as its encoding."""
        assert self.pop is not None
        self._call(self.pop.sock.sendall, command.encode("utf-8") + b"\r\n")

    def _long(self, command: str | None) -> bytes:
        """A multi-line answer to `command` (None: to one already sent), as CRLF text."""
        assert self.pop is not None
        if command is not None:
            self._send(command)
        return self._call(wire.read_long_answer, self.pop.file)

    def uidls(self) -> list[tuple[int, str]]:
        return wire.uidl_listing(self._long("UIDL"))

    def retrieve(self, number: int) -> bytes:
        return self._long(f"RETR {number}")

    def pipelining(self) -> bool:
        """Whether the server's CAPA offers PIPELINING (RFC 2449), asked once a session. A
        server without CAPA does not."""
        assert self.pop is not None
        if self._pipelining is None:
            try:
                self._pipelining = "PIPELINING" in self.pop.capa()
            except poplib.error_proto:
                self._pipelining = False
            except Exception as exc:
                raise translate(exc, self.s.host, self.s.port) from exc
        return self._pipelining

    def _pipelined(self, commands: list[str], read: Callable[[], T], window: int = 16) -> Iterator[T]:
        """Each command's answer, in order. With PIPELINING, up to `window` commands are on the
        wire ahead of the answer being read, so the round trips overlap; without it, one at a
        time. Leaving the iteration early leaves answers unread: abandon the session then
        (close or abort, never QUIT on it)."""
        ahead = window if len(commands) > 1 and self.pipelining() else 1
        sent = 0
        for i in range(len(commands)):
            while sent < len(commands) and sent < i + ahead:
                self._send(commands[sent])
                sent += 1
            yield read()

    def retrieve_many(self, numbers: list[int], window: int = 16) -> Iterator[tuple[int, bytes]]:
        """(number, raw) for each, in order, pipelined when the server allows."""
        answers = self._pipelined([f"RETR {n}" for n in numbers], lambda: self._long(None), window)
        return zip(numbers, answers)

    def count(self) -> int:
        """STAT: how many messages the maildrop holds."""
        assert self.pop is not None
        return int(self._call(self.pop.stat)[0])

    def uidls_of(self, numbers: list[int]) -> list[tuple[int, str]]:
        """`UIDL n` for each (pipelined when allowed): a few new messages' UIDLs without the
        whole listing, which for a mailbox of 10,000 left on the server is 600 KB a check."""
        assert self.pop is not None
        file = self.pop.file
        return list(self._pipelined([f"UIDL {n}" for n in numbers],
                                    lambda: wire.uidl_one(self._call(wire.read_status, file))))

    def delete(self, number: int) -> None:
        assert self.pop is not None
        self._call(self.pop.dele, number)

    def quit(self) -> None:
        """Ends the session; the server applies deletions now."""
        pop, self.pop = self.pop, None
        if pop is not None:
            try:
                pop.quit()
            except Exception as exc:
                raise translate(exc, self.s.host, self.s.port) from exc

    def close(self) -> None:
        """Ends without QUIT: the server applies no deletions."""
        pop, self.pop = self.pop, None
        if pop is not None:
            try:
                pop.close()
            except Exception:  # noqa: BLE001
                pass

    def abort(self) -> None:
        pop = self.pop
        if pop is not None:
            cut(getattr(pop, "sock", None))
