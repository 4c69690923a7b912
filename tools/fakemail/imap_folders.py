"""IMAP commands on folders (authenticated state): NAMESPACE, LIST/LSUB with special-use
attributes, CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, STATUS, SELECT/EXAMINE, APPEND
with flags and date (UIDPLUS: APPENDUID). A mixin of ImapSession (tools/fakemail/imap.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tools.fakemail import imapwire as w
from tools.fakemail.folders import DELIMITER, FolderError, Folders, is_inbox
from tools.fakemail.mailstore import Mailbox, Message

if TYPE_CHECKING:
    from tools.fakemail.imap import ImapConfig
    from tools.fakemail.mailstore import User

SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


def _name(token: w.Token) -> str:
    name = w.text_of(token)
    return "INBOX" if is_inbox(name) else name


def internal_date(text: str) -> float:
    """RFC 3501 date-time, e.g. ` 1-Dec-2026 08:00:00 +0000`, as a POSIX time."""
    return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()


class FolderCommands:
    cfg: ImapConfig
    user: User | None
    box: Mailbox | None
    box_name: str
    read_only: bool
    view: list[Message]
    told_flags: dict[int, frozenset[str]]
    recent: set[int]

    if TYPE_CHECKING:  # provided by ImapSession and the other mixin
        async def send(self, data: bytes) -> None: ...
        async def ok(self, tag: str, text: str) -> None: ...
        def _updates(self) -> bytes: ...

    def _folders(self) -> Folders:
        assert self.user is not None
        return self.cfg.store.folders(self.user.username)

    def _mailbox(self, name: str) -> Mailbox | None:
        if not self._folders().exists(name):
            return None
        assert self.user is not None
        return self.cfg.store.mailbox(self.user.username, name)

    async def _no(self, tag: str, exc: FolderError) -> None:
        await self.send(f"{tag} NO [{exc.code}] {exc}\r\n".encode())

    async def cmd_namespace(self, tag: str, args: list[w.Token]) -> None:
        await self.send(f'* NAMESPACE (("" "{DELIMITER}")) NIL NIL\r\n{tag} OK NAMESPACE completed\r\n'.encode())

    async def cmd_list(self, tag: str, args: list[w.Token], verb: str = "LIST") -> None:
        reference, pattern = w.text_of(args[0]), w.text_of(args[1])
        folders = self._folders()
        if pattern == "":  # the hierarchy delimiter and the root (RFC 3501 §6.3.8)
            out = [f'* {verb} (\\Noselect) "{DELIMITER}" ""'.encode()]
        else:
            names = folders.matching(reference, pattern)
            if verb == "LSUB":
                subscribed = set(folders.subscribed())
                names = [n for n in names if n in subscribed]
            out = [f'* {verb} ({" ".join(folders.attributes(n))}) "{DELIMITER}" '.encode() + w.quote(n) for n in names]
        await self.send(b"".join(line + b"\r\n" for line in out) + f"{tag} OK {verb} completed\r\n".encode())

    async def cmd_lsub(self, tag: str, args: list[w.Token]) -> None:
        await self.cmd_list(tag, args, "LSUB")

    async def cmd_create(self, tag: str, args: list[w.Token]) -> None:
        try:
            self._folders().create(_name(args[0]))
        except FolderError as exc:
            await self._no(tag, exc)
            return
        await self.ok(tag, "CREATE completed")

    async def cmd_delete(self, tag: str, args: list[w.Token]) -> None:
        name = _name(args[0])
        try:
            self._folders().delete(name)
        except FolderError as exc:
            await self._no(tag, exc)
            return
        assert self.user is not None
        self.cfg.store.forget(self.user.username, name)
        if self.box is not None and self.box_name == name:
            self.box = None  # the selected folder is gone: back to the authenticated state
        await self.ok(tag, "DELETE completed")

    async def cmd_rename(self, tag: str, args: list[w.Token]) -> None:
        old, new = _name(args[0]), _name(args[1])
        folders = self._folders()
        moved = [old, *folders.children(old)]
        try:
            folders.rename(old, new)
        except FolderError as exc:
            await self._no(tag, exc)
            return
        assert self.user is not None
        for name in moved:
            self.cfg.store.forget(self.user.username, name)
        await self.ok(tag, "RENAME completed")

    async def cmd_subscribe(self, tag: str, args: list[w.Token], on: bool = True) -> None:
        try:
            self._folders().set_subscribed(_name(args[0]), on)
        except FolderError as exc:
            await self._no(tag, exc)
            return
        await self.ok(tag, f"{'SUBSCRIBE' if on else 'UNSUBSCRIBE'} completed")

    async def cmd_unsubscribe(self, tag: str, args: list[w.Token]) -> None:
        await self.cmd_subscribe(tag, args, on=False)

    async def cmd_status(self, tag: str, args: list[w.Token]) -> None:
        name = _name(args[0])
        box = self._mailbox(name)
        if box is None:
            await self.send(f"{tag} NO [NONEXISTENT] no such mailbox\r\n".encode())
            return
        box.refresh()
        values = {"MESSAGES": len(box.messages), "RECENT": sum(1 for m in box.messages if m.recent),
                  "UIDNEXT": box.uidnext, "UIDVALIDITY": box.uidvalidity,
                  "UNSEEN": sum(1 for m in box.messages if "\\Seen" not in m.flags)}
        items = args[1] if isinstance(args[1], list) else [args[1]]
        wanted = [w.text_of(i).upper() for i in items]
        unknown = [k for k in wanted if k not in values]
        if unknown:
            raise w.ParseError(f"unknown status item {unknown[0]}")
        body = " ".join(f"{k} {values[k]}" for k in wanted)
        await self.send(b"* STATUS " + w.quote(name) + f" ({body})\r\n{tag} OK STATUS completed\r\n".encode())

    async def _select(self, tag: str, args: list[w.Token], read_only: bool) -> None:
        name = _name(args[0])
        box = self._mailbox(name)
        if box is None:
            self.box = None
            await self.send(f"{tag} NO [NONEXISTENT] no such mailbox\r\n".encode())
            return
        box.refresh()
        self.box, self.box_name, self.read_only = box, name, read_only
        self.view = list(box.messages)
        self.told_flags = {id(m): frozenset(m.flags) for m in self.view}
        self.recent = {id(m) for m in self.view if m.recent}
        if not read_only:  # this session is the one told they are recent (RFC 3501 §2.3.2)
            for m in self.view:
                m.recent = False
        unseen = next((i + 1 for i, m in enumerate(self.view) if "\\Seen" not in m.flags), None)
        lines = [
            f"* FLAGS ({' '.join(SYSTEM_FLAGS)})",
            f"* OK [PERMANENTFLAGS ({' '.join(SYSTEM_FLAGS)} \\*)] flags allowed",
            f"* {len(self.view)} EXISTS", f"* {len(self.recent)} RECENT",
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

    async def cmd_append(self, tag: str, args: list[w.Token]) -> None:
        """APPEND mailbox [(flags)] [date-time] message (RFC 3501 §6.3.11, APPENDUID of RFC 4315)."""
        if len(args) < 2:
            raise w.ParseError("APPEND needs a mailbox and a message")
        name, rest = _name(args[0]), list(args[1:])
        flags: set[str] = set()
        when: float | None = None
        if isinstance(rest[0], list):
            flags = {w.text_of(f) for f in rest.pop(0)}
        if len(rest) == 2:
            when = internal_date(w.text_of(rest.pop(0)))
        if len(rest) != 1 or rest[0] is None or isinstance(rest[0], list):
            raise w.ParseError("APPEND: the message must be a literal")
        data = rest[0] if isinstance(rest[0], bytes) else rest[0].encode("utf-8")
        box = self._mailbox(name)
        if box is None:
            await self.send(f"{tag} NO [TRYCREATE] {name} does not exist\r\n".encode())
            return
        message = box.add(data, flags, when)
        news = self._updates() if box is self.box else b""  # the selected folder grew: EXISTS now
        await self.send(news + f"{tag} OK [APPENDUID {box.uidvalidity} {message.uid}] APPEND completed\r\n".encode())
