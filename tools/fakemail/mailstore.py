"""The fake servers' mail: Maildir folders in a spool, shared by every protocol.

    spool/sent/new/...        everything SMTP accepted (Return-Path and X-Envelope-To prepended)
    spool/<username>/new/...  a user's mailbox; a file dropped here appears in IMAP and POP3
                              (moved to cur/, same name, once the server has seen it)
    spool/<username>/.fakemail-state.json   UIDVALIDITY, UIDNEXT, uid and flags per file
    spool/<username>/.fakemail-added        "uid name" of files seen since that was written

UIDs are given to files in the order they are first seen (modification time,
then name), and kept in the state file, so they survive a restart. All state
changes happen on the server's event loop; other threads only drop files in
(write to tmp/, rename into new/, which is Maildir's own atomic delivery).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.fakemail.folders import Folders, is_inbox

STATE = ".fakemail-state.json"
_BARE_LF = re.compile(rb"(?<!\r)\n")
# Maildir's info suffix ("name:2,FS"): the system flags as letters, in ASCII order
LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
SYSTEM = set(LETTERS.values())


def split_name(filename: str) -> tuple[str, set[str] | None]:
    """A Maildir file name's unique part, and the system flags its info suffix gives (None:
    no suffix, so the name says nothing about flags)."""
    base, sep, info = filename.partition(":2,")
    if not sep:
        return filename, None
    return base, {LETTERS[c] for c in info if c in LETTERS}


def letters(flags: set[str]) -> str:
    return "".join(sorted(c for c, flag in LETTERS.items() if flag in flags))
ADDED = ".fakemail-added"  # UIDs given since the state file was written
_counter = 0
_counter_lock = threading.Lock()


def unique_name() -> str:
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    return f"{time.time_ns()}.P{os.getpid()}Q{n}.{socket.gethostname() or 'fakemail'}"


def maildir_deliver(folder: Path, data: bytes) -> Path:
    """Maildir delivery: write in tmp/, rename into new/. No fsync: this is a test
    server, and a reader must never see half a file, which the rename guarantees."""
    if not (folder / "new").is_dir():
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    name = unique_name()
    tmp = folder / "tmp" / name
    with open(tmp, "wb") as f:
        f.write(data)
    target = folder / "new" / name
    os.replace(tmp, target)
    return target


@dataclass
class Message:
    uid: int
    path: Path
    flags: set[str] = field(default_factory=set)
    name: str = field(init=False)  # the file's name, kept (Path.name costs a parse each time)
    _size: int | None = field(default=None, init=False, repr=False)
    box: "Mailbox | None" = field(default=None, repr=False, compare=False)
    recent: bool = field(default=False, compare=False)  # \\Recent: no session has selected it yet

    def __post_init__(self) -> None:
        # the file's unique part: its identity (and the POP3 UIDL) whatever its flags suffix says
        self.name = split_name(self.path.name)[0]

    def read(self) -> bytes:
        """The message as the protocols carry it: CRLF line ends, whatever the file has (Maildir
        files are often written with bare LF; IMAP and POP3 must send CRLF, RFC 3501 §2.3.1)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            if self.box is not None:  # removed by hand: the next look rescans the folder
                self.box.stale = True
            raise
        return _BARE_LF.sub(b"\r\n", data) if _BARE_LF.search(data) else data

    @property
    def size(self) -> int:
        """The size as sent (CRLF), read once: a Maildir file never changes (STAT of 10,000 took
        50 ms re-reading them); the directory's size would be wrong for a file with bare LFs."""
        if self._size is None:
            self._size = len(self.read())
        return self._size


@dataclass
class User:
    address: str
    username: str
    password: str


