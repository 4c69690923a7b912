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
import io
import logging
import poplib
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors
from imapclient.response_parser import parse_fetch_response

from engine.adapters.network import translate_network
from engine.adapters.sasl import OAuth2Login, imap_login, pop3_login
from engine.adapters.smtp import Credentials, tls_context
from engine.errors import AuthenticationRefused, MailServerError, ServerRejected, ServerUnreachable

log = logging.getLogger("practicemail.imap")
pop_log = logging.getLogger("practicemail.pop3")

IMPLICIT, STARTTLS = "implicit", "starttls"
# poplib refuses any line over 2,048 bytes ("line too long"), so one hostile message (a 1 MB
# subject) would stop a POP3 mailbox for good. Lines are bounded by the message size instead.
poplib._MAXLINE = 64 * 1024 * 1024  # noqa: SLF001
FETCH_CHUNK = 200  # messages in one FETCH, or
FETCH_BYTES = 32 * 1024 * 1024  # bytes (a larger message is fetched on its own)
SMALL = 100 * 1024  # messages up to this size are not asked their size: 200 of them fit FETCH_BYTES
_END = b"\r\n.\r\n"
T = TypeVar("T")
_FETCH_HEAD = re.compile(rb"\d+ \(UID (\d+) BODY\[\] \{\d+\}")


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


def read_multiline(f: io.BufferedReader, limit: int = poplib._MAXLINE) -> bytes | None:  # noqa: SLF001
    """The body of a POP3 multi-line answer (after its status line, which must have ended in
    CRLF), dot-stuffing undone, as CRLF text; read in blocks up to the ending dot and not one
    byte further (a pipelined answer may follow in the buffer). poplib reads such an answer a
    line at a time in Python: for a 10,000-line UIDL listing or a day's RETRs that was most
    of the client's time. None if the connection ended first."""
    parts: list[bytes] = []
    tail = b"\r\n"  # the status line's ending: an empty answer is just ".\r\n"
    total = 0
    while True:
        data = f.peek(65536)  # what is buffered (one read if nothing is), without taking it
        if not data:
            return None
        window = tail + data
        at = window.find(_END)
        if at >= 0:
            parts.append(f.read(at + len(_END) - len(tail)))
            break
        chunk = f.read(len(data))
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise poplib.error_proto("-ERR answer too long")
        tail = (tail + chunk)[-4:]
    body = b"".join(parts)[:-3]  # without the ".\r\n" that ends it
    return (b"\r\n" + body).replace(b"\r\n..", b"\r\n.")[2:]


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
        self.fetch_bytes = FETCH_BYTES

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
        credentials = self.s.credentials
        if isinstance(credentials, OAuth2Login):
            caps = {c.decode("ascii", "replace").upper() for c in self._guard(client.capabilities)}
            self._guard(lambda: imap_login(client._imap, credentials, caps))  # noqa: SLF001
            client._cached_capabilities = None  # noqa: SLF001 - they change at login
        else:
            self._guard(lambda: client.login(credentials.username, credentials.secret()))

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

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """Sizes of the messages among `uids` larger than SMALL; every other one is at most
        SMALL. One SEARCH over the range, then RFC822.SIZE of only the large ones (asking
        every message's size cost a tenth of a 10,000-message first sync in parsing alone)."""
        assert self.client is not None
        if not uids:
            return {}
        wanted = set(uids)
        try:
            large = sorted(u for u in self.client.search(["UID", f"{uids[0]}:{uids[-1]}", "LARGER", str(SMALL)])
                           if u in wanted)
            sizes = {u: SMALL for u in uids}
            for start in range(0, len(large), 500):
                data = self.client.fetch(large[start:start + 500], ["RFC822.SIZE"])
                sizes.update({uid: int(item.get(b"RFC822.SIZE", SMALL)) for uid, item in data.items()})
        except Exception as exc:
            raise translate(exc, "IMAP", self.s.host, self.s.port) from exc
        return sizes

    def fetch_chunks(self, uids: list[int]) -> Iterator[list[tuple[int, bytes]]]:
        """Lists of (uid, raw) in UID order, one FETCH each (at most FETCH_CHUNK messages or
        FETCH_BYTES bytes, so a run of large attachments never sits in memory 200 at a time),
        with BODY.PEEK[] (the Seen flag is untouched)."""
        assert self.client is not None
        for chunk in plan_fetches(uids, self.sizes(uids), FETCH_CHUNK, self.fetch_bytes):
            try:
                bodies = self._bodies(chunk)
            except Exception as exc:
                raise translate(exc, "IMAP", self.s.host, self.s.port) from exc
            yield [(uid, bodies[uid]) for uid in chunk if uid in bodies]

    def _bodies(self, uids: list[int]) -> dict[int, bytes]:
        """UID FETCH (BODY.PEEK[]) through imapclient's own imaplib connection, reading the
        usual answer shape, `* n FETCH (UID u BODY[] {size}` + literal, with one regex:
        imapclient's general response parser took as long as the network for a first sync
        of 10,000. Any other shape (UID after the literal, extra items) goes to that parser."""
        assert self.client is not None
        imap = self.client._imap  # noqa: SLF001 - imapclient's imaplib.IMAP4, as its fetch() uses it
        typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(BODY.PEEK[])")
        if typ != "OK":
            raise imap_errors.IMAPClientError(f"FETCH failed: {data!r}"[:300])
        out: dict[int, bytes] = {}
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                m = _FETCH_HEAD.fullmatch(item[0])
                if m is not None:
                    out[int(m.group(1))] = item[1]
                    continue
            elif item == b")" or item is None:
                continue
            break  # not the usual shape: let imapclient read the whole answer
        else:
            return out
        parsed = parse_fetch_response(data, self.client.normalise_times, True)
        return {uid: bytes(v[b"BODY[]"]) for uid, v in parsed.items() if isinstance(v, dict) and b"BODY[]" in v}

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


