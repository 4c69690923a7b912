from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from engine.adapters.store import RID, ReadOnlyStore, Store
from engine.errors import NotFound, StoreCorrupt


def test_collection_round_trip_and_reader_sees_writes(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as w:
        c = w.collection("things")
        rid = c.insert({"name": "Zoë", "tags": ["a"]})
        reader = Store.open(data_dir, writer=False)
        assert reader.collection("things").get(rid)["name"] == "Zoë"
        c.update(rid, {"name": "Zoe"})
        assert reader.collection("things").get(rid)["name"] == "Zoe"
        with pytest.raises(ReadOnlyStore):
            reader.collection("things").insert({"x": 1})
        reader.close()


def test_records_returned_are_copies(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        c = s.collection("things")
        rid = c.insert({"tags": ["a"]})
        got = c.get(rid)
        got["tags"].append("mutated")
        assert c.get(rid)["tags"] == ["a"]


def test_partitioned_ids_increase_and_writes_touch_one_partition(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        p = s.partitioned("messages", partition_size=10)
        ids = p.insert_many({"n": i, "read": False} for i in range(35))
        assert ids == list(range(1, 36))
        files = sorted((data_dir / "db" / "messages").glob("p*.json"))
        assert [f.name for f in files] == ["p000000.json", "p000001.json", "p000002.json", "p000003.json"]
        before = {f.name: f.stat().st_mtime_ns for f in files}
        p.update(17, {"read": True})
        after = {f.name: f.stat().st_mtime_ns for f in files}
        assert [n for n in before if before[n] != after[n]] == ["p000001.json"]
        assert p.get(17)["read"] is True
        assert [r[RID] for r in p.newest(3)] == [35, 34, 33]
        assert [r["n"] for r in p.newest(2, lambda r: r["read"])] == [16]
    with Store.open(data_dir, writer=True) as s:
        assert s.partitioned("messages", partition_size=10).insert({"n": 99}) == 36


def test_missing_record_is_not_found(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        with pytest.raises(NotFound):
            s.collection("x").update(5, {"a": 1})
        assert s.partitioned("m").get(123456) is None


def test_blobs_are_content_addressed(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        a = s.blobs.put(b"raw message")
        assert s.blobs.put(b"raw message") == a
        assert s.blobs.get(a) == b"raw message"
        many = s.blobs.put_many([b"one", b"two", b"one", b"raw message"])
        assert many[0] == many[2] and many[3] == a
        assert [s.blobs.get(x) for x in many] == [b"one", b"two", b"one", b"raw message"]
        with pytest.raises(NotFound):
            s.blobs.get("../../etc/passwd")
    reader = Store.open(data_dir, writer=False)
    assert reader.blobs.get(a) == b"raw message"  # another process finds them through the index
    reader.close()


def test_blob_index_ignores_a_torn_last_line(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        a = s.blobs.put(b"kept")
    with open(data_dir / "blobs" / "packs" / "index", "ab") as f:
        f.write(b"abc123 1 0")  # a crash mid-append
    with Store.open(data_dir, writer=True) as s:
        assert s.blobs.get(a) == b"kept"
        b = s.blobs.put(b"after the crash")
        assert s.blobs.get(b) == b"after the crash"


def test_replace_all_is_one_write(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        c = s.collection("x")
        c.insert_many([{"a": 1}, {"a": 2}])
        c.replace_all([{"a": 3}])
        assert [r["a"] for r in c.all()] == [3]


def test_newer_schema_is_refused(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "meta.json").write_text(json.dumps({"schema": 999}))
    with pytest.raises(StoreCorrupt) as exc:
        Store.open(data_dir, writer=True)
    assert "newer" in exc.value.message


def test_migration_hook_runs_in_order(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.adapters import store as store_mod

    Store.open(data_dir, writer=True).close()
    (data_dir / "meta.json").write_text(json.dumps({"schema": 1}))
    ran: list[int] = []
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(store_mod, "MIGRATIONS", {1: lambda s: ran.append(1), 2: lambda s: ran.append(2)})
    with Store.open(data_dir, writer=True) as s:
        assert s.schema_version == 3
    assert ran == [1, 2]


def test_threads_writing_and_reading_lose_nothing(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        p = s.partitioned("messages", partition_size=50)
        small = s.collection("small")
        errors: list[BaseException] = []

        def writer(tag: int) -> None:
            try:
                for i in range(60):
                    rid = p.insert({"tag": tag, "i": i, "read": False})
                    p.update(rid, {"read": True})
                    small.insert({"tag": tag, "i": i})
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(60):
                    p.newest(20)
                    small.all()
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    with Store.open(data_dir, writer=False) as s:
        records = s.partitioned("messages", partition_size=50).all()
        assert len(records) == 240
        assert all(r["read"] for r in records)
        assert sorted((r["tag"], r["i"]) for r in records) == [(t, i) for t in range(4) for i in range(60)]
        assert len(s.collection("small").all()) == 240