class Mailbox:
    """One user's INBOX: a Maildir plus its UID state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.uidvalidity = int(time.time())
        self.uidnext = 1
        self.messages: list[Message] = []
        self._cur_stamp: int | None = None  # cur/'s modification time at the last look (None: never looked)
        self.stale = False  # a message's file was found missing: rescan cur/ at the next look
        self._load()
        self.refresh()

    def _load(self) -> None:
        state_file = self.folder / STATE
        if not state_file.exists():
            return
        state = json.loads(state_file.read_text("utf-8"))
        self.uidvalidity, self.uidnext = state["uidvalidity"], state["uidnext"]
        entries = state["messages"]
        if isinstance(entries, dict):  # the first format: {name: {"uid": n, "flags": [...]}}
            entries = [[e["uid"], name, " ".join(e["flags"])] for name, e in entries.items()]
        added = self.folder / ADDED
        if added.exists():  # messages first seen after the snapshot: "uid name" lines
            for line in added.read_text("utf-8").splitlines():
                uid, _, name = line.partition(" ")
                if uid.isdigit() and name:
                    entries.append([int(uid), name, ""])
                    self.uidnext = max(self.uidnext, int(uid) + 1)
        files = self._files()
        seen: set[str] = set()
        for uid, name, flags in entries:
            base = split_name(name)[0]
            if base in seen or base not in files:  # a crash between snapshot and side file; gone
                continue
            seen.add(base)
            path, from_name = files[base]
            kept = set(flags.split())
            if from_name is not None:  # the file's own suffix says the system flags (a client may have renamed it)
                kept = (kept - SYSTEM) | from_name
            self.messages.append(Message(uid, path, kept, box=self))
        self.messages.sort(key=lambda m: m.uid)

    def _files(self) -> dict[str, tuple[Path, set[str] | None]]:
        """Every message file in new/ and cur/: unique part -> (path, flags from its suffix)."""
        out: dict[str, tuple[Path, set[str] | None]] = {}
        for sub in ("new", "cur"):
            with os.scandir(self.folder / sub) as it:
                for entry in it:
                    if entry.is_file() and not entry.name.startswith("."):
                        base, flags = split_name(entry.name)
                        out[base] = (Path(entry.path), flags)
        return out

    def save(self) -> None:
        if not self.folder.is_dir():  # the folder was deleted (IMAP DELETE) while a session had it open
            return
        state = {"uidvalidity": self.uidvalidity, "uidnext": self.uidnext,
                 # [uid, name, "flags"]: lists of plain values encode three times faster than
                 # a dict per message, and SELECT saves this whenever new mail was dropped in
                 "messages": [[m.uid, m.name, " ".join(sorted(m.flags)) if m.flags else ""] for m in self.messages]}
        tmp = self.folder / (STATE + ".tmp")
        tmp.write_text(json.dumps(state, separators=(",", ":")), "utf-8")
        os.replace(tmp, self.folder / STATE)
        (self.folder / ADDED).unlink(missing_ok=True)
        self._write_flags()

    def _write_flags(self) -> None:
        """System flags into the file names ("name:2,S"), so a Maildir reader (mutt, Dovecot,
        a tester's ls) sees what IMAP clients set. Our own renames do not count as a change
        behind our back."""
        cur = self.folder / "cur"
        renamed = False
        for m in self.messages:
            if m.path.parent != cur:
                continue
            _, said = split_name(m.path.name)
            if (said or set()) == (m.flags & SYSTEM):
                continue
            target = cur / f"{m.name}:2,{letters(m.flags)}"
            try:
                os.replace(m.path, target)
            except FileNotFoundError:  # removed by hand meanwhile: the next look forgets it
                continue
            m.path, renamed = target, True
        if renamed and self._cur_stamp is not None:
            self._cur_stamp = os.stat(cur).st_mtime_ns

    def _save_added(self, messages: list[Message]) -> None:
        """New mail only: append its UIDs to the snapshot's side file rather than rewriting
        the snapshot (7 ms for 10,000 messages, on every SELECT after new mail)."""
        with open(self.folder / ADDED, "a", encoding="utf-8") as f:
            f.write("".join(f"{m.uid} {m.name}\n" for m in messages))

    def refresh(self) -> bool:
        """Pick up files dropped into new/ (moving them to cur/, as a Maildir server does, so
        new/ holds only what is new and a look costs what arrived: a 10,000-message box
        answered SELECT in 30 ms when every look rescanned everything); forget files removed
        from cur/ by hand (noticed by cur/'s modification time). True if anything changed."""
        new_dir, cur_dir = self.folder / "new", self.folder / "cur"
        first = self._cur_stamp is None
        changed = False
        if first:  # what an earlier run knew but left in new/ moves too
            for m in self.messages:
                if m.path.parent == new_dir:
                    os.replace(m.path, cur_dir / m.name)
                    m.path = cur_dir / m.name
        rescan = first
        if not first and (self.stale or os.stat(cur_dir).st_mtime_ns != self._cur_stamp):
            # cur/ changed behind our back: files removed, renamed (flags set by another
            # Maildir client) or copied in by hand
            self.stale, rescan = False, True
            files = self._files()
            if any(m.name not in files for m in self.messages):
                self.messages = [m for m in self.messages if m.name in files]
                changed = True
            for m in self.messages:
                path, said = files[m.name]
                if path != m.path:
                    m.path = path
                    if said is not None and said != m.flags & SYSTEM:
                        m.flags = (m.flags - SYSTEM) | said
                        changed = True
        known = {m.name for m in self.messages} if rescan else set()
        found: list[tuple[int, str, Path, int]] = []
        for d in (new_dir, cur_dir) if rescan else (new_dir,):
            with os.scandir(d) as it:
                for entry in it:
                    if entry.is_file() and not entry.name.startswith(".") and \
                            split_name(entry.name)[0] not in known:
                        st = entry.stat()
                        found.append((st.st_mtime_ns, entry.name, Path(entry.path), st.st_size))
        arrived: list[Message] = []
        for _, name, path, size in sorted(found):
            if path.parent == new_dir:
                target = cur_dir / name
                os.replace(path, target)
                path = target
            message = Message(self.uidnext, path, split_name(name)[1] or set(), box=self, recent=not first)
            arrived.append(message)
            self.uidnext += 1
        self.messages.extend(arrived)
        if changed:
            self.save()
        elif arrived:
            self._save_added(arrived)
        # A directory's time has the kernel's tick as its grain, so a file removed by hand in the
        # same tick as this look leaves it unchanged; such a file is noticed when it is read
        # (Message.read marks the box stale). Distrusting every recent time instead made each
        # look after new mail rescan 10,000 files.
        self._cur_stamp = os.stat(cur_dir).st_mtime_ns
        return changed or bool(arrived)

    def add(self, data: bytes, flags: set[str], when: float | None = None) -> Message:
        """APPEND, COPY and MOVE: a new message with its flags (and internal date), at once."""
        path = maildir_deliver(self.folder, data)
        if when is not None:
            os.utime(path, (when, when))
        self.refresh()
        message = next(m for m in reversed(self.messages) if m.name == path.name)
        message.flags = {f for f in flags if f != "\\Recent"}
        self.save()
        return message

    def expunge(self) -> list[int]:
        """Remove \\Deleted messages; returns their sequence numbers, highest first (as EXPUNGE reports)."""
        gone = [i + 1 for i, m in enumerate(self.messages) if "\\Deleted" in m.flags]
        for seq in reversed(gone):
            self.messages[seq - 1].path.unlink(missing_ok=True)
            del self.messages[seq - 1]
        if gone:
            self.save()
        return list(reversed(gone))

    def delete(self, names: set[str]) -> None:
        for m in [m for m in self.messages if m.name in names]:
            m.path.unlink(missing_ok=True)
        self.messages = [m for m in self.messages if m.name not in names]
        self.save()

    def change_uidvalidity(self) -> int:
        """As a server rebuilding its index would: new UIDVALIDITY, every message renumbered."""
        self.uidvalidity += 1 + int(time.time()) % 1000
        for i, m in enumerate(self.messages, start=1):
            m.uid = i
        self.uidnext = len(self.messages) + 1
        self.save()
        return self.uidvalidity


class MailStore:
    """Every user's mailbox and the sent spool."""

    def __init__(self, spool: Path, users: list[User]) -> None:
        self.spool = spool
        self.users = {u.username: u for u in users}
        self.sent_folder = spool / "sent"
        for sub in ("tmp", "new", "cur"):
            (self.sent_folder / sub).mkdir(parents=True, exist_ok=True)
        self._boxes: dict[str, Mailbox] = {}
        for username in self.users:  # so a tester can drop files into spool/<user>/new/ at once
            for sub in ("tmp", "new", "cur"):
                (spool / username / sub).mkdir(parents=True, exist_ok=True)
        self.accepted: list[dict[str, object]] = []
        self.changed = threading.Condition()

    def check_login(self, username: str, password: str) -> User | None:
        user = self.users.get(username) or next((u for u in self.users.values() if u.address == username), None)
        if user is not None and user.password == password:
            return user
        return None

    def folders(self, username: str) -> Folders:
        return Folders(self.spool / username)

    def mailbox(self, username: str, folder: str = "INBOX") -> Mailbox:
        """A folder's mailbox, one object per folder shared by every session (so each sees
        the others' changes). The folder must exist (see Folders)."""
        key = f"{username}/{'INBOX' if is_inbox(folder) else folder}"
        box = self._boxes.get(key)
        if box is None or not box.folder.is_dir():
            box = Mailbox(self.folders(username).path(folder))
            self._boxes[key] = box
        return box

    def forget(self, username: str, folder: str) -> None:
        """A folder deleted or renamed: its mailbox object goes with it."""
        self._boxes.pop(f"{username}/{folder}", None)

    def deliver_to_address(self, address: str, data: bytes) -> Path | None:
        """Into the mailbox of the user with this address (None: no such user here)."""
        user = next((u for u in self.users.values() if u.address.lower() == address.strip().lower()), None)
        return maildir_deliver(self.spool / user.username, data) if user is not None else None

    def record_accepted(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> Path:
        """The message goes to the spool; only its envelope and file are remembered, so a
        server taking a day of X-rays does not keep them all in memory (`sent()` reads them)."""
        header = f"Return-Path: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n".encode()
        path = maildir_deliver(self.sent_folder, header + data)
        with self.changed:
            self.accepted.append({"mail_from": mail_from, "rcpt_tos": list(rcpt_tos), "path": str(path),
                                  "offset": len(header)})
            self.changed.notify_all()
        return path

    def read_accepted(self, entry: dict[str, object]) -> dict[str, object]:
        """An accepted message with its bytes (as the client sent them), read from the spool."""
        raw = Path(str(entry["path"])).read_bytes()
        return {**entry, "data": raw[int(entry["offset"]):]}  # type: ignore[call-overload]
