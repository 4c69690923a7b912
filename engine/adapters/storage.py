"""The storage interface: what the service layer may ask of a store, and nothing more.

Two implementations: `engine.adapters.store.Store` (TinyDB files in a data folder, one desk) and
`engine.adapters.pg_store.PgStore` (PostgreSQL, several desks). Service code is typed against
these Protocols so a backend can be swapped without touching it; the operations are exactly the
ones the service used on TinyDB when this interface was drawn, plus `find_by`, an equality lookup
that PostgreSQL answers from an index (TinyDB by a scan).

Records are plain JSON-able dicts. Reads return copies with the record's integer id under `RID`;
writes ignore an `RID` key. Ids are positive integers given in increasing order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine.errors import PracticeMailError

RID = "_rid"  # the record id as returned by reads; never stored inside the record

Record = dict[str, Any]


class ReadOnlyStore(PracticeMailError):
    default_hint = "This command only reads; run a writing command while no other practicemail process is running."


Predicate = Callable[[Mapping[str, Any]], bool]
# change(id, stored) -> the record's new content, or None to leave it. `stored` must not be mutated.
Change = Callable[[int, Mapping[str, Any]], "Mapping[str, Any] | None"]


@runtime_checkable
class Records(Protocol):
    """What both kinds of collection answer."""

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> list[int]:
        """All or none: a crash leaves none or all of them."""

    def get(self, record_id: int) -> Record | None: ...

    def require(self, record_id: int) -> Record:
        """As get, but a missing record raises NotFound."""

    def all(self) -> list[Record]: ...

    def find(self, predicate: Predicate) -> list[Record]:
        """Every record the predicate accepts, oldest id first."""

    def find_by(self, field: str, value: Any) -> list[Record]:
        """Every record whose `field` equals `value` (a missing field counts as None), oldest first.
        Prefer it to find() for equality: PostgreSQL answers it from an index."""

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None:
        """Merge `fields` into the record; NotFound if it does not exist."""

    def modify_many(self, record_ids: Iterable[int], change: Change, copies: bool = True) -> dict[int, Record]:
        """Change many records as one write (one transaction): all changes or none. NotFound if
        an id is missing. Returns copies of the changed records (with copies=False, their ids
        as keys and empty dicts)."""

    def ids(self, predicate: Predicate) -> list[int]:
        """Ids of the records the predicate accepts, in increasing order."""

    def ids_by(self, field: str, value: Any, also: Predicate | None = None) -> list[int]:
        """Ids of the records whose `field` equals `value` (and that `also` accepts), in increasing
        order: find_by without the records (PostgreSQL reads only the matches, from an index;
        TinyDB a scan that copies nothing)."""

    def remove(self, record_id: int) -> None: ...

    def __len__(self) -> int: ...


@runtime_checkable
class Collection(Records, Protocol):
    """A small collection (settings, patients, templates, ...)."""

    def insert(self, record: Mapping[str, Any], record_id: int | None = None) -> int:
        """Add a record under the next id, or under `record_id` (ValueError if it is taken)."""

    def replace_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Swap the whole content in one write; ids restart at 1."""

    def signature(self) -> Hashable | None:
        """A token that changes whenever the collection does (another process's writes included),
        cheap next to reading it: what a cache built from it is kept by. None: do not cache."""


