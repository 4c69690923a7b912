"""The fake IMAP server: one INBOX per user over the shared Maildir spool.

Written here rather than embedding pymap: pymap needs several patches to be
usable (slow default login, a response written in many small pieces that
breaks imapclient's IDLE, custom keywords dropped) and gives no place to
inject faults mid-FETCH or to change UIDVALIDITY on demand. This server does
what imapclient and Thunderbird-class clients use: CAPABILITY, STARTTLS,
LOGIN, AUTHENTICATE PLAIN, folders (CREATE, DELETE, RENAME, LIST/LSUB, SUBSCRIBE, STATUS,
SELECT/EXAMINE, APPEND, COPY, MOVE: tools/fakemail/imap_folders.py), NAMESPACE,
SEARCH and UID SEARCH, FETCH and UID FETCH, STORE and UID STORE, EXPUNGE and
UID EXPUNGE, CLOSE/UNSELECT, IDLE, NOOP, LOGOUT. Every response is one write.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone

from tools.fakemail import imapwire as w
from tools.fakemail.faults import Faults, before_reply, on_connect
from tools.fakemail.imap_folders import FolderCommands
from tools.fakemail.imap_selected import Bye, SelectedCommands
from tools.fakemail.lines import LineTooLong, read_line, start_tls
from tools.fakemail.oauth import OAuthServer, parse_bearer
from tools.fakemail.mailstore import MailStore, Mailbox, Message, User



@dataclass
class ImapConfig:
    store: MailStore
    faults: Faults
    tls: ssl.SSLContext
    implicit_tls: bool
    oauth: OAuthServer | None = None


SELECTED = ("FETCH", "SEARCH", "STORE", "EXPUNGE", "COPY", "MOVE")  # the commands UID can prefix


class ImapSession(FolderCommands, SelectedCommands):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cfg: ImapConfig) -> None:
        self.reader, self.writer, self.cfg = reader, writer, cfg
        self.tls = cfg.implicit_tls
        self.user: User | None = None
        self.bearer = ""  # the access token this session signed in with
        self.box: Mailbox | None = None
        self.box_name = ""
        self.recent: set[int] = set()  # messages \\Recent for this session (it selected first)
        self.read_only = False
        # What this session has been told: its own numbering of the mailbox and each message's
        # flags. Other sessions, POP3 and files removed by hand change the shared mailbox; this
        # view changes only when the session is told (EXPUNGE, EXISTS, FETCH FLAGS), so message
        # numbers never move under a client without word (RFC 3501 §5.5, §7.4.1).
        self.view: list[Message] = []
        self.told_flags: dict[int, frozenset[str]] = {}
        self.session = cfg.faults.new_session("imap", str(writer.get_extra_info("peername")))

    # -- I/O --------------------------------------------------------------------------
    async def send(self, data: bytes) -> None:
        await before_reply(self.cfg.faults, "imap", self.session)
        self.cfg.faults.record("imap", self.session, "out", data[:200].decode("utf-8", "replace"))
        self.writer.write(data)
        await self.writer.drain()

    async def read_command(self) -> bytes | None:
        """One full command, with any literals read in (sending continuations)."""
        buf = b""
        while True:
            line = await read_line(self.reader)
            if not line:
                return None
            buf += line
            m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", line)
            if not m:
                return buf
            n = int(m.group(1))
            if n > 50_000_000:
                raise Bye("literal too large")
            if not m.group(2):
                await self.send(b"+ Ready for literal data\r\n")
            buf += await self.reader.readexactly(n)

    def capabilities(self) -> str:
        caps = ["IMAP4rev1", "LITERAL+", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID", "ENABLE", "UNSELECT",
                "SPECIAL-USE", "CHILDREN"]
        if not self.tls:
            caps += ["STARTTLS", "LOGINDISABLED"]
        elif self.user is None:
            caps += ["AUTH=PLAIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "SASL-IR"]
        hidden = self.cfg.faults.hidden("imap")
        return " ".join(c for c in caps if c.upper() not in hidden)

    # -- the session ------------------------------------------------------------------
    async def run(self) -> None:
        faults = self.cfg.faults
        try:
            if not await on_connect(faults, "imap", self.session, self.writer.transport):
                return  # refused (or hung) before any TLS, as a closed port would be
            if self.cfg.implicit_tls:  # the handshake after the connect faults, not before them
                await start_tls(self.reader, self.writer, self.cfg.tls)
            await self.send(f"* OK [CAPABILITY {self.capabilities()}] fakemail IMAP4rev1 ready\r\n".encode())
            while True:
                try:
                    data = await self.read_command()
                except LineTooLong as exc:
                    tag = exc.head.split(b" ", 1)[0] if b" " in exc.head else b"*"
                    await self.send(tag + b" BAD line too long (over 64 KiB); use a literal for long values\r\n")
                    continue
                if data is None:
                    return
                try:
                    tag, cmd, args = w.parse_command(data)
                except (w.ParseError, ValueError) as exc:
                    faults.record("imap", self.session, "in", data[:200].decode("utf-8", "replace"))
                    tag = data.split(b" ", 1)[0].decode("ascii", "replace") or "*"
                    await self.send(f"{tag} BAD {exc}\r\n".encode())
                    continue
                shown = f"{tag} {cmd} ***" if cmd in ("LOGIN", "AUTHENTICATE") else data[:200].decode(
                    "utf-8", "replace").strip()
                faults.record("imap", self.session, "in", shown)
                try:
                    await self.dispatch(tag, cmd, args)
                except Bye:
                    return
                except (w.ParseError, ValueError, IndexError, TypeError) as exc:
                    await self.send(f"{tag} BAD {cmd}: {exc}\r\n".encode())
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, LineTooLong):
            return
        finally:
            faults.record("imap", self.session, "close", "")
            if self.box is not None and not self.read_only:
                self.box.save()
            self.writer.close()

    async def dispatch(self, tag: str, cmd: str, args: list[w.Token]) -> None:
        uid = False
        if cmd == "UID":
            if not args:
                raise w.ParseError("UID needs a command")
            uid, cmd, args = True, w.text_of(args[0]).upper(), args[1:]
            if cmd not in SELECTED:
                raise w.ParseError(f"UID {cmd} is not supported")
        handler = getattr(self, f"cmd_{cmd.lower()}", None)
        if cmd in self.cfg.faults.hidden("imap"):  # a capability a fault took away: as if never written
            handler = None
        if handler is None:
            await self.send(f"{tag} BAD unknown command {cmd}\r\n".encode())
            return
        if cmd not in ("CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "LOGIN", "AUTHENTICATE", "ID") and self.user is None:
            await self.send(f"{tag} NO log in first\r\n".encode())
            return
        oauth = self.cfg.oauth
        if self.bearer and oauth is not None and oauth.expired(self.bearer):  # as Exchange Online ends it
            await self.send(b"* BYE Session invalidated - AccessTokenExpired\r\n")
            raise Bye()
        if (cmd in SELECTED or cmd in ("CLOSE", "UNSELECT")) and self.box is None:
            await self.send(f"{tag} BAD select a mailbox first\r\n".encode())
            return
        if cmd in SELECTED:
            await handler(tag, args, uid)
        else:
            await handler(tag, args)

    async def ok(self, tag: str, text: str) -> None:
        await self.send(f"{tag} OK {text}\r\n".encode())

    # -- any state ----------------------------------------------------------------------
    async def cmd_capability(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f"* CAPABILITY {self.capabilities()}\r\n{tag} OK CAPABILITY completed\r\n".encode())

    async def cmd_noop(self, tag: str, args: list[w.Token]) -> None:
        await self.send(self._updates() + f"{tag} OK NOOP completed\r\n".encode())

    async def cmd_check(self, tag: str, args: list[w.Token]) -> None:
        await self.send(self._updates() + f"{tag} OK CHECK completed\r\n".encode())

    async def cmd_logout(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f"* BYE fakemail logging out\r\n{tag} OK LOGOUT completed\r\n".encode())
        raise Bye()

    async def cmd_id(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f'* ID ("name" "fakemail")\r\n{tag} OK ID completed\r\n'.encode())

    async def cmd_enable(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f"* ENABLED\r\n{tag} OK ENABLE completed\r\n".encode())

    async def cmd_starttls(self, tag: str, args: list[w.Token]) -> None:
        if self.tls:
            await self.send(f"{tag} BAD already using TLS\r\n".encode())
            return
        await self.ok(tag, "Begin TLS negotiation now")
        await start_tls(self.reader, self.writer, self.cfg.tls)
        self.tls = True

    async def _login(self, tag: str, username: str, password: str, verb: str) -> None:
        if self.cfg.faults.take("imap", "auth", self.session) is not None:
            await self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".encode())
            return
        user = self.cfg.store.check_login(username, password)
        if user is None:
            await self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".encode())
            return
        self.user = user
        await self.send(f"{tag} OK [CAPABILITY {self.capabilities()}] {verb} completed\r\n".encode())

    async def cmd_login(self, tag: str, args: list[w.Token]) -> None:
        if not self.tls:
            await self.send(f"{tag} NO [PRIVACYREQUIRED] Use STARTTLS first\r\n".encode())
            return
        await self._login(tag, w.text_of(args[0]), w.text_of(args[1]), "LOGIN")

    async def cmd_authenticate(self, tag: str, args: list[w.Token]) -> None:
        if not self.tls:
            await self.send(f"{tag} NO [PRIVACYREQUIRED] Use STARTTLS first\r\n".encode())
            return
        mechanism = w.text_of(args[0]).upper()
        if mechanism in ("XOAUTH2", "OAUTHBEARER"):
            await self._bearer(tag, mechanism, w.text_of(args[1]) if len(args) > 1 else None)
            return
        if mechanism != "PLAIN":
            await self.send(f"{tag} NO unsupported mechanism\r\n".encode())
            return
        if len(args) > 1:
            answer = w.text_of(args[1])
        else:
            await self.send(b"+ \r\n")
            answer = (await read_line(self.reader)).decode("ascii", "replace").strip()
        if answer == "*":
            await self.send(f"{tag} BAD authentication cancelled\r\n".encode())
            return
        try:
            _authz, user, password = base64.b64decode(answer, validate=True).decode("utf-8").split("\x00")
        except (ValueError, UnicodeDecodeError):
            await self.send(f"{tag} BAD malformed PLAIN response\r\n".encode())
            return
        await self._login(tag, user, password, "AUTHENTICATE")

    async def _bearer(self, tag: str, mechanism: str, initial: str | None) -> None:
        """XOAUTH2 / OAUTHBEARER, with SASL-IR or after an empty challenge. A refused token gets
        the base64 JSON challenge, the client's (empty) answer, then NO, as the providers do."""
        if initial is None:
            await self.send(b"+ \r\n")
            initial = (await read_line(self.reader)).decode("ascii", "replace").strip()
        try:
            parsed = parse_bearer(mechanism, base64.b64decode(initial, validate=True))
        except ValueError:
            await self.send(f"{tag} BAD malformed {mechanism} response\r\n".encode())
            return
        oauth = self.cfg.oauth
        refused = self.cfg.faults.take("imap", "auth", self.session) is not None
        user = None if refused or parsed is None or oauth is None else oauth.check_token(*parsed)
        if user is None:
            assert oauth is not None
            await self.send(b"+ " + oauth.failure_challenge(mechanism) + b"\r\n")
            await read_line(self.reader)
            await self.send(f"{tag} NO AUTHENTICATE failed.\r\n".encode())
            return
        assert parsed is not None
        self.user, self.bearer = user, parsed[1]
        await self.send(f"{tag} OK [CAPABILITY {self.capabilities()}] AUTHENTICATE completed\r\n".encode())

def make_handler(cfg: ImapConfig):  # noqa: ANN201 - asyncio client_connected_cb
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ImapSession(reader, writer, cfg).run()

    return handle
