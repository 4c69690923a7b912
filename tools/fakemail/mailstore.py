"""The fake servers' mail: Maildir folders in a spool, shared by every protocol.

    spool/sent/new/...        everything SMTP accepted (Return-Path and X-Envelope-To prepended)
    spool/<username>/new/...  a user's mailbox; a file dropped here appears in IMAP and POP3
    spool/<username>/.fakemail-state.json   UIDVALIDITY, UIDNEXT, uid and flags per file

UIDs are given to files in the order they are first seen (modification time,
then name), and kept in the state file, so they survive a restart. All state
changes happen on the server's event loop; other threads only drop files in
(write to tmp/, rename into new/, which is Maildir's own atomic delivery).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

STATE = ".fakemail-state.json"
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

    @property
    def name(self) -> str:
        return self.path.name

    def read(self) -> bytes:
        return self.path.read_bytes()

    @property
    def size(self) -> int:
        return self.path.stat().st_size


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
        self._stamp: tuple[int, ...] = ()
        self._load()
        self.refresh()

    def _load(self) -> None:
        state_file = self.folder / STATE
        if not state_file.exists():
            return
        state = json.loads(state_file.read_text("utf-8"))
        self.uidvalidity, self.uidnext = state["uidvalidity"], state["uidnext"]
        for name, entry in state["messages"].items():
            for sub in ("new", "cur"):
                p = self.folder / sub / name
                if p.exists():
                    self.messages.append(Message(entry["uid"], p, set(entry["flags"])))
                    break
        self.messages.sort(key=lambda m: m.uid)

    def save(self) -> None:
        state = {"uidvalidity": self.uidvalidity, "uidnext": self.uidnext,
                 "messages": {m.name: {"uid": m.uid, "flags": sorted(m.flags)} for m in self.messages}}
        tmp = self.folder / (STATE + ".tmp")
        tmp.write_text(json.dumps(state), "utf-8")
        os.replace(tmp, self.folder / STATE)

    def refresh(self) -> bool:
        """Pick up files dropped into new/ or cur/; forget files removed by hand. True if changed."""
        stamp = tuple(os.stat(self.folder / sub).st_mtime_ns for sub in ("new", "cur"))
        if stamp == self._stamp:
            return False  # nothing added or removed since the last look
        self._stamp = stamp
        known = {m.name for m in self.messages}
        found: list[Path] = []
        present: set[str] = set()
        for sub in ("new", "cur"):
            with os.scandir(self.folder / sub) as it:
                for entry in it:
                    if entry.is_file() and not entry.name.startswith("."):
                        present.add(entry.name)
                        if entry.name not in known:
                            found.append(Path(entry.path))
        changed = False
        if known - present:
            self.messages = [m for m in self.messages if m.name in present]
            changed = True
        if found:
            found.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
            for p in found:
                self.messages.append(Message(self.uidnext, p))
                self.uidnext += 1
            changed = True
        if changed:
            self.save()
        return changed

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

    def mailbox(self, username: str) -> Mailbox:
        box = self._boxes.get(username)
        if box is None:
            box = Mailbox(self.spool / username)
            self._boxes[username] = box
        return box

    def record_accepted(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> Path:
        header = f"Return-Path: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n".encode()
        path = maildir_deliver(self.sent_folder, header + data)
        with self.changed:
            self.accepted.append({"mail_from": mail_from, "rcpt_tos": list(rcpt_tos), "data": data,
                                  "path": str(path)})
            self.changed.notify_all()
        return path
