"""Raw messages and attachments, content-addressed by SHA-256, in append-only packs.

One file per blob cost two fsyncs and a file creation each (0.5 ms here: an
intake of 10,000 messages spent most of its time creating files). Instead,
blobs are appended to `packs/NNNNNN.pack` and located through `packs/index`,
an append-only text file of `sha pack offset length` lines. A batch is one
append to the pack, one fsync, one append to the index, one fsync; the
database records that name the blobs are written after that, so a record never
names a blob that is not durably stored. A crash can leave a torn last index
line (ignored: its record was never written) or unindexed bytes at the end of
a pack (never read).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from engine.adapters.durable import FILE_MODE, FOLDER_MODE, fsync_dir
from engine.adapters.storage import ReadOnlyStore
from engine.errors import NotFound, StoreCorrupt

PACK_LIMIT = 256 * 1024 * 1024


class ReadOnlyBlobs(ReadOnlyStore):
    """A reader's refusal to store a blob: a ReadOnlyStore like any other write by a reader."""


def _append_durably(path: Path, chunks: list[bytes]) -> int:
    """Append `chunks` and fsync; returns the offset they start at. The file is created owner-only.

    A failed write (a full disk) cuts the file back to where it was, and removes it if it was
    empty, so a refused batch leaves no stray bytes: the folder is as it was before.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), FILE_MODE)
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
                if start == 0:
                    path.unlink()
            raise
    finally:
        os.close(fd)
    return start


def _check(sha: str) -> None:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise NotFound(f"not a blob name: {sha!r}")


class BlobStore:
    def __init__(self, folder: Path, read_only: bool) -> None:
        self.folder = folder / "packs"
        self.read_only = read_only
        self._index: dict[str, tuple[int, int, int]] = {}
        self._index_read = 0  # bytes of the index file already read
        self._lock = threading.Lock()

    @property
    def _index_path(self) -> Path:
        return self.folder / "index"

    def _refresh(self) -> None:
        """Read index lines added since last time (by us, or by the writer process)."""
        try:
            size = self._index_path.stat().st_size
        except FileNotFoundError:
            return
        if size <= self._index_read:
            return
        with open(self._index_path, "rb") as f:
            f.seek(self._index_read)
            data = f.read(size - self._index_read)
        end = data.rfind(b"\n") + 1  # a torn last line waits (or was never acknowledged)
        for line in data[:end].splitlines():
            try:
                sha, pack, offset, length = line.decode("ascii").split()
                self._index[sha] = (int(pack), int(offset), int(length))
            except ValueError:
                continue
        self._index_read += end

    def _current_pack(self) -> int:
        numbers = sorted(int(p.stem) for p in self.folder.glob("*.pack") if p.stem.isdigit())
        if not numbers:
            return 1
        last = numbers[-1]
        return last + 1 if (self.folder / f"{last:06d}.pack").stat().st_size >= PACK_LIMIT else last

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, datas: list[bytes]) -> list[str]:
        """Store many blobs durably with two fsyncs in all; returns their SHA-256 names."""
        if self.read_only:
            raise ReadOnlyBlobs("cannot store a file: this process opened the data read-only")
        shas = [hashlib.sha256(d).hexdigest() for d in datas]
        with self._lock:
            self._refresh()
            new: dict[str, bytes] = {}
            for sha, data in zip(shas, datas):
                if sha not in self._index and sha not in new:
                    new[sha] = data
            if not new:
                return shas
            fresh = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
            pack = self._current_pack()
            pack_path = self.folder / f"{pack:06d}.pack"
            created = not pack_path.exists()
            lines = []
            offset = _append_durably(pack_path, list(new.values()))
            for sha, data in new.items():
                lines.append(f"{sha} {pack} {offset} {len(data)}\n")
                offset += len(data)
            try:
                index_size = self._index_path.stat().st_size
            except FileNotFoundError:
                index_size = 0
            torn = index_size > self._index_read  # a crash left half a line: end it, never extend it
            _append_durably(self._index_path, [(("\n" if torn else "") + "".join(lines)).encode("ascii")])
            if created or fresh:
                fsync_dir(self.folder)
                if fresh:
                    fsync_dir(self.folder.parent)
            self._refresh()
        return shas

    def get(self, sha: str) -> bytes:
        _check(sha)
        with self._lock:
            if sha not in self._index:
                self._refresh()
            where = self._index.get(sha)
        if where is None:
            raise NotFound(f"stored file {sha[:12]} is missing")
        pack, offset, length = where
        try:
            with open(self.folder / f"{pack:06d}.pack", "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except FileNotFoundError as exc:
            raise StoreCorrupt(f"the pack holding {sha[:12]} is missing") from exc
        if len(data) != length:
            raise StoreCorrupt(f"stored file {sha[:12]} is cut short")
        return data

    def names(self) -> Iterator[str]:
        """Every indexed blob's name, in the order stored (what migrate copies)."""
        with self._lock:
            self._refresh()
            names = list(self._index)
        yield from names

    def exists(self, sha: str) -> bool:
        with self._lock:
            self._refresh()
            return sha in self._index
