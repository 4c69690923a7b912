"""Receiving over IMAP with imapclient: the talking only. What the server's answers mean is
read in wire.py; TLS and logins come from connection.py and sasl.py. imapclient, imaplib,
ssl and socket errors become engine errors here.

IMAP syncs by UID, never by the Seen flag, and reads with BODY.PEEK[] so the server's read
state is untouched.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import TypeVar

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from engine.adapters import wire
from engine.adapters.connection import IMPLICIT, STARTTLS, IncomingSettings, cut, open_socket, tls_context
from engine.adapters.network import proxied, server_words, translate_incoming
from engine.adapters.proxy import Proxy
from engine.adapters.sasl import OAuth2Login, imap_login
from engine.errors import AuthenticationRefused, MailServerError, ServerRejected, ServerUnreachable

log = logging.getLogger("practicemail.imap")

FETCH_CHUNK = 200  # messages in one FETCH, or
FETCH_BYTES = 32 * 1024 * 1024  # bytes (a larger message is fetched on its own)
SMALL = 100 * 1024  # messages up to this size are not asked their size: 200 of them fit FETCH_BYTES
T = TypeVar("T")


def plan_fetches(uids: list[int], sizes: dict[int, int], most: int, most_bytes: int) -> list[list[int]]:
    """`uids` in order, cut into runs of at most `most` messages and `most_bytes` bytes (a
    message larger than that is a run of its own; an unknown size counts as nothing)."""
    runs: list[list[int]] = []
    run: list[int] = []
    weight = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if run and (len(run) >= most or weight + size > most_bytes):
            runs.append(run)
            run, weight = [], 0
        run.append(uid)
        weight += size
    if run:
        runs.append(run)
    return runs


def translate(exc: BaseException, host: str, port: int) -> MailServerError:
    """Any failure talking IMAP -> the engine error a person can act on."""
    known = translate_incoming(exc, host, port)
    if known is not None:
        return known
    if isinstance(exc, imap_errors.LoginError):
        return AuthenticationRefused(f"the IMAP server refused the login: {server_words(exc)}",
                                     hint="The server said the user name or password is wrong: correct them in "
                                          "the setup wizard.")
    if isinstance(exc, (imaplib.IMAP4.abort, EOFError, ConnectionError)):
        return ServerUnreachable(f"{host}:{port} closed the connection: {server_words(exc)}",
                                 hint="The connection dropped; mail will be fetched again on the next check.")
    if isinstance(exc, (imap_errors.IMAPClientError, imaplib.IMAP4.error)):
        return ServerRejected(f"the IMAP server said: {server_words(exc)}", 0, server_words(exc))
    if isinstance(exc, OSError):
        return ServerUnreachable(f"talking to {host}:{port} failed: {exc}")
    raise exc


class _DialledIMAP4(imaplib.IMAP4):
    """imaplib with its connection from `open_socket` (direct or through the proxy, with TLS
    when given a context). imaplib's own IMAP4_SSL calls IMAP4._create_socket by name, so the
    TLS is done here rather than by inheriting it."""

    def __init__(self, host: str, port: int, timeout: float | None, proxy: Proxy | None,
                 context: ssl.SSLContext | None) -> None:
        self._proxy, self._context = proxy, context
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:  # imaplib's own hook
        return open_socket(self.host, self.port, timeout, self._proxy, self._context)


class _Client(IMAPClient):
    """imapclient on a `_DialledIMAP4`: its connection made by us, everything else its own."""

    def __init__(self, proxy: Proxy | None, host: str, port: int, ssl: bool, ssl_context: ssl.SSLContext,
                 timeout: float) -> None:
        self._proxy = proxy
        super().__init__(host, port=port, ssl=ssl, ssl_context=ssl_context, timeout=timeout)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # noqa: N802 - imapclient's hook
        return _DialledIMAP4(self.host, self.port, getattr(self._timeout, "connect", None), self._proxy,
                             self.ssl_context if self.ssl else None)


class ImapMailbox:
    """One IMAP session on one folder."""

    def __init__(self, settings: IncomingSettings, folder: str = "INBOX") -> None:
        self.s = settings
        self.folder = folder
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.uidnext = 0
        self.fetch_bytes = FETCH_BYTES

    def _guard(self, fn: Callable[[], T]) -> T:
        """`fn()`, its failure translated; the session is closed on one (connecting, logging in)."""
        try:
            return fn()
        except Exception as exc:
            self.close()
            raise translate(exc, self.s.host, self.s.port) from exc

    def _call(self, fn: Callable[[], T]) -> T:
        """`fn()`, its failure translated; the session stays for the caller to close or abort."""
        try:
            return fn()
        except Exception as exc:
            raise translate(exc, self.s.host, self.s.port) from exc

    def connect_only(self) -> None:
        """TCP, TLS (implicit or STARTTLS), certificate checked; no login yet."""
        s = self.s

        def connect() -> None:
            ctx = tls_context(s.ca_file)
            client = _Client(s.proxy, s.host, s.port, s.mode == IMPLICIT, ctx, s.timeout)
            self.client = client
            # imapclient writes some commands (SEARCH) in several small pieces; with Nagle on,
            # the server's delayed ACK then adds 40 ms to each such command
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if s.mode == STARTTLS:
                client.starttls(ctx)

        try:
            connect()
        except Exception as exc:
            greeted = self.client is not None  # imaplib read the greeting in the constructor
            self.close()
            err = translate(exc, s.host, s.port)
            raise (err if greeted else proxied(err, s.proxy, s.host, s.port, "incoming")) from exc

    def login_only(self) -> None:
        assert self.client is not None
        client = self.client
        credentials = self.s.credentials
        if isinstance(credentials, OAuth2Login):
            caps = wire.capability_names(self._guard(client.capabilities))
            # imaplib's connection: imapclient's oauth2_login answers a refused token's error
            # challenge with the token again (RFC 7628 wants an abort) and has no SASL-IR, which
            # saves one round trip per sign-in (imapclient 4.1 has no public way to do either)
            self._guard(lambda: imap_login(client._imap, credentials, caps))  # noqa: SLF001
        else:
            self._guard(lambda: client.login(credentials.username, credentials.secret()))

    def __enter__(self) -> "ImapMailbox":
        self.connect_only()
        self.login_only()

        def select() -> None:
            assert self.client is not None
            info = self.client.select_folder(self.folder, readonly=True)
            self.uidvalidity, self.uidnext = wire.select_state(info)

        self._guard(select)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. (`UID n:*` always returns the last message, so filter.)"""
        client = self.client
        assert client is not None
        found = self._call(lambda: client.search(["UID", f"{last_uid + 1}:*"]))
        return sorted(u for u in found if u > last_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """Sizes of the messages among `uids` larger than SMALL; every other one is at most
        SMALL. One SEARCH over the range, then RFC822.SIZE of only the large ones (asking
        every message's size cost a tenth of a 10,000-message first sync in parsing alone)."""
        client = self.client
        assert client is not None
        if not uids:
            return {}
        wanted = set(uids)
        found = self._call(lambda: client.search(["UID", f"{uids[0]}:{uids[-1]}", "LARGER", str(SMALL)]))
        large = sorted(u for u in found if u in wanted)
        sizes = {u: SMALL for u in uids}
        for start in range(0, len(large), 500):
            part = large[start:start + 500]
            sizes.update(wire.sizes_of(self._call(lambda: client.fetch(part, ["RFC822.SIZE"])), SMALL))
        return sizes

    def fetch_chunks(self, uids: list[int]) -> Iterator[list[tuple[int, bytes]]]:
        """Lists of (uid, raw) in UID order, one FETCH each (at most FETCH_CHUNK messages or
        FETCH_BYTES bytes, so a run of large attachments never sits in memory 200 at a time),
        with BODY.PEEK[] (the Seen flag is untouched)."""
        assert self.client is not None
        for chunk in plan_fetches(uids, self.sizes(uids), FETCH_CHUNK, self.fetch_bytes):
            bodies = self._call(lambda: self._bodies(chunk))
            yield [(uid, bodies[uid]) for uid in chunk if uid in bodies]

    def _bodies(self, uids: list[int]) -> dict[int, bytes]:
        """UID FETCH (BODY.PEEK[]) through imapclient's own imaplib connection, as its fetch()
        does, so that wire.fetch_bodies reads the answer: imapclient's fetch() parses it with
        its general parser, 150-290 ms more per 10,000 messages, 5-9 % of a 3.2 s first sync
        (wire.fetch_bodies; `tools/bench/inbound.py --parsing`)."""
        assert self.client is not None
        imap = self.client._imap  # noqa: SLF001 - the 5-9 % above; imapclient has no unparsed fetch
        typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
        if typ != "OK":
            raise imap_errors.IMAPClientError(f"FETCH failed: {data!r}"[:300])
        return wire.fetch_bodies(data)

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
                cut(client.socket())
            except AttributeError:
                pass
