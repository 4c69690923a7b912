"""Files handed to the system's own program (a PDF viewer, an image viewer) and files saved
where reception chooses.

An attachment opened from the compose window has to exist as a file for another program to
read. Not in the shared /tmp, where every user of the machine could read a patient's x-ray:
in the practice's own data folder (owner only), one fresh folder per file so two files of one
name never meet, under a name made safe (engine/core/names.py). Copies are removed later
(`clean`), not at once: the other program may still be reading the file.

Saving elsewhere never replaces a file without being told to.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from engine.adapters.durable import FILE_MODE, FOLDER_MODE, atomic_write
from engine.core.names import saved_name
from engine.errors import InputInvalid

OPENED = "opened"  # the folder of copies, inside the data folder
KEEP_SECONDS = 24 * 3600  # a copy older than this is gone at the next clean


def private_copy(data_folder: Path, filename: str, data: bytes) -> Path:
    """`data` written as `data_folder/opened/<random>/<safe name>`, readable by the owner only."""
    root = data_folder / OPENED
    root.mkdir(mode=FOLDER_MODE, exist_ok=True)
    os.chmod(root, FOLDER_MODE)  # made by an older run or another umask: owner only all the same
    folder = root / secrets.token_hex(8)
    folder.mkdir(mode=FOLDER_MODE)
    path = folder / saved_name(filename)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def clean(data_folder: Path, now: float, keep_seconds: float = KEEP_SECONDS) -> int:
    """Remove the copies made more than `keep_seconds` before `now` (a POSIX time); the number
    removed. A copy another program still holds open (Windows) stays for the next clean."""
    root = data_folder / OPENED
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > keep_seconds:
                shutil.rmtree(folder)
                removed += 1
        except OSError:
            continue
    return removed


def save_as(path: Path, data: bytes, replace: bool = False) -> Path:
    """`data` saved at `path` (its name made safe); an existing file is replaced only when
    `replace`, and then whole or not at all."""
    path = path.with_name(saved_name(path.name))
    try:
        if replace:
            atomic_write(path, data)
            return path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise InputInvalid(f"{path.name} is already in {path.parent}",
                           hint="Choose another name, or answer Replace when asked.") from None
    except OSError as exc:
        raise InputInvalid(f"cannot save {path.name} in {path.parent}: {exc.strerror}",
                           hint="Choose a folder you can write to.") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path
