"""Owner-only modes for the data folder: find what is looser, and tighten it.

The folder holds patient mail, the contact history and the logs, so every
folder in it is 0700 and every file 0600. New files are created so (see
durable.make_private); folders made by an older version, restored from a
backup or loosened by hand are found here, reported by `config check` and
tightened by `config check --fix`. Symbolic links are neither followed nor
changed. On Windows, which has no such modes, nothing is reported.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.adapters.durable import FILE_MODE, FOLDER_MODE
from engine.errors import Problem

KEY = "files"


@dataclass(frozen=True)
class LooseMode:
    path: Path  # relative to the data folder
    mode: int
    wanted: int

    def problem(self) -> Problem:
        kind = "folder" if self.wanted == FOLDER_MODE else "file"
        name = "the data folder" if str(self.path) == "." else f"{kind} {self.path}"
        return Problem(None, KEY, f"{name} can be read by other users of this computer (mode {self.mode:04o}, "
                                  f"should be {self.wanted:04o}; run `practicemail config check --fix`)")


def loose_modes(folder: Path) -> list[LooseMode]:
    """Every folder and file in `folder` (itself included) that others may read or change."""
    if sys.platform == "win32" or not folder.is_dir():  # pragma: no cover - no POSIX modes there
        return []
    found: list[LooseMode] = []

    def look(path: Path) -> None:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            return
        wanted = FOLDER_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            found.append(LooseMode(path.relative_to(folder) if path != folder else Path("."), mode, wanted))

    look(folder)
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs) + sorted(files):
            look(Path(root) / name)
    return found


def tighten(folder: Path) -> list[LooseMode]:
    """Take away every permission of group and others; returns what was changed."""
    changed = loose_modes(folder)
    for loose in changed:
        os.chmod(folder / loose.path, loose.mode & ~0o077, follow_symlinks=False)
    return changed
