"""Crash-safe file writes and a TinyDB storage built on them.

TinyDB's own JSONStorage truncates and rewrites its file in place, so a crash
mid-write leaves a torn or empty database. Here every write goes to a temporary
file in the same folder, is flushed and fsynced, replaces the old file with
`os.replace` (atomic on POSIX and Windows), and then the folder itself is
fsynced so the rename survives a power cut. A crash at any instant leaves the
previous file or the next one, never a mix.

Encoding a partition (issue 15): `json.dumps` of 1,000 records is one C call that holds the
GIL throughout (10-70 ms, tools/bench/store.py), so the kiosk's GUI thread waited for the worker's writes. Each
record's encoded JSON is kept beside it (`PieceCache`): a write encodes only the records that
changed, each in a call of its own (microseconds), and joins the kept bytes. The file's bytes
are exactly `json.dumps(data, ensure_ascii=False, separators=(",", ":"))`: the loader and the
layout are unchanged. A record is known unchanged by identity, so a write must replace a
record's dict, never change it in place (tiny.py does; PRACTICEMAIL_CHECK_WRITES=1, set by the
test suite, compares every write with `json.dumps`).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from engine.errors import StoreCorrupt

TMP_MARK = ".tmp-"
FILE_MODE = 0o600  # the data folder holds patient mail: owner only
FOLDER_MODE = 0o700
CHECK_WRITES = "PRACTICEMAIL_CHECK_WRITES"
KEEP_PIECES = 16  # files whose pieces are kept (the most recently written): ~0.6 MB each at 1,000 messages
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_whole(data: Any) -> bytes:
    """The file's bytes for `data`, in one call (what PieceCache.encode must equal)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class PieceCache:
    """The encoded JSON of each record of a TinyDB file ({table: {key: record}}), kept with the
    record it was made from. `encode` re-encodes a record only if the table holds another
    object under its key than the one kept; what is kept after `encode` is the data just
    encoded (call `clear` if the write then fails). Any other shape is encoded whole."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, tuple[Any, bytes]]] = {}

    def clear(self) -> None:
        self._tables = {}

    def encode(self, data: Any) -> bytes:
        if not isinstance(data, dict):
            self._tables = {}
            return encode_whole(data)
        tables: dict[str, dict[str, tuple[Any, bytes]]] = {}
        out: list[bytes] = []
        for name, table in data.items():
            if type(name) is not str or not isinstance(table, dict):
                self._tables = {}
                return encode_whole(data)
            old, kept, pieces = self._tables.get(name, {}), {}, []
            for key, record in table.items():
                if type(key) is not str:
                    self._tables = {}
                    return encode_whole(data)
                entry = old.get(key)
                if entry is None or entry[0] is not record:
                    entry = (record, f"{encode_basestring(key)}:{_encode(record)}".encode("utf-8"))
                kept[key] = entry
                pieces.append(entry[1])
            tables[name] = kept
            out.append(b"%s:{%s}" % (encode_basestring(name).encode("utf-8"), b",".join(pieces)))
        self._tables = tables
        _keep(self)
        return b"{%s}" % b",".join(out)


_kept: OrderedDict[int, PieceCache] = OrderedDict()
_kept_lock = threading.Lock()


def _keep(cache: PieceCache) -> None:
    """`cache` was just written: it stays; the least recently written beyond KEEP_PIECES is
    emptied (its next write encodes every record once more, each in a call of its own)."""
    with _kept_lock:
        _kept[id(cache)] = cache
        _kept.move_to_end(id(cache))
        while len(_kept) > KEEP_PIECES:
            _kept.popitem(last=False)[1].clear()


def make_private() -> None:
    """From now on this process creates files 0600 and folders 0700 (umask 077; a stricter
    umask stays). Explicit modes below say the same; the umask covers what libraries create."""
    os.umask(os.umask(0o077) | 0o077)


def fsync_dir(folder: Path) -> None:
    """Make a rename or create in `folder` durable (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its rename is durable enough
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write `data` to `path` so a crash leaves the old or the new content."""
    write_synced(path, data, mode)
    fsync_dir(path.parent)


def write_synced(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """atomic_write without the folder fsync (the caller fsyncs the folder once for many files)."""
    tmp = path.with_name(f"{path.name}{TMP_MARK}{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temp files left by a crashed writer. Only the lock holder calls this."""
    removed = 0
    for tmp in folder.rglob(f"*{TMP_MARK}*"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


class DurableJSONStorage(Storage):
    """A TinyDB storage: one JSON file, written atomically, cached in memory.

    The cache is checked against the file's identity (inode, size, mtime) on
    every read, so a reader process sees a writer's changes, and TinyDB's habit
    of reading the whole file for every query costs one `stat` instead of a parse.
    TinyDB mutates what `read` returned before calling `write`; if the write then
    fails, the cache is dropped so memory never runs ahead of the disk.

    `generation` changes whenever what `read` returns may have: each write, each re-read of a
    file another process wrote. What is worked out from a file's records (tiny.py's per-partition
    counts and tag lists) is kept by it, read after `read`, under the file's lock.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._cache: dict[str, Any] | None = None
        self._signature: tuple[int, int, int] | None = None
        self._pieces = PieceCache()
        self._check = os.environ.get(CHECK_WRITES) == "1"
        self.generation = 0

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def read(self) -> dict[str, Any] | None:
        signature = self._stat()
        if signature is None:
            self._cache, self._signature = None, None
            self._pieces.clear()
            self.generation += 1
            return None
        if self._cache is not None and signature == self._signature:
            return self._cache
        try:
            raw = self.path.read_bytes()
            data = json.loads(raw) if raw else None
        except (OSError, ValueError) as exc:
            raise StoreCorrupt(f"cannot read {self.path.name}: {exc}") from exc
        self._pieces.clear()  # another process wrote the file: new records, nothing kept fits
        self._cache, self._signature = data, signature
        self.generation += 1
        return data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise PermissionError(f"{self.path} is open read-only")
        try:
            encoded = self._pieces.encode(data)
            if self._check and encoded != encode_whole(data):
                raise AssertionError(f"{self.path.name}: a record was changed in place (see durable.py)")
            atomic_write(self.path, encoded)
        except BaseException:
            self._cache, self._signature = None, None
            self._pieces.clear()
            self.generation += 1
            raise
        self._cache, self._signature = data, self._stat()
        self.generation += 1

    def close(self) -> None:
        self._cache = None
        self._pieces.clear()