@runtime_checkable
class Partitioned(Records, Protocol):
    """A collection that grows without end (messages, outbox): read newest first, written one
    record or one batch at a time."""

    def insert(self, record: Mapping[str, Any]) -> int: ...

    def insert_many(self, records: Iterable[Mapping[str, Any]], owned: bool = False) -> list[int]:
        """`owned`: the caller keeps no reference, so the records need not be copied."""

    def count_by(self, field: str) -> dict[Any, int]:
        """How many records have each value of `field`."""

    def count_unflagged(self, flags: Sequence[str]) -> int:
        """How many records have none of `flags` set (a flag is set when true: a missing field,
        None and false are unset). TinyDB keeps each partition's count until it changes;
        PostgreSQL counts from a partial index where one is made for these flags (schema.py)."""

    def newest_holding(self, field: str, values: Iterable[Any]) -> Iterator[Record]:
        """The records whose list `field` holds every one of `values` (at least one), newest
        first, read only as far as the caller iterates: TinyDB finds them from each partition's
        value -> ids map, kept until the partition changes; PostgreSQL from a text[] column's GIN
        index (schema.HELD), each record checked again."""

    def prepare_holding(self, field: str) -> None:
        """Make now what newest_holding(field, ...) keeps (TinyDB: every partition's map; nothing
        on PostgreSQL), so the first ask does not (a worker thread's call, not the GUI's)."""

    def iter_newest(self, predicate: Predicate | None = None) -> Iterator[Record]:
        """Matching records, newest id first, read only as far as the caller iterates."""

    def newest(self, limit: int, predicate: Predicate | None = None) -> list[Record]: ...

    def claim(self, record_ids: Iterable[int], change: Change) -> list[int]:
        """Take records for work: change those no other claimer holds, in one transaction, and
        return the ids changed (increasing). A record another transaction holds is passed over,
        never waited for (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED), and so is one for which
        `change`, shown the record as committed now, returns None: two claimers, in threads or
        processes, never get the same record. NotFound if an id does not exist."""

    def project(self, fields: Sequence[str], after: int = 0,
                also: Sequence[int] = ()) -> list[tuple[int, tuple[str, ...]]]:
        """(id, the text of each of `fields`, '' where missing) of every record with an id above
        `after`, and of those of the ids `also` that exist, oldest first, for fields that hold
        text: what an index is built from, without copying whole records. `also`: ids an index
        has not seen below its mark (on PostgreSQL a record can be committed after one with a
        higher id; see engine/service/inbox_search.py)."""


@runtime_checkable
class Blobs(Protocol):
    """Raw messages and attachments, named by the SHA-256 of their bytes."""

    def put(self, data: bytes) -> str: ...

    def put_many(self, datas: list[bytes]) -> list[str]:
        """Durable before it returns, so a record written afterwards never names a missing blob."""

    def get(self, sha: str) -> bytes:
        """NotFound if no such blob."""

    def exists(self, sha: str) -> bool: ...

    def names(self) -> Iterator[str]:
        """Every stored blob's name (for migrate and verification)."""


@runtime_checkable
class Storage(Protocol):
    """An open store. A writer holds the writer's lock from open to close: a second writer is
    refused with StoreLocked naming the holder; readers never write (ReadOnlyStore)."""

    folder: Path  # this machine's folder for local files of the store (the outbox's crash journal)
    read_only: bool
    blobs: Blobs

    @property
    def schema_version(self) -> int: ...

    def collection(self, name: str) -> Collection: ...

    def partitioned(self, name: str, partition_size: int = ...) -> Partitioned: ...

    def names(self) -> dict[str, bool]:
        """Every collection that holds records: name -> True if it is partitioned."""

    def close(self) -> None: ...

    def __enter__(self) -> "Storage": ...

    def __exit__(self, *exc: object) -> None: ...


def read_ahead(blobs: Blobs, shas: list[str]) -> dict[str, bytes]:
    """Several blobs in one round trip where the backend can (PostgreSQL's get_many); {} where
    each read is a local file anyway (the caller then reads them one at a time). A missing blob
    is left out: its reader gets NotFound when it asks for it alone."""
    many = getattr(blobs, "get_many", None)
    return many(shas) if many is not None else {}


def matches(field: str, value: Any) -> Predicate:
    """The predicate find_by means, for backends that scan."""
    return lambda r: r.get(field) == value


HOLES = 1024  # ids below a reader's mark asked for again, at most (missing_ids)


def missing_ids(after: int, ids: Sequence[int], holes: Sequence[int] = (), cap: int = HOLES) -> tuple[int, ...]:
    """The ids a reader that has moved its mark from `after` past `ids` (ascending, all above
    `after`) has not seen, with the `holes` it had still not seen before, the newest `cap` of them.
    On PostgreSQL ids come from a sequence, so a record can be committed after one with a higher
    id: a reader asks for these again (Partitioned.project's `also`). A hole can stay one for ever
    (a transaction rolled back, a record removed before it was read): hence the cap."""
    out, before = list(holes), after
    for rid in ids:
        out.extend(range(max(before + 1, rid - cap), rid))
        before = rid
    return tuple(out[-cap:]) if cap else ()
