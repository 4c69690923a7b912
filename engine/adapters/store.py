"""The practice's store on one desk: TinyDB files in a data folder, plus blobs.

Layout of a data folder::

    meta.json                 schema version
    writer.lock               the writer's lock (see lock.py)
    db/<name>.json            small collections (settings, patients, ...)
    db/<name>/p000042.json    a partitioned collection: ids 42*P .. 43*P-1 (see tiny.py)
    blobs/packs/              raw messages and attachments, named by SHA-256 (see blobs.py)

Processes: only the holder of the writer's lock writes; readers open read-only
and see each file either before or after a write, never halfway (writes are
atomic replaces). `Store` implements engine/adapters/storage.Storage; the
PostgreSQL backend (pg_store.py) is the other implementation.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from engine.adapters.blobs import BlobStore
from engine.adapters.durable import FOLDER_MODE, atomic_write, fsync_dir, make_private, remove_stale_temporaries
from engine.adapters.lock import WriterLock
from engine.adapters.storage import RID, Record
from engine.adapters.tiny import PARTITION_SIZE, Collection, ReadOnlyStore
from engine.adapters.tiny_partitioned import PartitionedCollection
from engine.errors import StoreCorrupt

log = logging.getLogger("practicemail.store")

SCHEMA_VERSION = 1
Migration = Callable[["Store"], None]

# Migrations from version N to N+1. A migration must be safe to run again after
# a crash halfway (the version is written only when it finished).
MIGRATIONS: dict[int, Migration] = {}


class Store:
    """The whole data folder. Open with `Store.open(folder, writer=...)`."""

    def __init__(self, folder: Path, read_only: bool, lock: WriterLock | None) -> None:
        self.folder = folder
        self.read_only = read_only
        self._lock = lock
        self._collections: dict[str, Collection] = {}
        self._partitioned: dict[str, PartitionedCollection] = {}
        self._guard = threading.Lock()
        self.blobs = BlobStore(folder / "blobs", read_only)

    @classmethod
    def open(cls, folder: Path, writer: bool, command: str = "practicemail") -> "Store":
        folder = Path(folder)
        make_private()
        lock = None
        if writer:
            lock = WriterLock(folder, command)
            lock.acquire()
            try:
                (folder / "db").mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
                (folder / "blobs").mkdir(exist_ok=True, mode=FOLDER_MODE)
                removed = remove_stale_temporaries(folder / "db")
                if removed:
                    log.warning("removed %d half-written temporary files left by a crash", removed)
            except BaseException:
                lock.release()
                raise
        store = cls(folder, read_only=not writer, lock=lock)
        try:
            store._check_schema()
        except BaseException:
            store.close()
            raise
        return store

    # -- schema -------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        meta = self.folder / "meta.json"
        if not meta.exists():
            return 0
        try:
            return int(json.loads(meta.read_text("utf-8"))["schema"])
        except (OSError, ValueError, KeyError) as exc:
            raise StoreCorrupt(f"cannot read meta.json: {exc}") from exc

    def _check_schema(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreCorrupt(
                f"this data folder was written by a newer practicemail (schema {version}, we know {SCHEMA_VERSION})",
                hint="Install the newer practicemail version that wrote this folder.",
            )
        if version == SCHEMA_VERSION or self.read_only:
            return
        if version == 0:
            self._write_meta(SCHEMA_VERSION)
            return
        while version < SCHEMA_VERSION:
            log.info("migrating data folder from schema %d to %d", version, version + 1)
            MIGRATIONS[version](self)
            version += 1
            self._write_meta(version)

    def _write_meta(self, version: int) -> None:
        atomic_write(self.folder / "meta.json", json.dumps({"schema": version}).encode())

    # -- collections ----------------------------------------------------------
    def collection(self, name: str) -> Collection:
        with self._guard:
            c = self._collections.get(name)
            if c is None:
                c = Collection(self.folder / "db" / f"{name}.json", self.read_only)
                self._collections[name] = c
            return c

    def partitioned(self, name: str, partition_size: int = PARTITION_SIZE) -> PartitionedCollection:
        with self._guard:
            c = self._partitioned.get(name)
            if c is None:
                c = PartitionedCollection(self.folder / "db" / name, self.read_only, partition_size)
                self._partitioned[name] = c
            return c

    def names(self) -> dict[str, bool]:
        """Every collection in the folder: name -> True if partitioned (what migrate copies)."""
        db = self.folder / "db"
        if not db.is_dir():
            return {}
        out = {p.stem: False for p in db.glob("*.json")}
        out.update({p.name: True for p in db.iterdir() if p.is_dir()})
        return dict(sorted(out.items()))

    def close(self) -> None:
        for c in self._collections.values():
            c.close()
        for p in self._partitioned.values():
            p.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "PARTITION_SIZE",
    "RID",
    "Collection",
    "PartitionedCollection",
    "ReadOnlyStore",
    "Record",
    "Store",
    "fsync_dir",
]
