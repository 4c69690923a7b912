"""PostgreSQL specifics: numbered migrations, indexed columns, the advisory writer's lock across
processes, transactions, and errors a person can act on. The behaviour both backends share is
tested in test_storage.py."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from engine.adapters.postgres import DatabaseUnreachable, PgStore, redact, refuse_password
from engine.adapters.postgres import schema
from engine.adapters.storage import RID
from engine.errors import InputInvalid, StoreCorrupt, StoreLocked

HOLD = """
import sys, time
from pathlib import Path
from engine.adapters.postgres import PgStore
s = PgStore.open(sys.argv[1], writer=True, folder=Path(sys.argv[2]), command="practicemail serve")
print("locked", flush=True)
time.sleep(120)
"""


def _open(url: str, folder: Path, writer: bool = True) -> PgStore:
    return PgStore.open(url, writer=writer, folder=folder, command="test")


def test_migrations_are_numbered_recorded_once_and_rolled_back_whole(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path) as s:
        assert s.schema_version == schema.SCHEMA_VERSION
    _open(pg_url, tmp_path).close()  # a second open runs nothing again
    with psycopg.connect(pg_url) as c:
        rows = c.execute("SELECT version, description FROM schema_migrations ORDER BY version").fetchall()
        assert [v for v, _d in rows] == list(range(1, schema.SCHEMA_VERSION + 1))

        def broken(cur: psycopg.Cursor) -> None:
            cur.execute("CREATE TABLE half_done (x int)")
            raise RuntimeError("step failed halfway")

        steps = {**schema.MIGRATIONS, schema.SCHEMA_VERSION + 1: ("broken", broken)}
        with pytest.raises(RuntimeError):
            schema.migrate(c, steps)
        assert schema.current_version(c) == schema.SCHEMA_VERSION
        assert c.execute("SELECT to_regclass('half_done')").fetchone() == (None,)  # DDL rolled back too


def test_filtered_fields_are_indexed_columns(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path) as s:
        outbox = s.partitioned("outbox")
        rid = outbox.insert({"status": "ready", "patient_id": "P00001", "message_id": "<a@b>", "subject": "x"})
        with psycopg.connect(pg_url) as c:
            row = c.execute("SELECT f_status, f_patient_id, f_message_id FROM c_outbox WHERE rid = %s",
                            (rid,)).fetchone()
            assert row == ("ready", "P00001", "<a@b>")
            indexed = {r[0] for r in c.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'c_outbox' "
                                               "AND schemaname = current_schema()")}  # others' schemas go
            for col in ("rid", "f_status", "f_patient_id", "f_message_id"):
                assert any(f"({col})" in d for d in indexed), col
            c.execute("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in c.execute("EXPLAIN SELECT rid FROM c_outbox WHERE f_status = 'ready'"))
            assert "c_outbox_status_idx" in plan


def test_a_writer_in_another_process_is_named_and_its_death_frees_the_lock(pg_url: str, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, pg_url, str(tmp_path / "holder")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLocked) as exc:
            _open(pg_url, tmp_path)
        assert f"pid {proc.pid}" in exc.value.message and "practicemail serve" in exc.value.message
        _open(pg_url, tmp_path, writer=False).close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30  # the server notices the dropped connection on its own
    while True:
        try:
            _open(pg_url, tmp_path).close()
            break
        except StoreLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_store_transaction_commits_all_or_nothing(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path) as s:
        things = s.collection("things")
        with pytest.raises(RuntimeError), s.transaction():
            things.insert({"a": 1})
            s.blobs.put(b"in the transaction")
            raise RuntimeError("stop")
        assert len(things) == 0 and list(s.blobs.names()) == []
        with s.transaction():
            things.insert({"a": 2})
            s.partitioned("outbox").insert({"status": "ready"})
        assert [r["a"] for r in things.all()] == [2] and len(s.partitioned("outbox")) == 1


def test_a_reader_of_an_empty_database_sees_an_empty_practice_and_an_older_one_is_refused(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _open(pg_url, tmp_path, writer=False) as r:  # as a reader of a new data folder does
        assert r.schema_version == 0 and r.names() == {}
        assert r.collection("settings").get(1) is None and len(r.partitioned("outbox")) == 0
        assert list(r.blobs.names()) == [] and not r.blobs.exists("0" * 64)
    _open(pg_url, tmp_path).close()  # set up at today's version, which a later one will call old
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    with pytest.raises(StoreCorrupt) as exc:
        _open(pg_url, tmp_path, writer=False)
    assert "holds no practice of this version" in exc.value.message and "serve" in exc.value.hint


def test_a_collection_never_written_reads_as_empty_to_a_reader(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path):
        pass
    with _open(pg_url, tmp_path, writer=False) as r:
        odd = r.collection("never_written")
        assert odd.all() == [] and odd.get(1) is None and len(odd) == 0 and odd.find_by("a", 1) == []
        assert r.partitioned("messages").newest(5) == []


def test_unreachable_server_is_one_line_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnreachable) as exc:
        _open("postgresql://127.0.0.1:1/test", tmp_path)
    assert "\n" not in exc.value.message and "127.0.0.1" in exc.value.message
    assert "refused" in exc.value.message.lower()


def test_passwords_stay_out_of_argv_and_messages() -> None:
    url = "postgresql://desk:s3cret@server.example:5433/practice"
    assert "s3cret" not in redact(url) and "server.example:5433/practice" in redact(url)
    with pytest.raises(InputInvalid) as exc:
        refuse_password(url)
    assert "s3cret" not in exc.value.message and "pgpass" in exc.value.hint
    refuse_password("postgresql://desk@server.example/practice")


def test_records_written_by_a_writer_reach_a_reader_at_once(pg_url: str, tmp_path: Path) -> None:
    with _open(pg_url, tmp_path) as w, _open(pg_url, tmp_path, writer=False) as r:
        rid = w.partitioned("messages").insert({"subject": "new"})
        assert r.partitioned("messages").newest(1) == [{"subject": "new", RID: rid}]


def test_a_call_after_close_says_so_rather_than_blaming_the_network(pg_url: str, tmp_path: Path) -> None:
    from engine.adapters.postgres.db import StoreClosed

    s = _open(pg_url, tmp_path)
    things = s.collection("things")
    s.close()
    with pytest.raises(StoreClosed):
        things.all()


def test_migration_5_fills_the_unread_columns_of_messages_already_stored(pg_url: str, tmp_path: Path,
                                                                         request: pytest.FixtureRequest) -> None:
    """A database of schema 4 holds messages read, deleted, neither, and one whose subject holds
    "\\u0000" (which a json operator refuses to read): after migration 5 the unread count is
    answered from the new columns and their partial index, and is right. The index serves at once,
    even while another session's transaction older than the migration is still open (another
    suite's, or a desk's, on the same server): an index built over rows the same transaction had
    just HOT-updated was left out of every plan until all older transactions ended."""
    stored = [{"subject": "a", "read": True}, {"subject": "b", "deleted": True}, {"subject": "c"},
              {"subject": "d\x00e", "read": False}, {"subject": "f", "read": True, "deleted": False}]
    older = psycopg.connect(pg_url)
    older.execute("SELECT txid_current()")  # a transaction with an id, left open until the end
    request.addfinalizer(older.close)
    with psycopg.connect(pg_url) as c:
        schema.migrate(c, {n: schema.MIGRATIONS[n] for n in range(1, 5)})
        with c.transaction(), c.cursor() as cur:
            cur.executemany("INSERT INTO c_messages (data) VALUES (%s)", [(json.dumps(d),) for d in stored])
    with _open(pg_url, tmp_path) as s:
        assert s.schema_version == schema.SCHEMA_VERSION
        messages = s.partitioned("messages")
        assert messages.count_unflagged(schema.UNREAD) == 2
        rid = messages.insert({"subject": "g"})
        messages.update(rid - 2, {"read": True})  # "d\x00e" read now
        assert messages.count_unflagged(schema.UNREAD) == 2
        with psycopg.connect(pg_url) as c:
            c.execute("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in c.execute(
                "EXPLAIN SELECT count(*) FROM c_messages WHERE f_read IS DISTINCT FROM 'true' "
                "AND f_deleted IS DISTINCT FROM 'true'").fetchall())
            assert "c_messages_unread_idx" in plan, plan


def test_migration_6_fills_the_tag_column_and_the_tag_filter_reads_its_index(pg_url: str, tmp_path: Path) -> None:
    """A database of schema 5 holds messages with tags, without, with a tag and a subject holding
    "\\u0000": after migration 6 newest_holding answers from the tag column (filled for them in
    Python) as a scan would, and the planner reads a rare tag from the GIN index."""
    stored = [{"subject": "a", "tags": ["Patient"]}, {"subject": "b"}, {"subject": "c\x00", "tags": ["Patient", "SMS"]},
              {"subject": "d", "tags": "not a list"}, {"subject": "e", "tags": ["SMS\x00"]}]
    with psycopg.connect(pg_url) as c:
        schema.migrate(c, {n: schema.MIGRATIONS[n] for n in range(1, 6)})
        with c.transaction(), c.cursor() as cur:
            cur.executemany("INSERT INTO c_messages (data) VALUES (%s)", [(json.dumps(d),) for d in stored])
            cur.execute("INSERT INTO c_messages (data) SELECT '{\"subject\": \"x\", \"tags\": [\"Patient\"]}' "
                        "FROM generate_series(1, 2000)")
    with _open(pg_url, tmp_path) as s:
        assert s.schema_version == schema.SCHEMA_VERSION
        messages = s.partitioned("messages")
        assert [r[RID] for r in messages.newest_holding("tags", ["SMS"])] == [3]
        assert [r[RID] for r in messages.newest_holding("tags", ["SMS\x00"])] == [5]
        assert [r[RID] for r in messages.newest_holding("tags", ["Patient", "SMS"])] == [3]
        assert len(list(messages.newest_holding("tags", ["Patient"]))) == 2002
        rid = messages.insert({"subject": "f", "tags": ["SMS"]})
        messages.update(3, {"tags": ["Patient"]})
        assert [r[RID] for r in messages.newest_holding("tags", ["SMS"])] == [rid]
        with psycopg.connect(pg_url) as c:
            plan = " ".join(r[0] for r in c.execute(
                "EXPLAIN SELECT rid, data FROM c_messages WHERE h_tags @> ARRAY['Bounce'] "
                "ORDER BY rid DESC LIMIT 500").fetchall())
            assert "c_messages_tags_held_idx" in plan, plan


def test_a_notice_s_sender_is_ours_only_while_our_connection_is_open(pg_url: str, tmp_path: Path) -> None:
    """Db.sent_here, which keeps a desk from hearing its own changes back (#21): a session of
    this store's pool is ours, another process's is not, and a closed one of ours stops being
    ours (the server may give its pid to another desk's session)."""
    store = _open(pg_url, tmp_path)
    try:
        with store.db.conn() as c:
            pooled = c.info.backend_pid
        own = store.db.connect()
        with psycopg.connect(pg_url) as stranger:
            assert store.db.sent_here(pooled) and store.db.sent_here(own.info.backend_pid)
            assert not store.db.sent_here(stranger.info.backend_pid)
        pid = own.info.backend_pid
        own.close()
        assert not store.db.sent_here(pid)
    finally:
        store.close()
