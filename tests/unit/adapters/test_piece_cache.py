"""A TinyDB file written from kept per-record pieces (durable.PieceCache, issue 15) holds exactly
the bytes `json.dumps` would write, whatever the records and whatever the order of writes; the
file reads back to the same records; a record changed in place is caught, not written stale."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.adapters import durable
from engine.adapters.durable import CHECK_WRITES, PieceCache, encode_whole
from engine.adapters.storage import RID
from engine.adapters.tiny import Collection
from engine.adapters.tiny_partitioned import PartitionedCollection

# Odd Unicode on purpose: line and paragraph separators, NEL, bidi controls, NUL, BOM, emoji,
# combining marks, a key that needs escaping.
ODD = "\u2028\u2029\x85\u202e\u2066\x00\ufeff\U0001f600e\u0301\"\\\r\n\t"
text = st.text(alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(ODD)), max_size=12)
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=False), text)
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(text, inner, max_size=4)), max_leaves=12)
record = st.dictionaries(text.filter(lambda k: k != RID), value, max_size=5)
op = st.one_of(
    st.tuples(st.just("insert"), record),
    st.tuples(st.just("insert_many"), st.lists(record, max_size=4)),
    st.tuples(st.just("update"), st.integers(0, 30), record),
    st.tuples(st.just("modify"), st.lists(st.integers(0, 30), max_size=3), record),
    st.tuples(st.just("remove"), st.integers(0, 30)),
)


def apply(c: Any, model: dict[int, dict[str, Any]], step: tuple[Any, ...]) -> None:
    """One operation on the collection and on the model of what it should hold."""
    kind = step[0]
    if kind == "insert":
        model[c.insert(step[1])] = dict(step[1])
    elif kind == "insert_many":
        for i, r in zip(c.insert_many(step[1]), step[1]):
            model[i] = dict(r)
    elif kind in ("update", "remove", "modify") and not model:
        return
    elif kind == "update":
        rid = sorted(model)[step[1] % len(model)]
        c.update(rid, step[2])
        model[rid] = {**model[rid], **step[2]}
    elif kind == "modify":
        ids = sorted({sorted(model)[n % len(model)] for n in step[1]})
        c.modify_many(ids, lambda _i, stored: {**stored, **step[2]})
        for rid in ids:
            model[rid] = {**model[rid], **step[2]}
    else:
        rid = sorted(model)[step[1] % len(model)]
        c.remove(rid)
        del model[rid]


def files(c: Any) -> list[Path]:
    if isinstance(c, Collection):
        return [c.path] if c.path.exists() else []
    return sorted(c.folder.glob("p*.json"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=12), partitioned=st.booleans())
def test_written_files_equal_json_dumps_and_read_back(steps: list[tuple[Any, ...]], partitioned: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        c: Any = (PartitionedCollection(folder / "msgs", False, partition_size=4) if partitioned
                  else Collection(folder / "one.json", False))
        model: dict[int, dict[str, Any]] = {}
        for step in steps:
            apply(c, model, step)
            for path in files(c):
                raw = path.read_bytes()
                assert raw == encode_whole(json.loads(raw))  # the bytes json.dumps writes for what is there
        c.close()
        again: Any = (PartitionedCollection(folder / "msgs", True, partition_size=4) if partitioned
                      else Collection(folder / "one.json", True))
        assert {r[RID]: {k: v for k, v in r.items() if k != RID} for r in again.all()} == model
        again.close()


@settings(max_examples=100, deadline=None)
@given(first=st.dictionaries(text, st.dictionaries(text, record, max_size=5), max_size=3),
       second=st.dictionaries(text, st.dictionaries(text, record, max_size=5), max_size=3))
def test_pieces_equal_json_dumps_for_any_tables(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Straight on the cache: any tables, then other tables sharing some of the same objects."""
    cache = PieceCache()
    assert cache.encode(first) == encode_whole(first)
    mixed = {**first, **second}
    for name, table in first.items():
        mixed[name] = {**table, **second.get(name, {})}
    assert cache.encode(mixed) == encode_whole(mixed)
    assert cache.encode({1: "not a table"}) == encode_whole({1: "not a table"})


def test_a_write_encodes_only_the_records_that_changed() -> None:
    cache = PieceCache()
    data = {"records": {str(i): {"subject": f"s{i}"} for i in range(1, 6)}}
    cache.encode(data)
    kept = dict(cache._tables["records"])  # noqa: SLF001 - what the cache holds is the point
    data["records"]["3"] = {"subject": "changed"}
    assert cache.encode(data) == encode_whole(data)
    for key in ("1", "2", "4", "5"):
        assert cache._tables["records"][key][1] is kept[key][1]  # noqa: SLF001 - the same bytes, not re-made
    assert cache._tables["records"]["3"][1] == b'"3":{"subject":"changed"}'  # noqa: SLF001


def test_a_record_changed_in_place_is_caught_not_written_stale(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHECK_WRITES, "1")
    c = Collection(tmp_path / "one.json", False)
    rid = c.insert({"read": False})
    c.insert({"read": False})

    def in_place(_i: int, stored: Any) -> Any:
        stored["read"] = True  # against the rule: the stored dict itself
        return None

    with pytest.raises(AssertionError, match="changed in place"):
        c.modify_many([rid], in_place)
    assert json.loads((tmp_path / "one.json").read_bytes())["records"][str(rid)] == {"read": False}


def test_only_the_most_recently_written_files_keep_their_pieces(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded: a store that writes every partition (an import) keeps pieces for a
    few; a file written again after its pieces went is still written right."""
    monkeypatch.setattr(durable, "KEEP_PIECES", 2)
    parts = PartitionedCollection(tmp_path / "msgs", False, partition_size=3)
    ids = parts.insert_many([{"n": i} for i in range(12)])  # four partitions: 0..2, 3..5, 6..8, 9..11 (+ id 12)
    kept = [parts._part(n)._db.storage._pieces._tables for n in range(5)]  # noqa: SLF001
    assert [bool(t) for t in kept] == [False, False, False, True, True]
    parts.update(ids[0], {"n": "again"})
    raw = (tmp_path / "msgs" / "p000000.json").read_bytes()
    assert raw == encode_whole(json.loads(raw)) and json.loads(raw)["records"]["1"] == {"n": "again"}
