"""Moving up: a one-desk practice (TinyDB data folder) copied into PostgreSQL, all or nothing.

`run(from_dir, to_url)` holds the folder's writer lock for the whole copy (nobody changes the
practice meanwhile) but writes nothing into the folder: the old practice stays as it was and can
be opened again if the move is called off. The target is locked as a writer too, must hold no
practice yet, and receives everything in ONE transaction: blobs (each checked against its name
as it is read), then every collection with its record ids kept. Before that transaction commits,
the copy is checked inside it: the records of each collection, by count and by id, and every
blob's SHA-256 as PostgreSQL itself computes it. Any difference, or a crash, and nothing is left.

The data folder still matters after the move: its key file decrypts the passwords in the
settings, so the practice is opened afterwards with the same folder and the database URL.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.adapters.lock import WriterLock
from engine.adapters.postgres import PgStore, redact
from engine.adapters.storage import RID, Records
from engine.adapters.store import SCHEMA_VERSION, Store
from engine.errors import InputInvalid, PracticeMailError, StoreCorrupt

BLOB_BATCH_BYTES = 32 * 1024 * 1024  # blobs sent per round trip (memory bound, not a transaction bound)


class TargetNotEmpty(PracticeMailError):
    default_hint = "Give an empty database (or a new one): migrate never mixes two practices."


class CopyMismatch(PracticeMailError):
    default_hint = "Nothing was written to the database. Export diagnostics for support; the data folder is unchanged."


@dataclass(frozen=True)
class CollectionCopied:
    name: str
    partitioned: bool
    records: int


@dataclass(frozen=True)
class MigrateReport:
    source: Path
    target: str  # the URL without its password
    collections: tuple[CollectionCopied, ...]
    blobs: int
    blob_bytes: int

    @property
    def records(self) -> int:
        return sum(c.records for c in self.collections)

    def lines(self) -> list[str]:
        out = [f"copied {self.source} into {self.target}: {self.records} records in "
               f"{len(self.collections)} collections, {self.blobs} stored files ({self.blob_bytes:,} bytes)"]
        out += [f"  {c.name:<16} {c.records:>9}" for c in self.collections]
        out.append("verified: every collection's count and ids, every stored file's SHA-256; "
                   "the data folder is unchanged")
        return out


def run(from_dir: Path, to_url: str) -> MigrateReport:
    from_dir = Path(from_dir).resolve()
    if not (from_dir / "db").is_dir():
        raise InputInvalid(f"{from_dir} is not a practicemail data folder (it has no db folder)",
                           hint="Give the data folder of the practice to move (--from).")
    lock = WriterLock(from_dir, "practicemail migrate")
    lock.acquire()
    try:
        _check_journal(from_dir)
        with Store.open(from_dir, writer=False) as source, tempfile.TemporaryDirectory() as local:
            if source.schema_version != SCHEMA_VERSION:
                raise InputInvalid(f"{from_dir} is at schema {source.schema_version}, migrate reads {SCHEMA_VERSION}",
                                   hint="Open the practice once with this version of practicemail, then migrate.")
            with PgStore.open(to_url, writer=True, folder=Path(local), command="practicemail migrate") as target:
                _refuse_non_empty(target)
                with target.transaction():
                    _refuse_non_empty(target)  # again, inside: nothing slipped in between
                    blobs, size = _copy_blobs(source, target)
                    copied = tuple(_copy_collection(source, target, name, part)
                                   for name, part in source.names().items())
                    _verify(source, target, blobs)
    finally:
        lock.release()
    return MigrateReport(from_dir, redact(to_url), copied, blobs, size)


def _check_journal(folder: Path) -> None:
    journal = folder / "db" / "outbox.journal"
    if journal.exists() and journal.stat().st_size > 0:
        raise InputInvalid("the outbox's crash journal holds outcomes not yet applied to its items",
                           hint="Start practicemail on this data folder once (it applies them), close it, "
                                "then migrate.")


def _refuse_non_empty(target: PgStore) -> None:
    records = sum(len(target.collection(n)) for n in target.names())
    files = target.blobs.count()
    if records or files:
        raise TargetNotEmpty(f"the database {redact(target.url)} already holds a practice "
                             f"({records} records, {files} stored files); migrate copies only into an empty one")


def _batches(source: Store) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    size = 0
    for sha in source.blobs.names():
        data = source.blobs.get(sha)
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreCorrupt(f"stored file {sha[:12]} in the data folder does not match its name",
                               hint="Restore the data folder from its backup, then migrate.")
        batch.append(data)
        size += len(data)
        if size >= BLOB_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _copy_blobs(source: Store, target: PgStore) -> tuple[int, int]:
    count = size = 0
    for batch in _batches(source):
        target.blobs.put_many(batch)
        count += len(batch)
        size += sum(len(b) for b in batch)
    return count, size


def _open(store: Store | PgStore, name: str, partitioned: bool) -> Records:
    return store.partitioned(name) if partitioned else store.collection(name)


def _copy_collection(source: Store, target: PgStore, name: str, partitioned: bool) -> CollectionCopied:
    src = _open(source, name, partitioned)
    dst = target.partitioned(name) if partitioned else target.collection(name)
    rows = src.iter_newest() if partitioned else iter(src.all())  # type: ignore[attr-defined]
    dst.load((r[RID], r) for r in rows)
    return CollectionCopied(name, partitioned, len(src))


def _verify(source: Store, target: PgStore, blobs: int) -> None:
    """Inside the copy's transaction: a mismatch raises, and the transaction rolls back."""
    for name, partitioned in source.names().items():
        want = sorted(_open(source, name, partitioned).ids(lambda _r: True))
        got = _open(target, name, partitioned).ids(lambda _r: True)
        if want != got:
            raise CopyMismatch(f"collection {name}: {len(want)} records in the folder, {len(got)} copied")
    names = set(source.blobs.names())
    copied = set(target.blobs.names())
    if names != copied or len(copied) != blobs:
        raise CopyMismatch(f"{len(names)} stored files in the folder, {len(copied)} copied")
    with target.db.conn() as c:
        row = c.execute("SELECT count(*) FROM blobs WHERE encode(sha256(data), 'hex') <> sha "
                        "OR octet_length(data) <> size").fetchone()
    if row is None or row[0]:
        raise CopyMismatch(f"{row[0] if row else '?'} stored files differ from their SHA-256 after the copy")
