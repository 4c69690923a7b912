"""TinyDB collections: one small file, or files of PARTITION_SIZE records for what grows.

Why partitions: TinyDB rewrites a whole file on every write. With one file of
100,000 messages, marking one read would rewrite 100,000 records. Ids are given
in increasing order, so a partition holds a contiguous id range; a write touches
one partition of at most `PARTITION_SIZE` records, new records go to the newest
partition, and "the newest 200" reads the last partition or two.

Records are replaced, never changed in place: the storage keeps each record's encoded JSON
and knows it unchanged by identity (durable.PieceCache). TinyDB's own `update` changes a
stored dict in place, so `update` here replaces it.

Threads: one lock per database file. Collection here and PartitionedCollection in
tiny_partitioned.py: the Collection and Partitioned protocols of engine/adapters/storage.py.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from engine.adapters.durable import DurableJSONStorage
from engine.adapters.storage import RID, ReadOnlyStore, Record, matches
from engine.errors import NotFound

PARTITION_SIZE = 1000
TABLE = "records"


def _open_tinydb(path: Path, read_only: bool) -> TinyDB:
    # cache_size=0: TinyDB's query cache would hide another process's writes.
    db = TinyDB(path, storage=DurableJSONStorage, read_only=read_only)
    db.default_table_name = TABLE
    return db


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def _as_record(doc: Mapping[str, Any], doc_id: int) -> Record:
    out = copy.deepcopy(dict(doc))
    out[RID] = doc_id
    return out


class Collection:
    """One small TinyDB file holding records with integer ids."""

    def __init__(self, path: Path, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self.lock = threading.RLock()
        self._db = _open_tinydb(path, read_only)
        self._table = self._db.table(TABLE, cache_size=0)
        self._derived: dict[Hashable, tuple[int, Any]] = {}

    def derived(self, key: Hashable, compute: Callable[[dict[str, Any]], Any]) -> Any:
        """`compute(records by id text)` of the file as it is now, kept until the file changes
        (a write here, or another process's: the storage's generation): a count of 1,000 records
        is worked out again only for the partitions written since. `compute` must not mutate
        what it is shown, and what it returns is shared: never to be changed by the caller."""
        with self.lock:
            raw = self._table._read_table()  # noqa: SLF001 - no copies; refreshes the generation
            generation = self._db.storage.generation  # type: ignore[attr-defined] - DurableJSONStorage's
            kept = self._derived.get(key)
            if kept is not None and kept[0] == generation:
                return kept[1]
            value = compute(raw)
            self._derived[key] = (generation, value)
            return value

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStore(f"cannot change {self.path.name}: this process opened the data read-only")

    def insert(self, record: Mapping[str, Any], record_id: int | None = None) -> int:
        self._check_writable()
        body = {k: v for k, v in record.items() if k != RID}
        with self.lock:
            if record_id is None:
                return int(self._table.insert(body))
            return int(self._table.insert(Document(body, doc_id=record_id)))

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> list[int]:
        """All in one write: a crash leaves none or all of them."""
        self._check_writable()
        bodies = [{k: v for k, v in r.items() if k != RID} for r in records]
        with self.lock:
            return [int(i) for i in self._table.insert_multiple(bodies)]

    def get(self, record_id: int) -> Record | None:
        with self.lock:
            doc = self._table.get(doc_id=record_id)
            return None if doc is None else _as_record(doc, record_id)

    def require(self, record_id: int) -> Record:
        rec = self.get(record_id)
        if rec is None:
            raise NotFound(f"no record {record_id} in {self.path.stem}")
        return rec

    def all(self) -> list[Record]:
        with self.lock:
            return [_as_record(d, d.doc_id) for d in self._table.all()]

    def find(self, predicate: Callable[[Mapping[str, Any]], bool]) -> list[Record]:
        with self.lock:
            raw = self._table._read_table()  # noqa: SLF001 - avoid TinyDB's per-document copies
            return [_as_record(d, int(k)) for k, d in raw.items() if predicate(d)]

    def find_by(self, field: str, value: Any) -> list[Record]:
        return self.find(matches(field, value))

    def ids_by(self, field: str, value: Any, also: Callable[[Mapping[str, Any]], bool] | None = None) -> list[int]:
        match = matches(field, value)
        return self.ids(match if also is None else lambda d: match(d) and also(d))

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None:
        self._check_writable()
        body = {k: copy.deepcopy(v) for k, v in fields.items() if k != RID}
        with self.lock:
            def updater(table: dict[int, dict[str, Any]]) -> None:
                if record_id not in table:
                    raise NotFound(f"no record {record_id} in {self.path.stem}")
                table[record_id] = {**table[record_id], **body}  # a new dict: see durable.PieceCache

            self._table._update_table(updater)  # noqa: SLF001 - TinyDB's update changes the dict in place

    def modify_many(self, record_ids: Iterable[int],
                    change: Callable[[int, Mapping[str, Any]], Mapping[str, Any] | None],
                    copies: bool = True) -> dict[int, Record]:
        """One write: `change(id, stored)` returns the record's new content (or None to leave it).

        `stored` is the stored dict itself, handed over without a copy for speed: `change`
        must not mutate it (the core's rules build new dicts). Returns copies of what changed
        (or, with copies=False, only their ids as keys).
        """
        self._check_writable()
        wanted = list(record_ids)
        out: dict[int, Record] = {}
        with self.lock:
            def updater(table: dict[int, dict[str, Any]]) -> None:
                for i in wanted:
                    if i not in table:
                        raise NotFound(f"no record {i} in {self.path.stem}")
                    new = change(i, table[i])
                    if new is not None:
                        table[i] = {k: v for k, v in new.items() if k != RID}
                        out[i] = {**table[i], RID: i}

            if wanted:
                self._table._update_table(updater)  # noqa: SLF001
        return {i: (copy.deepcopy(r) if copies else {}) for i, r in out.items()}

    def ids(self, predicate: Callable[[Mapping[str, Any]], bool]) -> list[int]:
        with self.lock:
            raw = self._table._read_table()  # noqa: SLF001
            return [int(k) for k, d in raw.items() if predicate(d)]

    def remove(self, record_id: int) -> None:
        self._check_writable()
        with self.lock:
            self._table.remove(doc_ids=[record_id])

    def replace_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Swap the whole content in one atomic write (used by imports)."""
        self._check_writable()
        bodies = [{k: copy.deepcopy(v) for k, v in r.items() if k != RID} for r in records]
        with self.lock:
            def updater(table: dict[int, dict[str, Any]]) -> None:
                table.clear()
                for i, body in enumerate(bodies, start=1):
                    table[i] = body

            self._table._update_table(updater)  # noqa: SLF001 - one atomic write
            self._table._next_id = None  # noqa: SLF001

    def __len__(self) -> int:
        with self.lock:
            return len(self._table)

    def signature(self) -> tuple[int, int, int] | None:
        """The file's identity (inode, size, mtime): every write replaces the file."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def close(self) -> None:
        self._db.close()
