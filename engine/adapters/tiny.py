"""TinyDB collections: one small file, or files of PARTITION_SIZE records for what grows.

Why partitions: TinyDB rewrites a whole file on every write. With one file of
100,000 messages, marking one read would rewrite 100,000 records. Ids are given
in increasing order, so a partition holds a contiguous id range; a write touches
one partition of at most `PARTITION_SIZE` records, new records go to the newest
partition, and "the newest 200" reads the last partition or two.

Records are replaced, never changed in place: the storage keeps each record's encoded JSON
and knows it unchanged by identity (durable.PieceCache). TinyDB's own `update` changes a
stored dict in place, so `update` here replaces it.

Threads: one lock per database file. These classes implement the Collection and
Partitioned protocols of engine/adapters/storage.py.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from engine.adapters.durable import FOLDER_MODE, DurableJSONStorage
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


class PartitionedCollection:
    """Records with increasing integer ids, spread over files of PARTITION_SIZE.

    Partitions are opened lazily; `open` costs a folder listing and one read of
    the newest partition (to know the next id).
    """

    def __init__(self, folder: Path, read_only: bool, partition_size: int = PARTITION_SIZE) -> None:
        self.folder = folder
        self.read_only = read_only
        self.partition_size = partition_size
        self._parts: dict[int, Collection] = {}
        self._id_lock = threading.Lock()
        if not read_only:
            folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        self._next_id = self._find_next_id()

    # -- partitions -------------------------------------------------------
    def _partition_numbers(self) -> list[int]:
        if not self.folder.exists():
            return []
        nums = []
        for p in self.folder.glob("p*.json"):
            try:
                nums.append(int(p.stem[1:]))
            except ValueError:
                continue
        return sorted(nums)

    def _part(self, number: int) -> Collection:
        part = self._parts.get(number)
        if part is None:
            with self._id_lock:
                part = self._parts.get(number)
                if part is None:
                    part = Collection(self.folder / f"p{number:06d}.json", self.read_only)
                    self._parts[number] = part
        return part

    def _find_next_id(self) -> int:
        nums = self._partition_numbers()
        for number in reversed(nums):
            ids = [r[RID] for r in self._part(number).all()]
            if ids:
                return max(ids) + 1
        return 1

    # -- writing ----------------------------------------------------------
    def insert(self, record: Mapping[str, Any]) -> int:
        if self.read_only:
            raise ReadOnlyStore(f"cannot add to {self.folder.name}: this process opened the data read-only")
        with self._id_lock:
            record_id = self._next_id
            self._next_id += 1
        self._part(record_id // self.partition_size).insert(record, record_id)
        return record_id

    def insert_many(self, records: Iterable[Mapping[str, Any]], owned: bool = False) -> list[int]:
        """One write per partition touched (a batch of 5,000 is five writes). `owned`: the caller
        hands the records over and keeps no reference, so they are stored without a deep copy
        (intake builds thousands a minute; copying them was a fifth of its time)."""
        records = list(records)
        if self.read_only:
            raise ReadOnlyStore(f"cannot add to {self.folder.name}: this process opened the data read-only")
        with self._id_lock:
            first = self._next_id
            self._next_id += len(records)
        ids = list(range(first, first + len(records)))
        by_part: dict[int, list[tuple[int, Mapping[str, Any]]]] = {}
        for i, r in zip(ids, records):
            by_part.setdefault(i // self.partition_size, []).append((i, r))
        for number, items in sorted(by_part.items()):
            part = self._part(number)
            part._check_writable()
            with part.lock:
                def updater(table: dict[int, dict[str, Any]], items: list[tuple[int, Mapping[str, Any]]] = items) -> None:
                    for i, r in items:
                        if owned:
                            table[i] = {k: v for k, v in r.items() if k != RID}
                        else:
                            table[i] = {k: copy.deepcopy(v) for k, v in r.items() if k != RID}

                part._table._update_table(updater)  # noqa: SLF001
                part._table._next_id = None  # noqa: SLF001 - TinyDB recomputes its counter
        return ids

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None:
        self._part(record_id // self.partition_size).update(record_id, fields)

    def modify_many(self, record_ids: Iterable[int],
                    change: Callable[[int, Mapping[str, Any]], Mapping[str, Any] | None],
                    copies: bool = True) -> dict[int, Record]:
        """As Collection.modify_many, one write per partition touched."""
        by_part: dict[int, list[int]] = {}
        for i in record_ids:
            by_part.setdefault(i // self.partition_size, []).append(i)
        out: dict[int, Record] = {}
        for number, ids in sorted(by_part.items()):
            out.update(self._part(number).modify_many(ids, change, copies))
        return out

    def claim(self, record_ids: Iterable[int],
              change: Callable[[int, Mapping[str, Any]], Mapping[str, Any] | None]) -> list[int]:
        """storage.Partitioned.claim. One process writes a data folder (its lock), and each
        partition's write holds that partition's lock: no record is ever held by another
        claimer, so a claim is modify_many, `change` deciding on the stored record."""
        return sorted(self.modify_many(record_ids, change, copies=False))

    def count_by(self, field: str) -> dict[str, int]:
        """How many records have each value of `field` (read in place, no copies)."""
        out: dict[str, int] = {}
        for number in self._partition_numbers():
            part = self._part(number)
            with part.lock:
                for d in part._table._read_table().values():  # noqa: SLF001
                    out[d.get(field)] = out.get(d.get(field), 0) + 1
        return out

    def ids(self, predicate: Callable[[Mapping[str, Any]], bool]) -> list[int]:
        """Ids of matching records, oldest first, without copying them."""
        out: list[int] = []
        for number in self._partition_numbers():
            out.extend(self._part(number).ids(predicate))
        return sorted(out)

    def remove(self, record_id: int) -> None:
        self._part(record_id // self.partition_size).remove(record_id)

    def project(self, fields: Sequence[str], after: int = 0,
                also: Sequence[int] = ()) -> list[tuple[int, tuple[str, ...]]]:
        """See storage.Partitioned.project: read in place, only partitions holding ids above
        `after` or one of `also`."""
        out: list[tuple[int, tuple[str, ...]]] = []
        extra: dict[int, set[str]] = {}
        for i in also:
            extra.setdefault(int(i) // self.partition_size, set()).add(str(int(i)))
        for number in self._partition_numbers():
            above = (number + 1) * self.partition_size > after + 1
            if not above and number not in extra:
                continue
            part = self._part(number)
            with part.lock:
                raw = part._table._read_table()  # noqa: SLF001 - no copies
                keys = [k for k in raw if int(k) > after] if above else []
                keys += [k for k in extra.get(number, ()) if k in raw and int(k) <= after]
                rows = [(int(k), tuple(_text(raw[k].get(f)) for f in fields)) for k in keys]
            out.extend(sorted(rows))
        return out

    # -- reading ----------------------------------------------------------
    def get(self, record_id: int) -> Record | None:
        number = record_id // self.partition_size
        if number not in self._parts and not (self.folder / f"p{number:06d}.json").exists():
            return None
        return self._part(number).get(record_id)

    def require(self, record_id: int) -> Record:
        rec = self.get(record_id)
        if rec is None:
            raise NotFound(f"no record {record_id} in {self.folder.name}")
        return rec

    def iter_newest(self, predicate: Callable[[Mapping[str, Any]], bool] | None = None) -> Iterator[Record]:
        """Records, newest id first, reading partitions only as far as needed."""
        for number in reversed(self._partition_numbers()):
            part = self._part(number)
            with part.lock:
                raw = part._table._read_table()  # noqa: SLF001
                pairs = list(zip(map(int, raw), raw.values()))  # C loops: a scan of 250,000 costs their sort
                pairs.sort(key=itemgetter(0), reverse=True)
                chosen = pairs if predicate is None else [(k, d) for k, d in pairs if predicate(d)]
            for k, d in chosen:
                yield _as_record(d, k)

    def newest(self, limit: int, predicate: Callable[[Mapping[str, Any]], bool] | None = None) -> list[Record]:
        out: list[Record] = []
        for rec in self.iter_newest(predicate):
            out.append(rec)
            if len(out) >= limit:
                break
        return out

    def find(self, predicate: Callable[[Mapping[str, Any]], bool]) -> list[Record]:
        """Every matching record, oldest first. Reads every partition."""
        out: list[Record] = []
        for number in self._partition_numbers():
            out.extend(self._part(number).find(predicate))
        out.sort(key=lambda r: r[RID])
        return out

    def find_by(self, field: str, value: Any) -> list[Record]:
        """A scan here; PostgreSQL answers it from an index."""
        return self.find(matches(field, value))

    def all(self) -> list[Record]:
        return self.find(lambda _d: True)

    def __len__(self) -> int:
        return sum(len(self._part(n)) for n in self._partition_numbers())

    def close(self) -> None:
        for part in self._parts.values():
            part.close()
