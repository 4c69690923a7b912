"""Receiving: IMAP with imapclient, POP3 with poplib. Library, ssl and socket
errors become engine errors here.

IMAP syncs by UID, never by the Seen flag, and reads with BODY.PEEK[] so the
server's read state is untouched. POP3 tracks UIDL and deletes on the server
only what the caller says is stored (deletes apply at QUIT).
Ports: 993/995 implicit TLS, 143/110 STARTTLS/STLS; `incoming.security` can
say which for any other port. Certificates are always verified.
"""

from __future__ import annotations

import imaplib
import logging
import poplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from engine.adapters.network import translate_network
from engine.adapters.smtp import Credentials, tls_context
from engine.errors import AuthenticationRefused, MailServerError, ServerRejected, ServerUnreachable

log = logging.getLogger("practicemail.imap")
pop_log = logging.getLogger("practicemail.pop3")

IMPLICIT, STARTTLS = "implicit", "starttls"
# poplib refuses any line over 2,048 bytes ("line too long"), so one hostile message (a 1 MB
# subject) would stop a POP3 mailbox for good. Lines are bounded by the message size instead.
poplib._MAXLINE = 64 * 1024 * 1024  # noqa: SLF001
FETCH_CHUNK = 200


def incoming_mode(protocol: str, port: int, security: str = "auto") -> str:
    if security in (IMPLICIT, STARTTLS):
        return security
    if port in (143, 110):
        return STARTTLS
    return IMPLICIT


@dataclass(frozen=True)
class IncomingSettings:
    protocol: str
    host: str
    port: int
    mode: str
    credentials: Credentials
    ca_file: str = ""
    timeout: float = 30.0


def translate(exc: BaseException, what: str, host: str, port: int) -> MailServerError:
    if isinstance(exc, MailServerError):
        return exc
    network = translate_network(exc, host, port, "incoming", "993 for IMAP, 995 for POP3; 143/110 for STARTTLS")
    if network is not None:
        return network
    if isinstance(exc, imap_errors.LoginError) or (isinstance(exc, poplib.error_proto) and "[AUTH]" in str(exc)):
        return AuthenticationRefused(f"the {what} server refused the login: {_words(exc)}",
                                     hint="The server said the user name or password is wrong: correct them in the setup wizard.")
    if isinstance(exc, poplib.error_proto) and "IN-USE" in str(exc):
        return ServerRejected(f"the mailbox is in use by another program: {_words(exc)}", 0, _words(exc),
                              hint="Close other mail programs reading this mailbox; it will be tried again.")
    if isinstance(exc, (imaplib.IMAP4.abort, EOFError, ConnectionError)):
        return ServerUnreachable(f"{host}:{port} closed the connection: {_words(exc)}",
                                 hint="The connection dropped; mail will be fetched again on the next check.")
    if isinstance(exc, (imap_errors.IMAPClientError, imaplib.IMAP4.error, poplib.error_proto)):
        return ServerRejected(f"the {what} server said: {_words(exc)}", 0, _words(exc))
    if isinstance(exc, OSError):
        return ServerUnreachable(f"talking to {host}:{port} failed: {exc}")
    raise exc


def _words(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text[:300]


class ImapMailbox:
    """One IMAP session on one folder."""

    def __init__(self, settings: IncomingSettings, folder: str = "INBOX") -> None:
        self.s = settings
        self.folder = folder
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.uidnext = 0

    def _guard(self, fn):  # noqa: ANN001, ANN202
        try:
            return fn()
        except Exception as exc:
            self.close()
            raise translate(exc, "IMAP", self.s.host, self.s.port) from exc

    def connect_only(self) -> None:
        """TCP, TLS (implicit or STARTTLS), certificate checked; no login yet."""
        s = self.s

        def connect() -> None:
            ctx = tls_context(s.ca_file)
            client = IMAPClient(s.host, port=s.port, ssl=s.mode == IMPLICIT, ssl_context=ctx, timeout=s.timeout)
            self.client = client
            # imapclient writes some commands (SEARCH) in several small pieces; with Nagle on,
            # the server's delayed ACK then adds 40 ms to each such command
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if s.mode == STARTTLS:
                client.starttls(ctx)

        self._guard(connect)

    def login_only(self) -> None:
        assert self.client is not None
        client = self.client
        self._guard(lambda: client.login(self.s.credentials.username, self.s.credentials.secret()))

    def __enter__(self) -> "ImapMailbox":
        self.connect_only()
        self.login_only()

        def select() -> None:
            assert self.client is not None
            info = self.client.select_folder(self.folder, readonly=True)
            self.uidvalidity = int(info[b"UIDVALIDITY"])
            self.uidnext = int(info.get(b"UIDNEXT", 0))

        self._guard(select)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. (`UID n:*` always returns the last message, so filter.)"""
        assert self.client is not None
        try:
            found = self.client.search(["UID", f"{last_uid + 1}:*"])
        except Exception as exc:
            raise translate(exc, "IMAP", self.s.host, self.s.port) from exc
        return sorted(u for u in found if u > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, bytes]]:
        """(uid, raw) in UID order, in chunks, with BODY.PEEK[] (the Seen flag is untouched)."""
        assert self.client is not None
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            try:
                data = self.client.fetch(chunk, ["BODY.PEEK[]"])
            except Exception as exc:
                raise translate(exc, "IMAP", self.s.host, self.s.port) from exc
            for uid in chunk:
                item = data.get(uid)
                if item is not None and b"BODY[]" in item:
                    yield uid, bytes(item[b"BODY[]"])

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def abort(self) -> None:
        client = self.client
        if client is not None:
            try:
                client.socket().shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass


class Pop3Mailbox:
    """One POP3 session. Deletions requested with `delete` apply at `quit`."""

    def __init__(self, settings: IncomingSettings) -> None:
        self.s = settings
        self.pop: poplib.POP3 | None = None

    def connect_only(self) -> None:
        s = self.s
        try:
            ctx = tls_context(s.ca_file)
            if s.mode == IMPLICIT:
                pop: poplib.POP3 = poplib.POP3_SSL(s.host, s.port, context=ctx, timeout=s.timeout)
            else:
                pop = poplib.POP3(s.host, s.port, timeout=s.timeout)
                self.pop = pop
                pop.stls(ctx)
            self.pop = pop
        except Exception as exc:
            self.close()
            raise translate(exc, "POP3", s.host, s.port) from exc

    def login_only(self) -> None:
        assert self.pop is not None
        try:
            self.pop.user(self.s.credentials.username)
            self.pop.pass_(self.s.credentials.secret())
        except Exception as exc:
            self.close()
            raise translate(exc, "POP3", self.s.host, self.s.port) from exc

    def __enter__(self) -> "Pop3Mailbox":
        self.connect_only()
        self.login_only()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn, *args):  # noqa: ANN001, ANN202
        try:
            return fn(*args)
        except Exception as exc:
            raise translate(exc, "POP3", self.s.host, self.s.port) from exc

    def uidls(self) -> list[tuple[int, str]]:
        assert self.pop is not None
        _, lines, _ = self._call(self.pop.uidl)
        out = []
        for line in lines:
            num, _, uid = line.decode("ascii", "replace").partition(" ")
            out.append((int(num), uid.strip()))
        return out

    def retrieve(self, number: int) -> bytes:
        assert self.pop is not None
        _, lines, _ = self._call(self.pop.retr, number)
        return b"\r\n".join(lines) + b"\r\n"

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
                raise translate(exc, "POP3", self.s.host, self.s.port) from exc

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
        if pop is not None and getattr(pop, "sock", None) is not None:
            try:
                pop.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