def _message(answer: list[bytes] | bytes) -> bytes:
    return answer if isinstance(answer, bytes) else b"\r\n".join(answer) + b"\r\n"


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
            if isinstance(self.s.credentials, OAuth2Login):
                pop3_login(self.pop, self.s.credentials)
            else:
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

    def _long(self, command: str | None) -> list[bytes] | bytes:
        """A multi-line answer to `command` (None: to one already sent): CRLF text through
        read_multiline when the server ends its lines in CRLF, as RFC 1939 says; otherwise
        poplib's own line reader and its list of lines."""
        assert self.pop is not None
        pop = self.pop

        def call() -> list[bytes] | bytes:
            if command is not None:
                pop._putcmd(command)  # noqa: SLF001 - poplib's writer, as its own commands use it
            status = pop.file.readline(poplib._MAXLINE + 1)  # noqa: SLF001
            if not status:
                raise poplib.error_proto("-ERR EOF")
            if not status.startswith(b"+"):
                raise poplib.error_proto(status.rstrip(b"\r\n"))
            if status.endswith(b"\r\n"):
                text = read_multiline(pop.file)
                if text is None:
                    raise poplib.error_proto("-ERR EOF")
                return text
            lines = []
            line, _ = pop._getline()  # noqa: SLF001
            while line != b".":
                lines.append(line[1:] if line.startswith(b"..") else line)
                line, _ = pop._getline()  # noqa: SLF001
            return lines

        return self._call(call)

    def uidls(self) -> list[tuple[int, str]]:
        answer = self._long("UIDL")
        lines = answer.split(b"\r\n")[:-1] if isinstance(answer, bytes) else answer
        if isinstance(answer, bytes):
            words = answer.decode("ascii", "replace").split()
            numbers = words[0::2]
            if len(words) == 2 * len(lines) and all(n.isdigit() for n in numbers):
                # "n uid" on every line (the usual case): split once, not line by line
                return list(zip(map(int, numbers), words[1::2]))
        out = []
        for line in lines:
            num, _, uid = line.partition(b" ")
            if num.isdigit():
                out.append((int(num), uid.strip().decode("ascii", "replace")))
        return out

    def retrieve(self, number: int) -> bytes:
        return _message(self._long(f"RETR {number}"))

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
                raise translate(exc, "POP3", self.s.host, self.s.port) from exc
        return self._pipelining

    def _pipelined(self, commands: list[str], read: Callable[[], T], window: int = 16) -> Iterator[T]:
        """Each command's answer, in order. With PIPELINING, up to `window` commands are on the
        wire ahead of the answer being read, so the round trips overlap; without it, one at a
        time. Leaving the iteration early leaves answers unread: abandon the session then
        (close or abort, never QUIT on it)."""
        assert self.pop is not None
        pop = self.pop
        ahead = window if len(commands) > 1 and self.pipelining() else 1
        sent = 0
        for i in range(len(commands)):
            while sent < len(commands) and sent < i + ahead:
                # poplib has no pipelining of its own: later commands go on the wire ahead of
                # this answer, through the writer poplib's own commands use
                self._call(pop._putcmd, commands[sent])  # noqa: SLF001
                sent += 1
            yield read()

    def retrieve_many(self, numbers: list[int], window: int = 16) -> Iterator[tuple[int, bytes]]:
        """(number, raw) for each, in order, pipelined when the server allows."""
        answers = self._pipelined([f"RETR {n}" for n in numbers], lambda: _message(self._long(None)), window)
        return zip(numbers, answers)

    def count(self) -> int:
        """STAT: how many messages the maildrop holds."""
        assert self.pop is not None
        return int(self._call(self.pop.stat)[0])

    def uidls_of(self, numbers: list[int]) -> list[tuple[int, str]]:
        """`UIDL n` for each (pipelined when allowed): a few new messages' UIDLs without the
        whole listing, which for a mailbox of 10,000 left on the server is 600 KB a check."""
        assert self.pop is not None
        pop = self.pop

        def one() -> tuple[int, str]:
            line = self._call(pop._getresp)  # noqa: SLF001 - "+OK n uid"
            parts = line.decode("ascii", "replace").split()
            if len(parts) != 3 or not parts[1].isdigit():
                raise translate(poplib.error_proto(f"-ERR unexpected UIDL answer {line[:80]!r}"), "POP3",
                                self.s.host, self.s.port)
            return int(parts[1]), parts[2]

        return list(self._pipelined([f"UIDL {n}" for n in numbers], one))

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
