"""One collection as a PostgreSQL table: the Collection and Partitioned protocols of storage.py.

Every method is one transaction (or joins the thread's, see db.py). Predicate finds stream the
table through a server-side cursor and filter in Python (first cut); equality on an indexed
field (`find_by`) is answered from its btree index, "newest holding these tags" (`newest_holding`)
from a text[] column's GIN index. No json operator reads a row whose text holds "\\u0000"
(_PLAIN). `modify_many` locks its rows (FOR UPDATE), applies the change in Python and writes them
back in the same transaction: all or none.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from engine.adapters.postgres.db import Db
from engine.adapters.postgres.schema import column, held_column, held_value, index_value, table, unflagged
from engine.adapters.storage import RID, Change, Predicate, ReadOnlyStore, Record, matches
from engine.errors import NotFound

BATCH = 500  # rows per round trip when reading newest first
STREAM = 2000  # rows per fetch of a server-side cursor
_cursor_names = itertools.count(1)  # a named cursor's name must be unique on its connection


# Rows a json operator can read: PostgreSQL's json functions de-escape every string of a record
# and fail on "\\u0000" anywhere in it (text cannot hold NUL). The test is on the stored text, no
# parsing: a row that holds the six characters (also a harmless false alarm, an escaped backslash
# before "u0000") is sent whole and read in Python.
_PLAIN = sql.SQL("strpos(data::text, '\\u0000') = 0")


def _as_text(value: Any) -> str:
    """What `data->>field` gives (coalesced to ''), for a record read in Python."""
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _load(data: Any) -> dict[str, Any]:
    return json.loads(data) if isinstance(data, (str, bytes)) else data


class PgCollection:
    """Both kinds of collection: on PostgreSQL an index on rid is all a partition ever bought."""

    def __init__(self, db: Db, name: str, fields: tuple[str, ...], read_only: bool, may_modify: bool = False,
                 may_add: bool = False, held: tuple[str, ...] = ()) -> None:
        """`held`: list fields kept as indexed text[] columns too (schema.HELD). `may_modify`: a
        read-only collection whose existing records may still be changed one
        by one (`modify_many`, `update`: rows locked, changed, written back in one transaction):
        another desk's messages (store.DESK_WRITES). `may_add`: one that may also be added to
        (`insert`), one record at a time: another desk's wrong PINs (store.DESK_ADDS). Nothing is
        ever removed, replaced or loaded by a reader."""
        self.db = db
        self.name = name
        self.fields = fields
        self.held = held
        self.read_only = read_only
        self.may_modify = may_modify or not read_only
        self.may_add = may_add or not read_only
        self._t = table(name)
        written = [*(column(f) for f in fields), *(held_column(f) for f in held), sql.Identifier("data")]
        self._names = sql.SQL(", ").join(written)
        self._cols = sql.SQL(", ").join([sql.Identifier("rid"), *written])
        self._set = sql.SQL(", ").join([sql.SQL("{} = %s").format(c) for c in written])
        self._seq = f"c_{name}"

    # -- helpers --------------------------------------------------------------
    def _check_writable(self, modify: bool = False, add: bool = False) -> None:
        if self.read_only and not ((modify and self.may_modify) or (add and self.may_add)):
            raise ReadOnlyStore(f"cannot change {self.name}: this process opened the data read-only")

    def _values(self, record: Mapping[str, Any]) -> list[Any]:
        """The indexed columns' values, the held columns', then the record as JSON text."""
        body = {k: v for k, v in record.items() if k != RID}
        return [*(index_value(body.get(f)) for f in self.fields), *(held_value(body.get(f)) for f in self.held),
                json.dumps(body, ensure_ascii=False)]

    def _query(self, query: sql.Composable, params: Any = None) -> list[tuple[Any, ...]]:
        return self.db.rows(query, params)

    def _stream(self, where: sql.Composable = sql.SQL(""), params: Any = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(rid, record) oldest first, through a server-side cursor (bounded memory)."""
        with self.db.conn() as c:
            try:
                with c.transaction(), c.cursor(name=f"stream_{next(_cursor_names)}") as cur:
                    cur.itersize = STREAM
                    cur.execute(sql.SQL("SELECT rid, data FROM {} {} ORDER BY rid").format(self._t, where), params)
                    for rid, data in cur:
                        yield int(rid), _load(data)
            except psycopg.errors.UndefinedTable:
                return

    def _bump_sequence(self, cur: psycopg.Cursor[Any]) -> None:
        """After ids were given explicitly: the next default id comes after the largest."""
        cur.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'rid'), "
                            "greatest((SELECT max(rid) FROM {}), 1), (SELECT count(*) > 0 FROM {}))")
                    .format(self._t, self._t), (self._seq,))

    def _copy_in(self, cur: psycopg.Cursor[Any], rows: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(self._t, self._cols)) as copy:
            for rid, record in rows:
                copy.write_row([rid, *self._values(record)])

    # -- writing ----------------------------------------------------------------
    def insert(self, record: Mapping[str, Any], record_id: int | None = None) -> int:
        self._check_writable(add=record_id is None)
        values = self._values(record)
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            if record_id is not None:
                try:
                    with c.transaction():
                        cur.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                            self._t, self._cols, sql.SQL(", ").join(sql.Placeholder() * (len(values) + 1))),
                            [record_id, *values])
                except psycopg.errors.UniqueViolation as exc:
                    raise ValueError(f"record {record_id} already exists in {self.name}") from exc
                self._bump_sequence(cur)
                return record_id
            return self._insert_default(c, cur, values)

    def _insert_default(self, c: psycopg.Connection[Any], cur: psycopg.Cursor[Any], values: list[Any]) -> int:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING rid").format(
            self._t, self._names, sql.SQL(", ").join(sql.Placeholder() * len(values)))
        try:
            with c.transaction():
                cur.execute(query, values)
        except psycopg.errors.UniqueViolation:  # an explicit id got ahead of the sequence
            self._bump_sequence(cur)
            cur.execute(query, values)
        row = cur.fetchone()
        assert row is not None
        return int(row[0])

    def insert_many(self, records: Iterable[Mapping[str, Any]], owned: bool = False) -> list[int]:
        """One transaction; ids reserved from the sequence, rows sent with COPY."""
        self._check_writable()
        records = list(records)
        if not records:
            return []
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'rid')) FROM generate_series(1, %s)",
                        (self._seq, len(records)))
            ids = sorted(int(r[0]) for r in cur.fetchall())
            self._copy_in(cur, zip(ids, records))
        return ids

    def update(self, record_id: int, fields: Mapping[str, Any]) -> None:
        self.modify_many([record_id], lambda _i, r: {**r, **{k: v for k, v in fields.items() if k != RID}},
                         copies=False)

    def modify_many(self, record_ids: Iterable[int], change: Change, copies: bool = True) -> dict[int, Record]:
        self._check_writable(modify=True)
        wanted = list(record_ids)
        if not wanted:
            return {}
        out: dict[int, Record] = {}
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute(sql.SQL("SELECT rid, data FROM {} WHERE rid = ANY(%s) FOR UPDATE").format(self._t),
                        (sorted(set(wanted)),))
            stored = {int(rid): _load(data) for rid, data in cur.fetchall()}
            for i in wanted:
                if i not in stored:
                    raise NotFound(f"no record {i} in {self.name}")
                new = change(i, stored[i])
                if new is not None:
                    stored[i] = {k: v for k, v in new.items() if k != RID}
                    out[i] = stored[i]
            if out:
                cur.executemany(sql.SQL("UPDATE {} SET {} WHERE rid = %s").format(self._t, self._set),
                                [[*self._values(r), i] for i, r in out.items()])
        return {i: ({**r, RID: i} if copies else {}) for i, r in out.items()}

    def claim(self, record_ids: Iterable[int], change: Change) -> list[int]:
        """storage.Partitioned.claim: the rows no other transaction holds are locked (FOR UPDATE
        SKIP LOCKED, so a second claimer passes over the first one's rows instead of waiting for
        them), changed and written back in the same transaction."""
        self._check_writable()
        wanted = sorted(set(record_ids))
        if not wanted:
            return []
        out: dict[int, Record] = {}
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute(sql.SQL("SELECT rid, data FROM {} WHERE rid = ANY(%s) ORDER BY rid FOR UPDATE SKIP LOCKED")
                        .format(self._t), (wanted,))
            held = {int(rid): _load(data) for rid, data in cur.fetchall()}
            if len(held) < len(wanted):  # passed over (another claimer holds them) or missing
                cur.execute(sql.SQL("SELECT rid FROM {} WHERE rid = ANY(%s)").format(self._t),
                            ([i for i in wanted if i not in held],))
                there = {int(r[0]) for r in cur.fetchall()}
                gone = [i for i in wanted if i not in held and i not in there]
                if gone:
                    raise NotFound(f"no record {gone[0]} in {self.name}")
            for i, stored in held.items():
                new = change(i, stored)
                if new is not None:
                    out[i] = {k: v for k, v in new.items() if k != RID}
            if out:
                cur.executemany(sql.SQL("UPDATE {} SET {} WHERE rid = %s").format(self._t, self._set),
                                [[*self._values(r), i] for i, r in out.items()])
        return sorted(out)

    def remove(self, record_id: int) -> None:
        self._check_writable()
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE rid = %s").format(self._t), (record_id,))

    def replace_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """One transaction; ids restart at 1 as on TinyDB."""
        self._check_writable()
        records = list(records)
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {}").format(self._t))
            self._copy_in(cur, enumerate(records, start=1))
            self._bump_sequence(cur)

    def load(self, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        """Bulk copy of (id, record) pairs with their ids kept (migrate)."""
        self._check_writable()
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            self._copy_in(cur, rows)
            self._bump_sequence(cur)

    # -- reading ----------------------------------------------------------------
    def get(self, record_id: int) -> Record | None:
        rows = self._query(sql.SQL("SELECT data FROM {} WHERE rid = %s").format(self._t), (record_id,))
        return {**_load(rows[0][0]), RID: record_id} if rows else None

    def require(self, record_id: int) -> Record:
        rec = self.get(record_id)
        if rec is None:
            raise NotFound(f"no record {record_id} in {self.name}")
        return rec

    def all(self) -> list[Record]:
        return [{**d, RID: i} for i, d in self._stream()]

    def find(self, predicate: Predicate) -> list[Record]:
        return [{**d, RID: i} for i, d in self._stream() if predicate(d)]

    def find_by(self, field: str, value: Any) -> list[Record]:
        return [{**d, RID: i} for i, d in self._matching(field, value)]

    def _matching(self, field: str, value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        """(id, record) of each record whose `field` equals `value`: from the field's column
        (indexed) where there is one, else a scan."""
        if field not in self.fields:
            yield from ((i, d) for i, d in self._stream() if matches(field, value)(d))
            return
        key = index_value(value)
        where = (sql.SQL("WHERE {} IS NULL") if key is None else sql.SQL("WHERE {} = %s")).format(column(field))
        yield from ((i, d) for i, d in self._stream(where, None if key is None else (key,)) if d.get(field) == value)

    def ids(self, predicate: Predicate) -> list[int]:
        return [i for i, d in self._stream() if predicate(d)]

    def ids_by(self, field: str, value: Any, also: Predicate | None = None) -> list[int]:
        return [i for i, d in self._matching(field, value) if also is None or also(d)]  # only the matches read

    def count_by(self, field: str) -> dict[Any, int]:
        """Counted by the server, except rows whose text holds "\\u0000" (a json operator on them
        fails: see _PLAIN): those are sent whole and counted here."""
        rows = self._query(sql.SQL("SELECT CASE WHEN {plain} THEN data->>%s END, CASE WHEN {plain} THEN "
                                   "json_typeof(data->%s) END, CASE WHEN NOT {plain} THEN data::text END, count(*) "
                                   "FROM {} GROUP BY 1, 2, 3").format(self._t, plain=_PLAIN), (field, field))
        out: dict[Any, int] = {}
        for text, kind, whole, n in rows:
            if whole is not None:
                value = json.loads(whole).get(field)
            else:
                value = text if kind in ("string", "null", None) else json.loads(text)
            out[value] = out.get(value, 0) + int(n)
        return out

    def count_unflagged(self, flags: Sequence[str]) -> int:
        """storage.Partitioned.count_unflagged: counted by the server on the flags' columns, from
        a partial index where schema.py made one (the inbox's unread: migration 5), the WHERE
        written as its predicate is (`unflagged`) so the planner uses it."""
        if not all(f in self.fields for f in flags):  # no columns for them: read and counted here
            return sum(1 for _i, d in self._stream() if not any(d.get(f) for f in flags))
        rows = self._query(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(self._t, unflagged(flags)))
        return int(rows[0][0]) if rows else 0

    def newest_holding(self, field: str, values: Iterable[Any]) -> Iterator[Record]:
        """storage.Partitioned.newest_holding: from the field's text[] column and its GIN index
        where it is held (schema.HELD, migration 6), newest first a batch at a time, each record
        checked again here (the column drops NUL characters); else read newest first and looked at."""
        wanted = list(dict.fromkeys(values))
        if not wanted:
            raise ValueError("newest_holding needs at least one value")

        def holds(d: Mapping[str, Any]) -> bool:
            held = d.get(field)
            return isinstance(held, list) and all(v in held for v in wanted)

        if field not in self.held or not all(isinstance(v, str) for v in wanted):  # 1 == True in a list: scan
            return self.iter_newest(holds)
        return self._newest_where(sql.SQL("{} @> %s::text[]").format(held_column(field)),
                                  [index_value(v) for v in wanted], holds)

    def _newest_where(self, where: sql.Composable, param: Any, predicate: Predicate) -> Iterator[Record]:
        below: int | None = None
        while True:
            rows = self._query(sql.SQL("SELECT rid, data FROM {} WHERE {} {} ORDER BY rid DESC LIMIT %s").format(
                self._t, where, sql.SQL("") if below is None else sql.SQL("AND rid < %s")),
                (param, BATCH) if below is None else (param, below, BATCH))
            for rid, data in rows:
                d = _load(data)
                if predicate(d):
                    yield {**d, RID: int(rid)}
            if len(rows) < BATCH:
                return
            below = int(rows[-1][0])

    def prepare_holding(self, field: str) -> None:
        """storage.Partitioned.prepare_holding: nothing is kept here."""

    def iter_newest(self, predicate: Predicate | None = None, first: int = BATCH) -> Iterator[Record]:
        """Newest first, `first` rows in the first round trip and BATCH in each after it, no
        transaction held between batches."""
        below: int | None = None
        size = max(1, min(first, BATCH))
        while True:
            where = sql.SQL("") if below is None else sql.SQL("WHERE rid < %s")
            rows = self._query(sql.SQL("SELECT rid, data FROM {} {} ORDER BY rid DESC LIMIT %s")
                               .format(self._t, where), (size,) if below is None else (below, size))
            for rid, data in rows:
                d = _load(data)
                if predicate is None or predicate(d):
                    yield {**d, RID: int(rid)}
            if len(rows) < size:
                return
            below, size = int(rows[-1][0]), BATCH

    def project(self, fields: Sequence[str], after: int = 0,
                also: Sequence[int] = ()) -> list[tuple[int, tuple[str, ...]]]:
        """See storage.Partitioned.project: the fields picked out by the server, except from rows
        whose text holds "\\u0000" (see _PLAIN): those are sent whole and picked here."""
        picked = sql.SQL(", ").join(sql.SQL("CASE WHEN {} THEN coalesce(data->>{}, '') END").format(
            _PLAIN, sql.Literal(f)) for f in fields)
        rows = self._query(sql.SQL("SELECT rid, CASE WHEN NOT {} THEN data::text END, {} FROM {} "
                                   "WHERE rid > %s OR rid = ANY(%s) ORDER BY rid").format(_PLAIN, picked, self._t),
                           (after, [int(i) for i in also]))
        out: list[tuple[int, tuple[str, ...]]] = []
        for rid, whole, *texts in rows:
            if whole is not None:
                d = json.loads(whole)
                texts = [_as_text(d.get(f)) for f in fields]
            out.append((int(rid), tuple(texts)))
        return out

    def newest(self, limit: int, predicate: Predicate | None = None) -> list[Record]:
        out: list[Record] = []
        for rec in self.iter_newest(predicate, first=limit + 1):  # one more: the loop ends without a second trip
            if len(out) >= limit:
                break
            out.append(rec)
        return out

    def signature(self) -> tuple[int, int, int] | None:
        """Rows, the newest id, and a sum over every row version's transaction id (an update
        writes a new version): one scan of a small table, no rows sent."""
        rows = self._query(sql.SQL("SELECT count(*), coalesce(max(rid), 0), "
                                   "coalesce(sum(hashtext(xmin::text)::bigint), 0) FROM {}").format(self._t))
        return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None

    def __len__(self) -> int:
        rows = self._query(sql.SQL("SELECT count(*) FROM {}").format(self._t))
        return int(rows[0][0]) if rows else 0
