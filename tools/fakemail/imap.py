"""The fake IMAP server: one INBOX per user over the shared Maildir spool.

Written here rather than embedding pymap: pymap needs several patches to be
usable (slow default login, a response written in many small pieces that
breaks imapclient's IDLE, custom keywords dropped) and gives no place to
inject faults mid-FETCH or to change UIDVALIDITY on demand. This server does
what imapclient and Thunderbird-class clients use: CAPABILITY, STARTTLS,
LOGIN, AUTHENTICATE PLAIN, LIST/LSUB, NAMESPACE, STATUS, SELECT/EXAMINE,
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
from tools.fakemail import mime
from tools.fakemail.lines import LineTooLong, read_line, start_tls
from tools.fakemail.faults import Faults, before_reply, on_connect, until_closed
from tools.fakemail.mailstore import MailStore, Mailbox, Message, User

SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
IDLE_POLL = 0.1


@dataclass
class ImapConfig:
    store: MailStore
    faults: Faults
    tls: ssl.SSLContext
    implicit_tls: bool


class Bye(Exception):
    pass


def _mtime(message: Message) -> float | None:
    try:
        return message.path.stat().st_mtime
    except FileNotFoundError:
        return None


class ImapSession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cfg: ImapConfig) -> None:
        self.reader, self.writer, self.cfg = reader, writer, cfg
        self.tls = cfg.implicit_tls
        self.user: User | None = None
        self.box: Mailbox | None = None
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
        caps = ["IMAP4rev1", "LITERAL+", "IDLE", "UIDPLUS", "NAMESPACE", "ID", "ENABLE", "UNSELECT"]
        if not self.tls:
            caps += ["STARTTLS", "LOGINDISABLED"]
        elif self.user is None:
            caps += ["AUTH=PLAIN"]
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
            if cmd not in ("FETCH", "SEARCH", "STORE", "EXPUNGE", "COPY"):
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
        if cmd in ("FETCH", "SEARCH", "STORE", "EXPUNGE", "CLOSE", "UNSELECT", "COPY") and self.box is None:
            await self.send(f"{tag} BAD select a mailbox first\r\n".encode())
            return
        if cmd in ("FETCH", "SEARCH", "STORE", "EXPUNGE", "COPY"):
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
        if w.text_of(args[0]).upper() != "PLAIN":
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

    # -- authenticated ------------------------------------------------------------------
    async def cmd_namespace(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f'* NAMESPACE (("" "/")) NIL NIL\r\n{tag} OK NAMESPACE completed\r\n'.encode())

    async def cmd_list(self, tag: str, args: list[w.Token], verb: str = "LIST") -> None:
        pattern = w.text_of(args[1]) if len(args) > 1 else ""
        if pattern == "":
            out = f'* {verb} (\\Noselect) "/" ""\r\n'
        elif re.fullmatch(pattern.replace("*", ".*").replace("%", "[^/]*"), "INBOX", re.IGNORECASE):
            out = f'* {verb} (\\HasNoChildren) "/" INBOX\r\n'
        else:
            out = ""
        await self.send(f"{out}{tag} OK {verb} completed\r\n".encode())

    async def cmd_lsub(self, tag: str, args: list[w.Token]) -> None:
        await self.cmd_list(tag, args, "LSUB")

    def _mailbox(self, name: w.Token) -> Mailbox | None:
        if w.text_of(name).upper() != "INBOX":
            return None
        assert self.user is not None
        return self.cfg.store.mailbox(self.user.username)

    async def cmd_status(self, tag: str, args: list[w.Token]) -> None:
        box = self._mailbox(args[0])
        if box is None:
            await self.send(f"{tag} NO [NONEXISTENT] no such mailbox\r\n".encode())
            return
        box.refresh()
        values = {"MESSAGES": len(box.messages), "RECENT": 0, "UIDNEXT": box.uidnext,
                  "UIDVALIDITY": box.uidvalidity,
                  "UNSEEN": sum(1 for m in box.messages if "\\Seen" not in m.flags)}
        items = args[1] if isinstance(args[1], list) else [args[1]]
        body = " ".join(f"{w.text_of(i).upper()} {values[w.text_of(i).upper()]}" for i in items)
        await self.send(f"* STATUS INBOX ({body})\r\n{tag} OK STATUS completed\r\n".encode())

    async def _select(self, tag: str, args: list[w.Token], read_only: bool) -> None:
        box = self._mailbox(args[0])
        if box is None:
            self.box = None
            await self.send(f"{tag} NO [NONEXISTENT] no such mailbox\r\n".encode())
            return
        box.refresh()
        self.box, self.read_only = box, read_only
        self.view = list(box.messages)
        self.told_flags = {id(m): frozenset(m.flags) for m in self.view}
        unseen = next((i + 1 for i, m in enumerate(box.messages) if "\\Seen" not in m.flags), None)
        lines = [
            f"* FLAGS ({' '.join(SYSTEM_FLAGS)})",
            f"* OK [PERMANENTFLAGS ({' '.join(SYSTEM_FLAGS)} \\*)] flags allowed",
            f"* {len(box.messages)} EXISTS", "* 0 RECENT",
            f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid",
            f"* OK [UIDNEXT {box.uidnext}] predicted next UID",
        ]
        if unseen:
            lines.append(f"* OK [UNSEEN {unseen}] first unseen")
        mode = "READ-ONLY" if read_only else "READ-WRITE"
        lines.append(f"{tag} OK [{mode}] {'EXAMINE' if read_only else 'SELECT'} completed")
        await self.send(("\r\n".join(lines) + "\r\n").encode())

    async def cmd_select(self, tag: str, args: list[w.Token]) -> None:
        await self._select(tag, args, False)

    async def cmd_examine(self, tag: str, args: list[w.Token]) -> None:
        await self._select(tag, args, True)

    def _updates(self) -> bytes:
        """Untagged news since the session was last told: messages gone (EXPUNGE, highest
        first, so each number is right when it is read), new ones (EXISTS), flags changed
        elsewhere (FETCH FLAGS). Only where RFC 3501 allows EXPUNGE: NOOP, CHECK, IDLE, EXPUNGE."""
        box = self.box
        if box is None:
            return b""
        box.refresh()
        present = {id(m) for m in box.messages}
        out = []
        for i in range(len(self.view) - 1, -1, -1):
            if id(self.view[i]) not in present:
                out.append(f"* {i + 1} EXPUNGE\r\n")
                self.told_flags.pop(id(self.view[i]), None)
                del self.view[i]
        for seq, m in enumerate(self.view, 1):
            flags = frozenset(m.flags)
            if self.told_flags.get(id(m)) != flags:
                self.told_flags[id(m)] = flags
                out.append(f"* {seq} FETCH (FLAGS ({' '.join(sorted(flags))}))\r\n")
        known = {id(m) for m in self.view}
        arrived = [m for m in box.messages if id(m) not in known]
        if arrived:
            self.view.extend(arrived)
            self.told_flags.update((id(m), frozenset(m.flags)) for m in arrived)
            out.append(f"* {len(self.view)} EXISTS\r\n")
        return "".join(out).encode()

    # -- selected -------------------------------------------------------------------------
    def _targets(self, set_text: str, uid: bool) -> list[tuple[int, Message]]:
        assert self.box is not None
        msgs = self.view
        if uid:
            wanted = w.parse_uid_set(set_text, (m.uid for m in msgs))
            return [(i + 1, m) for i, m in enumerate(msgs) if m.uid in wanted]
        seqs = w.parse_set(set_text, len(msgs))
        return [(s, msgs[s - 1]) for s in sorted(seqs) if 1 <= s <= len(msgs)]

    async def cmd_fetch(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        targets = self._targets(w.text_of(args[0]), uid)
        items = args[1] if isinstance(args[1], list) else [args[1]]
        names = [w.text_of(i) for i in items]
        macro = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
                 "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                 "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]}
        if len(names) == 1 and names[0].upper() in macro:
            names = macro[names[0].upper()]
        if uid and not any(n.upper() == "UID" for n in names):
            names = ["UID", *names]
        changed = False
        missing = 0
        for seq, msg in targets:
            parts: list[bytes] = []
            raw: bytes | None = None
            tree: mime.Part | None = None
            drop_at: int | None = None
            hang = False
            try:
                for name in names:
                    upper = name.upper()
                    if upper == "UID":
                        parts.append(b"UID %d" % msg.uid)
                    elif upper == "FLAGS":
                        parts.append(("FLAGS (" + " ".join(sorted(msg.flags)) + ")").encode())
                    elif upper == "INTERNALDATE":
                        parts.append(b'INTERNALDATE "' + w.internaldate(msg.path.stat().st_mtime).encode() + b'"')
                    elif upper == "RFC822.SIZE":
                        parts.append(b"RFC822.SIZE %d" % msg.size)
                    elif upper == "ENVELOPE":
                        raw = raw if raw is not None else msg.read()
                        parts.append(b"ENVELOPE " + w.envelope(w.parse_message(raw)))
                    elif upper in ("BODYSTRUCTURE", "BODY"):
                        raw = raw if raw is not None else msg.read()
                        tree = tree if tree is not None else mime.parse(raw)
                        parts.append(upper.encode() + b" " + mime.structure(tree, extensible=upper == "BODYSTRUCTURE"))
                    elif upper.startswith(("BODY[", "BODY.PEEK[", "RFC822")):
                        raw = raw if raw is not None else msg.read()
                        label, data = self._section(upper, name, raw)
                        if drop_at is None:
                            fault = self.cfg.faults.take("imap", "fetch", self.session)
                            if fault is not None:
                                drop_at = len(b" ".join(parts)) + len(label) + 10 + len(data) // 2
                                hang = fault.action == "hang"
                        parts.append(label.encode() + b" " + (b"NIL" if data is None else w.literal(data)))
                        if not upper.startswith(("BODY.PEEK", "RFC822.HEADER", "RFC822.SIZE")) and not self.read_only \
                                and "\\Seen" not in msg.flags:
                            msg.flags.add("\\Seen")
                            changed = True
                            if not any(n.upper() == "FLAGS" for n in names):
                                parts.append(("FLAGS (" + " ".join(sorted(msg.flags)) + ")").encode())
                    else:
                        raise w.ParseError(f"unsupported fetch item {name}")
            except FileNotFoundError:  # removed by hand during the session: this one only
                missing += 1
                continue
            response = b"* %d FETCH (" % seq + b" ".join(parts) + b")\r\n"
            if drop_at is not None:
                self.writer.write(response[: drop_at])
                await self.writer.drain()
                if hang:  # half a message, then silence: the client's timeout or abort must end it
                    await until_closed(self.reader)
                self.writer.transport.abort()
                raise Bye()
            await self.send(response)
        if changed:
            self.box.save()
        if missing:  # RFC 5530: the rest were answered; NOOP will report the EXPUNGE
            await self.send(f"{tag} NO [EXPUNGEISSUED] {missing} of the messages no longer exist\r\n".encode())
            return
        await self.ok(tag, f"{'UID ' if uid else ''}FETCH completed")

    @staticmethod
    def _section(upper: str, name: str, raw: bytes) -> tuple[str, bytes | None]:
        """A section's label and bytes (None, sent as NIL, for a part the message does not have)."""
        if upper == "RFC822":
            return "RFC822", raw
        if upper == "RFC822.HEADER":
            return "RFC822.HEADER", w.split_message(raw)[0]
        if upper == "RFC822.TEXT":
            return "RFC822.TEXT", w.split_message(raw)[1]
        m = re.match(r"BODY(?:\.PEEK)?\[(.*?)\](?:<(\d+)(?:\.(\d+))?>)?$", name, re.IGNORECASE | re.DOTALL)
        if not m:
            raise w.ParseError(f"bad section {name}")
        section = m.group(1)
        label = f"BODY[{section}]"
        try:  # the whole message (what a sync asks for) needs no parse
            data = raw if section == "" else mime.section(mime.parse(raw), section)
        except mime.NoSuchPart:
            return label, None
        if m.group(2) is not None:
            start = int(m.group(2))
            length = int(m.group(3)) if m.group(3) else len(data)
            data = data[start:start + length]
            label += f"<{start}>"
        return label, data

    def _search(self, tokens: list[w.Token], msgs: list[Message], within: set[int] | None = None) -> set[int]:
        """Indexes (0-based) of messages matching all criteria. Each criterion looks only at
        the messages the ones before it left (`within`): `UID 10001:* LARGER n` reads the
        sizes of the new messages, not of the 10,000 before them."""
        result = set(range(len(msgs))) if within is None else set(within)
        i = 0

        def one(within: set[int]) -> set[int]:
            nonlocal i
            tok = tokens[i]
            i += 1
            if isinstance(tok, list):
                return self._search(tok, msgs, within)
            key = w.text_of(tok).upper()
            flag_keys = {"SEEN": "\\Seen", "DELETED": "\\Deleted", "FLAGGED": "\\Flagged",
                         "ANSWERED": "\\Answered", "DRAFT": "\\Draft"}
            if key == "ALL":
                return set(range(len(msgs)))
            if key in flag_keys:
                return {n for n, m in enumerate(msgs) if flag_keys[key] in m.flags}
            if key.startswith("UN") and key[2:] in flag_keys:
                return {n for n, m in enumerate(msgs) if flag_keys[key[2:]] not in m.flags}
            if key in ("NEW", "RECENT"):
                return {n for n, m in enumerate(msgs) if "\\Seen" not in m.flags} if key == "NEW" else set()
            if key == "OLD":
                return set(range(len(msgs)))
            if key == "NOT":
                return within - one(within)
            if key == "OR":
                a = one(within)
                return a | one(within)
            if key == "UID":
                wanted = w.parse_uid_set(w.text_of(tokens[i]), (m.uid for m in msgs))
                i += 1
                return {n for n, m in enumerate(msgs) if m.uid in wanted}
            if key in ("KEYWORD", "UNKEYWORD"):
                kw = w.text_of(tokens[i])
                i += 1
                has = {n for n, m in enumerate(msgs) if kw in m.flags}
                return has if key == "KEYWORD" else set(range(len(msgs))) - has
            if key in ("FROM", "TO", "CC", "SUBJECT", "HEADER", "BODY", "TEXT"):
                if key == "HEADER":
                    field, needle = w.text_of(tokens[i]), w.text_of(tokens[i + 1]).lower()
                    i += 2
                else:
                    field, needle = key, w.text_of(tokens[i]).lower()
                    i += 1
                out = set()
                for n in within:
                    try:
                        raw = msgs[n].read()
                    except FileNotFoundError:  # removed by hand: matches nothing
                        continue
                    if key in ("BODY", "TEXT"):
                        hay = (raw if key == "TEXT" else w.split_message(raw)[1]).decode("utf-8", "replace").lower()
                    else:
                        hay = str(w.parse_message(raw).get(field, "")).lower()
                    if needle in hay:
                        out.add(n)
                return out
            if key in ("SINCE", "BEFORE", "ON"):
                day = datetime.strptime(w.text_of(tokens[i]), "%d-%b-%Y").date()
                i += 1
                dates = {n: datetime.fromtimestamp(t, timezone.utc).date() for n in within
                         if (t := _mtime(msgs[n])) is not None}
                cmp = {"SINCE": lambda d: d >= day, "BEFORE": lambda d: d < day, "ON": lambda d: d == day}[key]
                return {n for n, d in dates.items() if cmp(d)}
            if key in ("LARGER", "SMALLER"):
                size = int(w.text_of(tokens[i]))
                i += 1
                return {n for n in within if (msgs[n].size > size if key == "LARGER" else msgs[n].size < size)}
            if key == "CHARSET":
                i += 1
                return set(range(len(msgs)))
            if re.fullmatch(r"[\d:*,]+", key):
                seqs = w.parse_set(key, len(msgs))
                return {s - 1 for s in seqs}
            raise w.ParseError(f"unsupported search key {key}")

        while i < len(tokens):
            result &= one(result)
        return result

    async def cmd_search(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        msgs = self.view
        found = sorted(self._search(args or ["ALL"], msgs))
        numbers = [msgs[n].uid if uid else n + 1 for n in found]
        await self.send((f"* SEARCH{''.join(f' {x}' for x in numbers)}\r\n{tag} OK SEARCH completed\r\n").encode())

    async def cmd_store(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        if self.read_only:
            await self.send(f"{tag} NO mailbox is read-only\r\n".encode())
            return
        targets = self._targets(w.text_of(args[0]), uid)
        op = w.text_of(args[1]).upper()
        flags_tok = args[2] if isinstance(args[2], list) else args[2:]
        flags = {w.text_of(f) for f in flags_tok}
        silent = op.endswith(".SILENT")
        out = b""
        for seq, msg in targets:
            if op.startswith("+"):
                msg.flags |= flags
            elif op.startswith("-"):
                msg.flags -= flags
            else:
                msg.flags = set(flags)
            self.told_flags[id(msg)] = frozenset(msg.flags)
            if not silent:
                uid_part = f"UID {msg.uid} " if uid else ""
                out += f"* {seq} FETCH ({uid_part}FLAGS ({' '.join(sorted(msg.flags))}))\r\n".encode()
        self.box.save()
        await self.send(out + f"{tag} OK STORE completed\r\n".encode())

    async def cmd_expunge(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        if self.read_only:
            await self.send(f"{tag} NO mailbox is read-only\r\n".encode())
            return
        if uid:
            only = w.parse_uid_set(w.text_of(args[0]), (m.uid for m in self.view))
            for m in self.box.messages:
                if m.uid not in only and "\\Deleted" in m.flags:
                    m.flags.discard("\\Deleted")
                    m.flags.add("\\fakemail-keep")
        self.box.expunge()
        for m in self.box.messages:
            if "\\fakemail-keep" in m.flags:
                m.flags.discard("\\fakemail-keep")
                m.flags.add("\\Deleted")
        await self.send(self._updates() + f"{tag} OK EXPUNGE completed\r\n".encode())

    async def cmd_copy(self, tag: str, args: list[w.Token], uid: bool) -> None:
        await self.send(f"{tag} NO [TRYCREATE] only INBOX exists here\r\n".encode())

    async def cmd_close(self, tag: str, args: list[w.Token]) -> None:
        if self.box is not None and not self.read_only:
            self.box.expunge()
        self.box = None
        await self.ok(tag, "CLOSE completed")

    async def cmd_unselect(self, tag: str, args: list[w.Token]) -> None:
        self.box = None
        await self.ok(tag, "UNSELECT completed")

    async def cmd_idle(self, tag: str, args: list[w.Token]) -> None:
        await self.send(b"+ idling\r\n")
        while True:
            try:
                line = await asyncio.wait_for(read_line(self.reader), IDLE_POLL)
            except asyncio.TimeoutError:
                if self.box is not None:
                    news = self._updates()
                    if news:
                        await self.send(news)
                continue
            if not line:
                raise Bye()
            self.cfg.faults.record("imap", self.session, "in", line.decode("utf-8", "replace").strip())
            if line.strip().upper() == b"DONE":
                await self.ok(tag, "IDLE terminated")
                return
            await self.send(f"{tag} BAD expected DONE\r\n".encode())
            return


def make_handler(cfg: ImapConfig):  # noqa: ANN201 - asyncio client_connected_cb
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ImapSession(reader, writer, cfg).run()

    return handle
