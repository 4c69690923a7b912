"""IMAP commands on the selected folder: FETCH, SEARCH, STORE, EXPUNGE, COPY, MOVE (RFC 6851),
CLOSE, UNSELECT, IDLE, and the untagged news a session is owed. A mixin of ImapSession
(tools/fakemail/imap.py); SEARCH's criteria are in tools/fakemail/imap_search.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tools.fakemail import imapwire as w
from tools.fakemail import mime
from tools.fakemail.faults import until_closed
from tools.fakemail.imap_search import search
from tools.fakemail.lines import read_line
from tools.fakemail.mailstore import Mailbox, Message

if TYPE_CHECKING:
    from tools.fakemail.imap import ImapConfig

IDLE_POLL = 0.1


class Bye(Exception):
    pass


class SelectedCommands:
    cfg: ImapConfig
    box: Mailbox | None
    box_name: str
    read_only: bool
    view: list[Message]
    told_flags: dict[int, frozenset[str]]
    recent: set[int]
    session: int
    writer: asyncio.StreamWriter
    reader: asyncio.StreamReader

    if TYPE_CHECKING:  # provided by ImapSession and the other mixin
        async def send(self, data: bytes) -> None: ...
        async def ok(self, tag: str, text: str) -> None: ...
        def _mailbox(self, name: str) -> Mailbox | None: ...

    def _flag_text(self, m: Message) -> str:
        """FLAGS as this session sees them: \\Recent only for the session that selected first."""
        flags = sorted(m.flags) + (["\\Recent"] if id(m) in self.recent else [])
        return "FLAGS (" + " ".join(flags) + ")"

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
                out.append(f"* {seq} FETCH ({self._flag_text(m)})\r\n")
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
            if re.search(r"(^|[,:])0+($|[,:])", set_text):
                raise w.ParseError("UID 0 names no message")
            wanted = w.parse_uid_set(set_text, (m.uid for m in msgs))
            return [(i + 1, m) for i, m in enumerate(msgs) if m.uid in wanted]
        for number in re.findall(r"[^,:]+", set_text):  # a number that names no message is an error
            if number != "*" and (not number.isdigit() or not 1 <= int(number) <= len(msgs)):
                raise w.ParseError(f"no message {number} (there are {len(msgs)})")
        seqs = w.parse_set(set_text, len(msgs))
        return [(s, msgs[s - 1]) for s in sorted(seqs) if 1 <= s <= len(msgs)]

    async def cmd_fetch(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        targets = self._targets(w.text_of(args[0]), uid)
        names = _fetch_names(args[1], uid)
        changed = False
        missing = 0
        for seq, msg in targets:
            one = _Fetched(msg)
            try:
                for name in names:
                    self._fetch_item(one, name, names)
            except FileNotFoundError:  # removed by hand during the session: this one only
                changed = changed or one.seen
                missing += 1
                continue
            changed = changed or one.seen
            response = b"* %d FETCH (" % seq + b" ".join(one.parts) + b")\r\n"
            if one.drop_at is not None:
                await self._drop_mid_fetch(response, one)
            await self.send(response)
        if changed:
            self.box.save()
        if missing:  # RFC 5530: the rest were answered; NOOP will report the EXPUNGE
            await self.send(f"{tag} NO [EXPUNGEISSUED] {missing} of the messages no longer exist\r\n".encode())
            return
        await self.ok(tag, f"{'UID ' if uid else ''}FETCH completed")

    def _fetch_item(self, one: "_Fetched", name: str, names: list[str]) -> None:
        """One data item of one message onto its answer: the plain ones from _FETCH_ITEMS, a
        body section (which sets \\Seen, and may meet a scripted fault) here."""
        upper = name.upper()
        if upper in _FETCH_ITEMS:
            one.parts.append(_FETCH_ITEMS[upper](self, one, upper))
            return
        if not upper.startswith(("BODY[", "BODY.PEEK[", "RFC822")):
            raise w.ParseError(f"unsupported fetch item {name}")
        msg = one.msg
        label, data = self._section(upper, name, one.raw())
        if one.drop_at is None:
            fault = self.cfg.faults.take("imap", "fetch", self.session)
            if fault is not None:
                one.drop_at = len(b" ".join(one.parts)) + len(label) + 10 + len(data) // 2
                one.hang = fault.action == "hang"
        one.parts.append(label.encode() + b" " + (b"NIL" if data is None else w.literal(data)))
        if not upper.startswith(("BODY.PEEK", "RFC822.HEADER", "RFC822.SIZE")) and not self.read_only \
                and "\\Seen" not in msg.flags:
            msg.flags.add("\\Seen")
            one.seen = True
            if not any(n.upper() == "FLAGS" for n in names):
                one.parts.append(self._flag_text(msg).encode())

    async def _drop_mid_fetch(self, response: bytes, one: "_Fetched") -> None:
        """A scripted fault: half the answer, then (for "hang") silence until the client gives up."""
        self.writer.write(response[: one.drop_at])
        await self.writer.drain()
        if one.hang:  # half a message, then silence: the client's timeout or abort must end it
            await until_closed(self.reader)
        self.writer.transport.abort()
        raise Bye()

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

    async def cmd_search(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        msgs = self.view
        found = sorted(search(args or ["ALL"], msgs, recent=self.recent))
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
        flags = {w.text_of(f) for f in flags_tok} - {"\\Recent"}  # \\Recent is the server's to give
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
                out += f"* {seq} FETCH ({uid_part}{self._flag_text(msg)})\r\n".encode()
        self.box.save()
        await self.send(out + f"{tag} OK STORE completed\r\n".encode())

    async def cmd_expunge(self, tag: str, args: list[w.Token], uid: bool) -> None:
        assert self.box is not None
        if self.read_only:
            await self.send(f"{tag} NO mailbox is read-only\r\n".encode())
            return
        news = self._updates()  # first learn what arrived, so what goes is reported by number
        only = w.parse_uid_set(w.text_of(args[0]), (m.uid for m in self.view)) if uid else None
        gone = {m.name for m in self.view if "\\Deleted" in m.flags and (only is None or m.uid in only)}
        if gone:
            self.box.delete(gone)
        await self.send(news + self._updates() + f"{tag} OK EXPUNGE completed\r\n".encode())

    async def cmd_copy(self, tag: str, args: list[w.Token], uid: bool, move: bool = False) -> None:
        """COPY, and MOVE (RFC 6851); both answer with COPYUID (RFC 4315)."""
        assert self.box is not None
        verb = "MOVE" if move else "COPY"
        if move and self.read_only:
            await self.send(f"{tag} NO mailbox is read-only\r\n".encode())
            return
        targets = self._targets(w.text_of(args[0]), uid)
        name = w.text_of(args[1])
        dest = self._mailbox("INBOX" if name.upper() == "INBOX" else name)
        if dest is None:
            await self.send(f"{tag} NO [TRYCREATE] {name} does not exist\r\n".encode())
            return
        pairs = []
        for _, m in targets:
            try:
                data, when = m.read(), m.path.stat().st_mtime
            except FileNotFoundError:  # removed by hand meanwhile: not copied
                continue
            pairs.append((m, dest.add(data, set(m.flags), when)))
        code = (f"[COPYUID {dest.uidvalidity} {','.join(str(a.uid) for a, _ in pairs)} "
                f"{','.join(str(b.uid) for _, b in pairs)}] " if pairs else "")
        if not move:
            await self.send(f"{tag} OK {code}{verb} completed\r\n".encode())
            return
        if dest is not self.box:
            self.box.delete({a.name for a, _ in pairs})
        news = self._updates()
        await self.send((f"* OK {code}moved\r\n" if code else "").encode() + news +
                        f"{tag} OK {verb} completed\r\n".encode())

    async def cmd_move(self, tag: str, args: list[w.Token], uid: bool) -> None:
        await self.cmd_copy(tag, args, uid, move=True)

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


FETCH_MACROS = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
                "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]}


def _fetch_names(items: w.Token, uid: bool) -> list[str]:
    """The data items asked for: a macro spelled out, UID first for UID FETCH (RFC 3501 §6.4.8)."""
    names = [w.text_of(i) for i in (items if isinstance(items, list) else [items])]
    if len(names) == 1 and names[0].upper() in FETCH_MACROS:
        names = FETCH_MACROS[names[0].upper()]
    if uid and not any(n.upper() == "UID" for n in names):
        names = ["UID", *names]
    return names


@dataclass
class _Fetched:
    """One message's FETCH answer as it is built: its parts, the bytes and MIME tree read once,
    where a scripted fault cuts it, and whether this FETCH set \\Seen."""

    msg: Message
    parts: list[bytes] = field(default_factory=list)
    drop_at: int | None = None
    hang: bool = False
    seen: bool = False
    _raw: bytes | None = None
    _tree: mime.Part | None = None

    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = self.msg.read()
        return self._raw

    def tree(self) -> mime.Part:
        if self._tree is None:
            self._tree = mime.parse(self.raw())
        return self._tree


def _structure(session: SelectedCommands, one: _Fetched, upper: str) -> bytes:
    return upper.encode() + b" " + mime.structure(one.tree(), extensible=upper == "BODYSTRUCTURE")


# the data items answered from the message's record or its bytes alone, by name
_FETCH_ITEMS: dict[str, Callable[[SelectedCommands, _Fetched, str], bytes]] = {
    "UID": lambda s, one, _: b"UID %d" % one.msg.uid,
    "FLAGS": lambda s, one, _: s._flag_text(one.msg).encode(),
    "INTERNALDATE": lambda s, one, _: b'INTERNALDATE "' + w.internaldate(one.msg.path.stat().st_mtime).encode() + b'"',
    "RFC822.SIZE": lambda s, one, _: b"RFC822.SIZE %d" % one.msg.size,
    "ENVELOPE": lambda s, one, _: b"ENVELOPE " + w.envelope(w.parse_message(one.raw())),
    "BODYSTRUCTURE": _structure,
    "BODY": _structure,
}
