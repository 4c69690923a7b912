"""The fake POP3 server (RFC 1939, CAPA of RFC 2449, STLS of RFC 2595, AUTH PLAIN).

Ours because no maintained POP3 server library exists. It serves the same
Maildir mailboxes as IMAP. A session takes an exclusive lock on its mailbox
(a second one gets `-ERR [IN-USE]`), sees a snapshot taken at login, and its
deletions are applied only at QUIT (the UPDATE state). UIDL is the Maildir
file name: unique and stable for the life of the message.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass, field

from tools.fakemail.faults import Faults, before_reply, on_connect, until_closed
from tools.fakemail.lines import LineTooLong, read_line, start_tls
from tools.fakemail.oauth import OAuthServer, parse_bearer
from tools.fakemail.mailstore import MailStore, Message, User


@dataclass
class Pop3Config:
    store: MailStore
    faults: Faults
    tls: ssl.SSLContext
    implicit_tls: bool
    locked: set[str] = field(default_factory=set)
    oauth: OAuthServer | None = None


def dot_stuff(data: bytes) -> bytes:
    """The message as POP3 sends it: CRLF lines, leading dots doubled, ended by '.'."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines)
    return out + b".\r\n"


class Pop3Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cfg: Pop3Config) -> None:
        self.reader, self.writer, self.cfg = reader, writer, cfg
        self.tls = cfg.implicit_tls
        self.user: User | None = None
        self.pending_user: str | None = None
        self.messages: list[Message] = []
        self.deleted: set[int] = set()
        self.hidden: set[str] = set()  # capabilities a fault took away in this session
        self.bearer = ""  # the access token this session signed in with
        self.session = cfg.faults.new_session("pop3", str(writer.get_extra_info("peername")))

    async def send(self, data: bytes) -> None:
        await before_reply(self.cfg.faults, "pop3", self.session)
        self.cfg.faults.record("pop3", self.session, "out", data[:200].decode("utf-8", "replace"))
        self.writer.write(data)
        await self.writer.drain()

    async def ok(self, text: str = "") -> None:
        await self.send(f"+OK {text}\r\n".encode())

    async def err(self, text: str) -> None:
        await self.send(f"-ERR {text}\r\n".encode())

    async def run(self) -> None:
        faults = self.cfg.faults
        try:
            if not await on_connect(faults, "pop3", self.session, self.writer.transport):
                return  # refused (or hung) before any TLS, as a closed port would be
            if self.cfg.implicit_tls:  # the handshake after the connect faults, not before them
                await start_tls(self.reader, self.writer, self.cfg.tls)
            await self.ok("fakemail POP3 ready")
            while True:
                try:
                    line = await read_line(self.reader)
                except LineTooLong:
                    await self.err("line too long (RFC 2449 allows 255 octets)")
                    continue
                if not line:
                    return
                text = line.decode("utf-8", "replace").strip()
                verb, _, arg = text.partition(" ")
                verb = verb.upper()
                faults.record("pop3", self.session, "in", f"{verb} ***" if verb in ("PASS", "AUTH") else text)
                handler = getattr(self, f"cmd_{verb.lower()}", None)
                gone = self.hidden | faults.hidden("pop3")
                if verb in gone or (verb == "AUTH" and "SASL" in gone) or (verb in ("USER", "PASS") and "USER" in gone):
                    handler = None
                if handler is None:
                    await self.err(f"unknown command {verb}")
                    continue
                oauth = self.cfg.oauth
                if self.bearer and oauth is not None and oauth.expired(self.bearer) and verb != "QUIT":
                    await self.err("[SYS/PERM] The access token expired; sign in again")
                    return
                if self.user is None and verb not in ("CAPA", "STLS", "USER", "PASS", "AUTH", "QUIT", "NOOP"):
                    await self.err("log in first")
                    continue
                if await handler(arg.strip()) is False:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, LineTooLong):
            return
        finally:
            faults.record("pop3", self.session, "close", "")
            if self.user is not None:
                self.cfg.locked.discard(self.user.username)
            self.writer.close()

    def capa(self) -> list[str]:
        caps = ["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
        if self.user is None:
            caps += ["USER", "SASL PLAIN XOAUTH2 OAUTHBEARER"] if self.tls else ["STLS"]
        hide = self.cfg.faults.take("pop3", "capa", self.session)
        if hide is not None:
            self.hidden.add(hide.text.upper())
        hidden = self.hidden | self.cfg.faults.hidden("pop3")
        return [c for c in caps if c.split()[0] not in hidden]

    async def cmd_capa(self, arg: str) -> None:
        await self.send(("+OK capability list follows\r\n" + "".join(f"{c}\r\n" for c in self.capa()) + ".\r\n").encode())

    async def cmd_stls(self, arg: str) -> None:
        if self.tls or self.user is not None:
            await self.err("TLS already active" if self.tls else "not allowed after login")
            return
        await self.ok("Begin TLS negotiation")
        await start_tls(self.reader, self.writer, self.cfg.tls)
        self.tls = True

    async def cmd_noop(self, arg: str) -> None:
        await self.ok()

    async def cmd_user(self, arg: str) -> None:
        if not self.tls:
            await self.err("[AUTH] Plaintext authentication disallowed on non-secure connections (use STLS)")
            return
        self.pending_user = arg
        await self.ok("send PASS")

    async def cmd_pass(self, arg: str) -> None:
        if self.pending_user is None:
            await self.err("send USER first")
            return
        await self._login(self.pending_user, arg)

    async def cmd_auth(self, arg: str) -> None:
        if not self.tls:
            await self.err("[AUTH] Plaintext authentication disallowed on non-secure connections (use STLS)")
            return
        mech, _, initial = arg.partition(" ")
        if mech.upper() in ("XOAUTH2", "OAUTHBEARER"):
            await self._bearer(mech.upper(), initial)
            return
        if mech.upper() != "PLAIN":
            await self.err("unsupported mechanism")
            return
        if not initial:
            await self.send(b"+ \r\n")
            initial = (await read_line(self.reader)).decode("ascii", "replace").strip()
        try:
            _authz, user, password = base64.b64decode(initial, validate=True).decode("utf-8").split("\x00")
        except (ValueError, UnicodeDecodeError):
            await self.err("malformed PLAIN response")
            return
        await self._login(user, password)

    async def _bearer(self, mechanism: str, initial: str) -> None:
        """RFC 5034 AUTH with XOAUTH2 / OAUTHBEARER: a refused token gets the JSON challenge,
        the client's answer, then -ERR, as the providers do."""
        if not initial:
            await self.send(b"+ \r\n")
            initial = (await read_line(self.reader)).decode("ascii", "replace").strip()
        try:
            parsed = parse_bearer(mechanism, base64.b64decode(initial, validate=True))
        except ValueError:
            await self.err(f"malformed {mechanism} response")
            return
        oauth = self.cfg.oauth
        refused = self.cfg.faults.take("pop3", "auth", self.session) is not None
        user = None if refused or parsed is None or oauth is None else oauth.check_token(*parsed)
        if user is None:
            assert oauth is not None
            await self.send(b"+ " + oauth.failure_challenge(mechanism) + b"\r\n")
            await read_line(self.reader)
            await self.err("[AUTH] Authentication failure: unknown user name or bad password.")
            return
        assert parsed is not None
        self.bearer = parsed[1]
        await self._open(user)

    async def _login(self, username: str, password: str) -> None:
        faults = self.cfg.faults
        if faults.take("pop3", "auth", self.session) is not None:
            await self.err("[AUTH] Authentication failed.")
            return
        user = self.cfg.store.check_login(username, password)
        if user is None:
            await self.err("[AUTH] Authentication failed.")
            return
        await self._open(user)

    async def _open(self, user: User) -> None:
        """The mailbox of a user who has signed in: locked, and seen as at this moment."""
        faults = self.cfg.faults
        if faults.take("pop3", "login", self.session) is not None or user.username in self.cfg.locked:
            await self.err("[IN-USE] Mailbox is locked by another POP3 session")
            return
        self.cfg.locked.add(user.username)
        self.user = user
        box = self.cfg.store.mailbox(user.username)
        box.refresh()
        self.messages = list(box.messages)
        await self.ok(f"{len(self.messages)} messages")

    def _msg(self, arg: str) -> tuple[int, Message] | None:
        try:
            n = int(arg.split()[0])
        except (ValueError, IndexError):
            return None
        if 1 <= n <= len(self.messages) and n not in self.deleted:
            return n, self.messages[n - 1]
        return None

    def _live(self) -> list[tuple[int, Message]]:
        return [(i + 1, m) for i, m in enumerate(self.messages) if i + 1 not in self.deleted]

    async def cmd_stat(self, arg: str) -> None:
        live = self._live()
        await self.ok(f"{len(live)} {sum(m.size for _, m in live)}")

    async def _listing(self, arg: str, value: "callable") -> None:  # type: ignore[valid-type]
        if arg:
            found = self._msg(arg)
            if found is None:
                await self.err("no such message")
                return
            await self.ok(f"{found[0]} {value(found[1])}")
            return
        body = "".join(f"{n} {value(m)}\r\n" for n, m in self._live())
        await self.send(f"+OK\r\n{body}.\r\n".encode())

    async def cmd_list(self, arg: str) -> None:
        await self._listing(arg, lambda m: m.size)

    async def cmd_uidl(self, arg: str) -> None:
        await self._listing(arg, lambda m: m.name)

    async def _send_message(self, data: bytes) -> None:
        payload = dot_stuff(data)
        fault = self.cfg.faults.take("pop3", "fetch", self.session)
        if fault is not None:
            self.writer.write(b"+OK message follows\r\n" + payload[: len(payload) // 2])
            await self.writer.drain()
            if fault.action == "hang":  # half a message, then silence
                await until_closed(self.reader)
            self.writer.transport.abort()
            raise ConnectionResetError("fault: dropped mid-RETR")
        await self.send(b"+OK message follows\r\n" + payload)

    def _read(self, message: Message) -> bytes | None:
        try:
            return message.read()
        except FileNotFoundError:  # removed by hand during the session: this message only
            return None

    async def cmd_retr(self, arg: str) -> None:
        found = self._msg(arg)
        if found is None:
            await self.err("no such message")
            return
        data = self._read(found[1])
        if data is None:
            await self.err("[SYS/TEMP] message is no longer on the server")
            return
        await self._send_message(data)

    async def cmd_top(self, arg: str) -> None:
        parts = arg.split()
        found = self._msg(arg)
        if found is None or len(parts) != 2 or not parts[1].isdigit():
            await self.err("usage: TOP msg lines")
            return
        data = self._read(found[1])
        if data is None:
            await self.err("[SYS/TEMP] message is no longer on the server")
            return
        raw = data.replace(b"\r\n", b"\n")
        head, sep, body = raw.partition(b"\n\n")
        lines = body.split(b"\n")[: int(parts[1])]
        await self._send_message(head + b"\n\n" + b"\n".join(lines) + (b"\n" if lines else b""))

    async def cmd_dele(self, arg: str) -> None:
        found = self._msg(arg)
        if found is None:
            await self.err("no such message")
            return
        self.deleted.add(found[0])
        await self.ok(f"message {found[0]} deleted")

    async def cmd_rset(self, arg: str) -> None:
        self.deleted.clear()
        await self.ok()

    async def cmd_quit(self, arg: str) -> bool:
        if self.user is not None and self.deleted:
            box = self.cfg.store.mailbox(self.user.username)
            box.delete({self.messages[n - 1].name for n in self.deleted})
        await self.ok("bye")
        return False


def make_handler(cfg: Pop3Config):  # noqa: ANN201
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Pop3Session(reader, writer, cfg).run()

    return handle
