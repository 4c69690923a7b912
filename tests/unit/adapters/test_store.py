"""TinyDB specifics: partition files, the blob index, meta.json migrations. What every backend
must do alike is in test_storage.py, run on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.adapters.store import RID, Store


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


def test_blob_index_ignores_a_torn_last_line(data_dir: Path) -> None:
    with Store.open(data_dir, writer=True) as s:
        a = s.blobs.put(b"kept")
    with open(data_dir / "blobs" / "packs" / "index", "ab") as f:
        f.write(b"abc123 1 0")  # a crash mid-append
    with Store.open(data_dir, writer=True) as s:
        assert s.blobs.get(a) == b"kept"
        b = s.blobs.put(b"after the crash")
        assert s.blobs.get(b) == b"after the crash"


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
