"""The storage interface, held to the same behaviour on both backends (TinyDB and PostgreSQL):
every test here runs once per backend through the `backend` fixture."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.adapters.storage import RID, Blobs, Collection, Partitioned, ReadOnlyStore, Storage
from engine.errors import NotFound, StoreCorrupt, StoreLocked
from tests.backends import Backend


def test_each_backend_satisfies_the_protocols(backend: Backend) -> None:
    with backend.open() as s:
        assert isinstance(s, Storage)
        assert isinstance(s.collection("things"), Collection)
        assert isinstance(s.partitioned("messages"), Partitioned)
        assert isinstance(s.blobs, Blobs)


def test_collection_round_trip_and_reader_sees_writes(backend: Backend) -> None:
    with backend.open() as w:
        c = w.collection("things")
        rid = c.insert({"name": "Zoë", "tags": ["a"], RID: 999})
        with backend.open(writer=False) as reader:
            assert reader.collection("things").get(rid) == {"name": "Zoë", "tags": ["a"], RID: rid}
            c.update(rid, {"name": "Zoe"})
            assert reader.collection("things").get(rid)["name"] == "Zoe"
            with pytest.raises(ReadOnlyStore):
                reader.collection("things").insert({"x": 1})
            with pytest.raises(ReadOnlyStore):
                reader.blobs.put(b"x")


def test_records_returned_are_copies(backend: Backend) -> None:
    with backend.open() as s:
        c = s.collection("things")
        rid = c.insert({"tags": ["a"]})
        got = c.get(rid)
        got["tags"].append("mutated")
        assert c.get(rid)["tags"] == ["a"]
        c.find(lambda r: True)[0]["tags"].append("mutated")
        assert c.require(rid)["tags"] == ["a"]


def test_any_text_round_trips(backend: Backend) -> None:
    """Untrusted text is stored exactly: NUL, bidi controls, astral characters, nested values."""
    record = {"subject": "a\x00b\u202e\U0001F9B7", "headers": {"X": ["1", None, 2.5, True]}, "n": -3}
    with backend.open() as s:
        rid = s.partitioned("messages").insert(record)
        assert s.partitioned("messages").get(rid) == {**record, RID: rid}
        assert s.partitioned("messages").find_by("subject", record["subject"])[0][RID] == rid


def test_partitioned_ids_increase_newest_first_and_continue_after_reopen(backend: Backend) -> None:
    with backend.open() as s:
        p = s.partitioned("messages", partition_size=10)
        ids = p.insert_many({"n": i, "read": False} for i in range(35))
        assert ids == list(range(1, 36))
        p.update(17, {"read": True})
        assert p.get(17) == {"n": 16, "read": True, RID: 17}
        assert [r[RID] for r in p.newest(3)] == [35, 34, 33]
        assert [r["n"] for r in p.newest(2, lambda r: r["read"])] == [16]
        assert len(p) == 35
    with backend.open() as s:
        assert s.partitioned("messages", partition_size=10).insert({"n": 99}) == 36


def test_newest_reads_across_many_records_in_order(backend: Backend) -> None:
    with backend.open() as s:
        p = s.partitioned("messages", partition_size=100)
        p.insert_many(({"n": i, "odd": i % 2 == 1} for i in range(1, 1301)), owned=True)
        odd = p.newest(600, lambda r: r["odd"])
        assert [r["n"] for r in odd] == list(range(1299, 99, -2))
        assert [r[RID] for r in p.iter_newest()] == list(range(1300, 0, -1))


def test_finds_and_counts_agree_with_the_records(backend: Backend) -> None:
    rows = [{"status": "ready", "patient_id": "P1", "n": 1}, {"status": "sent", "patient_id": "P2", "n": 2},
            {"status": "ready", "n": 3}, {"status": None, "patient_id": "P1", "n": 4}, {"patient_id": 7, "n": 5}]
    with backend.open() as s:
        for name, coll in (("outbox", s.partitioned("outbox")), ("things", s.collection("things"))):
            coll.insert_many(rows)
            assert [r["n"] for r in coll.find_by("status", "ready")] == [1, 3], name
            assert [r["n"] for r in coll.find_by("status", None)] == [4, 5], name  # missing counts as None
            assert [r["n"] for r in coll.find_by("patient_id", "P1")] == [1, 4], name
            assert [r["n"] for r in coll.find_by("patient_id", 7)] == [5], name
            assert coll.find_by("patient_id", "7") == [], name
            assert [r["n"] for r in coll.find_by("n", 2)] == [2], name  # a field with no index
            assert coll.ids(lambda r: r.get("patient_id") == "P1") == [1, 4], name
            assert [r[RID] for r in coll.all()] == [1, 2, 3, 4, 5], name
        assert s.partitioned("outbox").count_by("status") == {"ready": 2, "sent": 1, None: 2}
        assert s.partitioned("outbox").count_by("patient_id") == {"P1": 2, "P2": 1, None: 1, 7: 1}


def test_missing_record_is_not_found(backend: Backend) -> None:
    with backend.open() as s:
        with pytest.raises(NotFound):
            s.collection("x").update(5, {"a": 1})
        with pytest.raises(NotFound):
            s.partitioned("m").require(5)
        assert s.partitioned("m").get(123456) is None


def test_modify_many_is_all_or_nothing(backend: Backend) -> None:
    with backend.open() as s:
        p = s.partitioned("outbox")
        p.insert_many([{"status": "ready", "n": i} for i in range(4)])

        def change(rid: int, r: object) -> dict:
            if rid == 3:
                raise RuntimeError("the rule refused")
            return {**r, "status": "sending"}  # type: ignore[dict-item]

        with pytest.raises(RuntimeError):
            p.modify_many([1, 2, 3], change)
        with pytest.raises(NotFound):
            p.modify_many([1, 99], lambda _i, r: {**r, "status": "sending"})
        assert p.count_by("status") == {"ready": 4}
        out = p.modify_many([2, 4, 1], lambda i, r: None if i == 4 else {**r, "status": "sending"})
        assert out == {2: {"status": "sending", "n": 1, RID: 2}, 1: {"status": "sending", "n": 0, RID: 1}}
        assert p.modify_many([1], lambda _i, r: {**r, "status": "sent"}, copies=False) == {1: {}}
        assert p.count_by("status") == {"sent": 1, "sending": 1, "ready": 2}


def test_insert_with_an_id_and_replace_all(backend: Backend) -> None:
    with backend.open() as s:
        c = s.collection("x")
        assert c.insert({"a": 0}, 5) == 5
        with pytest.raises(ValueError):
            c.insert({"a": 1}, 5)
        assert c.insert({"a": 6}) == 6
        c.remove(5)
        assert [r["a"] for r in c.all()] == [6]
        c.replace_all([{"a": 3}, {"a": 4}])
        assert [(r[RID], r["a"]) for r in c.all()] == [(1, 3), (2, 4)]
        assert c.insert({"a": 5}) == 3


def test_a_collections_signature_changes_with_every_write_from_any_process(backend: Backend) -> None:
    with backend.open() as s, backend.open(writer=False) as reader:
        c, seen = s.collection("patients"), reader.collection("patients")
        rid = c.insert({"id": "P1", "last_name": "Ng"})
        tokens = [seen.signature()]
        assert tokens[0] is not None and seen.signature() == tokens[0]  # nothing changed: same token
        for write in (lambda: c.update(rid, {"last_name": "Ngata"}), lambda: c.insert({"id": "P2"}),
                      lambda: c.remove(rid), lambda: c.replace_all([{"id": "P3"}])):
            write()
            tokens.append(seen.signature())
        assert len(set(tokens)) == len(tokens)


def test_blobs_are_content_addressed(backend: Backend) -> None:
    with backend.open() as s:
        a = s.blobs.put(b"raw message")
        assert s.blobs.put(b"raw message") == a
        assert s.blobs.get(a) == b"raw message"
        many = s.blobs.put_many([b"one", b"two", b"one", b"raw message"])
        assert many[0] == many[2] and many[3] == a
        assert [s.blobs.get(x) for x in many] == [b"one", b"two", b"one", b"raw message"]
        assert sorted(s.blobs.names()) == sorted(set(many))
        with pytest.raises(NotFound):
            s.blobs.get("../../etc/passwd")
        with pytest.raises(NotFound):
            s.blobs.get("0" * 64)
        with backend.open(writer=False) as reader:
            assert reader.blobs.get(a) == b"raw message"  # another process finds them
            assert reader.blobs.exists(a) and not reader.blobs.exists("0" * 64)


def test_a_second_writer_is_refused_while_readers_are_welcome(backend: Backend) -> None:
    with backend.open(command="practicemail serve") as first:
        first.collection("x").insert({"a": 1})
        with pytest.raises(StoreLocked) as exc:
            backend.open()
        assert "practicemail serve" in exc.value.message and "in use by" in exc.value.message
        assert exc.value.hint.startswith("Close the other practicemail program")
        with backend.open(writer=False) as reader:
            assert len(reader.collection("x")) == 1
    with backend.open() as again:  # closed: free again
        assert again.collection("x").get(1) == {"a": 1, RID: 1}


def test_a_newer_schema_is_refused(backend: Backend) -> None:
    with backend.open() as s:
        version = s.schema_version
    if backend.url is None:
        (backend.folder / "meta.json").write_text('{"schema": 999}')
    else:
        import psycopg

        with psycopg.connect(backend.url, autocommit=True) as c:
            c.execute("INSERT INTO schema_migrations (version, description) VALUES (999, 'from the future')")
    assert version >= 1
    for writer in (True, False):
        with pytest.raises(StoreCorrupt) as exc:
            backend.open(writer=writer)
        assert "newer" in exc.value.message


def test_names_lists_the_collections_written(backend: Backend) -> None:
    with backend.open() as s:
        s.collection("patients").insert({"id": "P1"})
        s.partitioned("messages").insert({"subject": "hi"})
        names = s.names()
    assert names["patients"] is False and names["messages"] is True


def test_threads_writing_and_reading_lose_nothing(backend: Backend) -> None:
    with backend.open() as s:
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
    with backend.open(writer=False) as s:
        records = s.partitioned("messages", partition_size=50).all()
        assert len(records) == 240
        assert all(r["read"] for r in records)
        assert sorted((r["tag"], r["i"]) for r in records) == [(t, i) for t in range(4) for i in range(60)]
        assert len(s.collection("small").all()) == 240


def test_kept_counts_and_tag_lists_follow_every_writer(backend: Backend) -> None:
    """count_by, count_unflagged and newest_holding are kept per partition on TinyDB (issue 19):
    a reader's kept answers must follow the writer's changes, as a scan would."""
    with backend.open() as w, backend.open(writer=False) as reader:
        p = w.partitioned("messages", partition_size=3)
        seen = reader.partitioned("messages", partition_size=3)
        p.insert_many([{"read": i % 2 == 0, "tags": ["Patient"] if i % 3 else [], "status": "a"} for i in range(8)])
        for store in (p, seen):  # asked once: kept from here
            store.prepare_holding("tags")
            assert store.count_unflagged(("read", "deleted")) == 4
            assert [r[RID] for r in store.newest_holding("tags", ["Patient"])] == [8, 6, 5, 3, 2]
            assert store.count_by("status") == {"a": 8}
        p.update(2, {"read": True, "tags": []})
        p.update(7, {"deleted": True, "status": "b"})
        p.insert({"tags": ["Patient", "SMS"], "status": "b"})
        for store in (p, seen):
            assert store.count_unflagged(("read", "deleted")) == 4  # 2 read, 9 new and unread
            assert [r[RID] for r in store.newest_holding("tags", ["Patient"])] == [9, 8, 6, 5, 3]
            assert [r[RID] for r in store.newest_holding("tags", ["SMS", "Patient"])] == [9]
            assert list(store.newest_holding("tags", ["Bounce"])) == []
            assert store.count_by("status") == {"a": 7, "b": 2}


_fresh = itertools.count()
tagged = st.lists(st.tuples(st.lists(st.sampled_from(["A", "B", "C"]), max_size=3), st.booleans()), max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=tagged, wanted=st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=2),
       changes=st.lists(st.tuples(st.integers(0, 40), st.lists(st.sampled_from(["A", "B", "C"]), max_size=2))))
def test_newest_holding_names_what_a_scan_finds(backend: Backend, records: list[tuple[list[str], bool]],
                                                 wanted: list[str], changes: list[tuple[int, list[str]]]) -> None:
    with backend.open() as s:
        p = s.partitioned(f"held{next(_fresh)}", partition_size=4)  # a collection of this example's own
        ids = p.insert_many([{"tags": t, "read": r} for t, r in records])
        for i, tags in changes:
            if ids:
                p.update(ids[i % len(ids)], {"tags": tags})
        scan = list(p.iter_newest(lambda r: all(t in r["tags"] for t in wanted)))
        assert list(p.newest_holding("tags", wanted)) == scan
        assert p.count_unflagged(["read"]) == sum(1 for r in p.all() if not r["read"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statuses=st.lists(st.sampled_from(["ready", "sending", "sent", None]), max_size=30),
       wanted=st.sampled_from(["ready", "sending", "sent", None]))
def test_ids_by_names_what_a_scan_finds(backend: Backend, statuses: list[str | None], wanted: str | None) -> None:
    """ids_by (the outbox's ids in a state: PostgreSQL from the status index) is find_by's ids,
    on an indexed field of the outbox and on a plain one alike; with `also`, only those it accepts."""
    with backend.open() as s:
        for p in (s.partitioned("outbox"), s.partitioned(f"plain{next(_fresh)}", partition_size=4)):
            for rid in p.ids(lambda _r: True):
                p.remove(rid)
            p.insert_many([{"status": v, "n": n} if v is not None else {"n": n} for n, v in enumerate(statuses)])
            assert p.ids_by("status", wanted) == [r[RID] for r in p.find_by("status", wanted)] == \
                p.ids(lambda r: r.get("status") == wanted)
            even = lambda r: r["n"] % 2 == 0  # noqa: E731 - the outbox's due() narrows the state's ids so
            assert p.ids_by("status", wanted, even) == p.ids(lambda r: r.get("status") == wanted and even(r))
