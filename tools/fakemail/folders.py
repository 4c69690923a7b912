"""A user's folders as Maildir++: INBOX is the user's Maildir, every other folder a
Maildir in a directory named `.` + its name, the hierarchy separated by `.` (as Dovecot and
Courier lay them out, so a tester can point either at the same spool).

    spool/<user>/                  INBOX
    spool/<user>/.Sent/            Sent (special-use \\Sent, made at first sight)
    spool/<user>/.Archive.2026/    Archive.2026, a child of Archive
    spool/<user>/.fakemail-subscriptions   subscribed names, one a line

Names are what the client sent (modified UTF-7 for non-ASCII, RFC 3501 §5.1.3); only `/`,
NUL and line ends, which cannot be in a directory name, are refused.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

DELIMITER = "."
SPECIAL_USE = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk", "Archive": "\\Archive"}
SUBSCRIPTIONS = ".fakemail-subscriptions"


class FolderError(Exception):
    """A folder operation refused; `code` is the IMAP response code (RFC 5530)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


def is_inbox(name: str) -> bool:
    return name.upper() == "INBOX"


class Folders:
    def __init__(self, root: Path) -> None:
        self.root = root
        for name in SPECIAL_USE:  # what a mail client expects to find (RFC 6154)
            path = self.path(name)
            if not path.exists():
                for sub in ("tmp", "new", "cur"):
                    (path / sub).mkdir(parents=True, exist_ok=True)

    # -- names ---------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        if is_inbox(name):
            return self.root
        if not name or any(c in name for c in "/\x00\r\n") or name.startswith(DELIMITER) or \
                name.endswith(DELIMITER) or DELIMITER * 2 in name:
            raise FolderError("CANNOT", f"{name!r} cannot be a folder name here")
        return self.root / (DELIMITER + name)

    def exists(self, name: str) -> bool:
        try:
            return (self.path(name) / "cur").is_dir()
        except FolderError:
            return False

    def names(self) -> list[str]:
        out = ["INBOX"]
        with os.scandir(self.root) as it:
            for entry in it:
                if entry.name.startswith(DELIMITER) and len(entry.name) > 1 and entry.is_dir() and \
                        not entry.name.startswith(".fakemail") and os.path.isdir(os.path.join(entry.path, "cur")):
                    out.append(entry.name[1:])
        return sorted(out, key=lambda n: (not is_inbox(n), n))

    def children(self, name: str) -> list[str]:
        prefix = name + DELIMITER
        return [n for n in self.names() if n.startswith(prefix)]

    def attributes(self, name: str) -> list[str]:
        attrs = ["\\HasChildren" if self.children(name) else "\\HasNoChildren"]
        if name in SPECIAL_USE:
            attrs.append(SPECIAL_USE[name])
        return attrs

    def matching(self, reference: str, pattern: str) -> list[str]:
        """LIST's matching (RFC 3501 §6.3.8): the reference joined to the pattern; `*` matches
        anything, `%` anything but the delimiter."""
        full = reference + pattern
        regex = "".join(".*" if c == "*" else f"[^{re.escape(DELIMITER)}]*" if c == "%" else re.escape(c)
                        for c in full)
        found = [n for n in self.names() if re.fullmatch(regex, n, re.IGNORECASE if is_inbox(n) else 0)]
        return found

    # -- changes -------------------------------------------------------------------------
    def create(self, name: str) -> None:
        name = name.rstrip(DELIMITER)  # "a." means "a, a folder that may have children"
        if self.exists(name):
            raise FolderError("ALREADYEXISTS", f"{name} already exists")
        path = self.path(name)
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)

    def delete(self, name: str) -> None:
        if is_inbox(name):
            raise FolderError("CANNOT", "INBOX cannot be deleted")
        if not self.exists(name):
            raise FolderError("NONEXISTENT", f"{name} does not exist")
        if self.children(name):
            raise FolderError("INUSE", f"{name} has folders inside it; delete those first")
        shutil.rmtree(self.path(name))
        self.set_subscribed(name, False, check=False)

    def rename(self, old: str, new: str) -> None:
        if is_inbox(old):
            raise FolderError("CANNOT", "INBOX cannot be renamed here; move its messages instead")
        if not self.exists(old):
            raise FolderError("NONEXISTENT", f"{old} does not exist")
        if self.exists(new):
            raise FolderError("ALREADYEXISTS", f"{new} already exists")
        moves = [(old, new)] + [(c, new + c[len(old):]) for c in self.children(old)]
        for a, b in moves:
            self.path(b)  # every new name must be a valid one before anything moves
        for a, b in moves:
            os.replace(self.path(a), self.path(b))
            if a in self.subscribed():
                self.set_subscribed(a, False, check=False)
                self.set_subscribed(b, True, check=False)

    # -- subscriptions -------------------------------------------------------------------
    def subscribed(self) -> list[str]:
        f = self.root / SUBSCRIPTIONS
        return [n for n in f.read_text("utf-8").splitlines() if n] if f.exists() else []

    def set_subscribed(self, name: str, on: bool, check: bool = True) -> None:
        if check and on and not self.exists(name):
            raise FolderError("NONEXISTENT", f"{name} does not exist")
        names = [n for n in self.subscribed() if n != name] + ([name] if on else [])
        tmp = self.root / (SUBSCRIPTIONS + ".tmp")
        tmp.write_text("".join(n + "\n" for n in names), "utf-8")
        os.replace(tmp, self.root / SUBSCRIPTIONS)
