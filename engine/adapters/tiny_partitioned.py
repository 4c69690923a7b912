"""The TinyDB collections that grow without end (messages, outbox): files of PARTITION_SIZE
records, each written alone (engine/adapters/tiny.py tells why). What is worked out from a
partition's records (counts, tag lists: issue 19) is kept per partition until that partition
changes (tiny.Collection.derived), so an answer over 250,000 records reads only what changed."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from engine.adapters.durable import FOLDER_MODE
from engine.adapters.storage import RID, ReadOnlyStore, Record, matches
from engine.adapters.tiny import PARTITION_SIZE, Collection, _as_record, _text
from engine.errors import NotFound


def _holders(field: str) -> Callable[[dict[str, Any]], dict[Any, tuple[int, ...]]]:
    """What a partition's records hold in their list `field`: value -> their ids, newest first."""
    def holders(raw: dict[str, Any]) -> dict[Any, tuple[int, ...]]:
        out: dict[Any, list[int]] = {}
        for k, d in raw.items():
            held = d.get(field)
            if isinstance(held, list):
                for v in {x for x in held if not isinstance(x, (list, dict))}:  # JSON's unhashables
                    out.setdefault(v, []).append(int(k))
        return {v: tuple(sorted(ids, reverse=True)) for v, ids in out.items()}

    return holders


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
        """How many records have each value of `field`: each partition's counts kept until it
        changes (Collection.derived), so a heartbeat's count reads only what was written since."""
        def count(raw: dict[str, Any]) -> dict[Any, int]:
            out: dict[Any, int] = {}
            for d in raw.values():
                out[d.get(field)] = out.get(d.get(field), 0) + 1
            return out

        total: dict[Any, int] = {}
        for number in self._partition_numbers():
            for value, n in self._part(number).derived(("count_by", field), count).items():
                total[value] = total.get(value, 0) + n
        return total

    def count_unflagged(self, flags: Sequence[str]) -> int:
        """See storage.Partitioned.count_unflagged: each partition's count kept until it changes."""
        names = tuple(flags)

        def count(raw: dict[str, Any]) -> int:
            return sum(1 for d in raw.values() if not any(d.get(f) for f in names))

        return sum(self._part(n).derived(("unflagged", names), count) for n in self._partition_numbers())

    def prepare_holding(self, field: str) -> None:
        """See storage.Partitioned.prepare_holding: every partition's value -> ids map made now."""
        for number in self._partition_numbers():
            self._part(number).derived(("holding", field), _holders(field))

    def newest_holding(self, field: str, values: Iterable[Any]) -> Iterator[Record]:
        """See storage.Partitioned.newest_holding: each partition's value -> ids map kept until
        it changes; a partition is looked at only when the caller iterates that far."""
        wanted = list(dict.fromkeys(values))
        if not wanted:
            raise ValueError("newest_holding needs at least one value")

        for number in reversed(self._partition_numbers()):
            part = self._part(number)
            by_value = part.derived(("holding", field), _holders(field))
            lists = [by_value.get(v, ()) for v in wanted]
            others = [set(ids) for ids in lists[1:]]
            chosen = [i for i in lists[0] if all(i in o for o in others)]
            if not chosen:
                continue
            with part.lock:  # the records as they are now (the map may be older by a write: checked)
                raw = part._table._read_table()  # noqa: SLF001 - no copies but the ones handed out
                found = [(i, raw[str(i)]) for i in chosen if str(i) in raw]
                found = [(i, d) for i, d in found
                         if isinstance(d.get(field), list) and all(v in d[field] for v in wanted)]
            for i, d in found:
                yield _as_record(d, i)

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

    def ids_by(self, field: str, value: Any, also: Callable[[Mapping[str, Any]], bool] | None = None) -> list[int]:
        match = matches(field, value)
        return self.ids(match if also is None else lambda d: match(d) and also(d))

    def all(self) -> list[Record]:
        return self.find(lambda _d: True)

    def __len__(self) -> int:
        return sum(len(self._part(n)) for n in self._partition_numbers())

    def close(self) -> None:
        for part in self._parts.values():
            part.close()
