"""Moving up: `migrate` copies a practice the engine made (demo data, sent and queued outbox
items, received messages, their raw bytes) into PostgreSQL, all or nothing, verified; the data
folder is left byte for byte as it was; the practice opened on the database reads the same."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from engine.adapters.clock import FakeClock
from engine.adapters.store import Store
from engine.cli import main
from engine.errors import StoreCorrupt, StoreLocked
from engine.service import migrate
from engine.service.demo import load_demo
from engine.service.engine import Engine
from engine.service.inbox import Inbox
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from tests.integration.helpers import configure, configure_incoming, draft
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def mail(sender: str, subject: str, n: int) -> bytes:
    return (f"From: {sender}\r\nTo: practice@example.test\r\nSubject: {subject}\r\nMessage-ID: <m{n}@p.example>\r\n"
            f"Date: Tue, 24 Nov 2026 07:30:00 +0000\r\n\r\nHello {n}\r\n").encode()


def seed(folder: Path, fakemail: FakeMail) -> None:
    """A TinyDB practice as the engine leaves it: three sent, one queued draft, four received."""
    with Practice(folder, writer=True, command="test", database="") as p:
        load_demo(p)
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        e = Engine(p, FakeClock(T0))
        e.smtp_timeout = 5
        try:
            patients = p.directory.list("patients")[:4]
            for who in patients[:3]:
                e.outbox.add_draft(draft(to=who["email"], subject=f"For {who['first_name']}"), T0, patient_id=who["id"])
            assert e.send_receive_now()["sent"] == 3
            for n, who in enumerate(patients):
                fakemail.deliver("practice", mail(who["email"], f"Question {n}", n))
            assert e.send_receive_now()["received"] == 4
            e.outbox.add_draft(draft(to=patients[3]["email"], subject="Later"), T0, as_draft=True,
                               patient_id=patients[3]["id"])
        finally:
            e.stop()


def tree(folder: Path) -> dict[str, str]:
    """Every file's SHA-256 but the writer's lock note (who holds the folder, not its data)."""
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file() and f.name != "writer.lock"}


def contents(store: object) -> dict[str, list[dict]]:
    return {name: (store.partitioned(name) if part else store.collection(name)).all()  # type: ignore[attr-defined]
            for name, part in store.names().items()}  # type: ignore[attr-defined]


def test_migrate_copies_everything_verified_and_leaves_the_folder_as_it_was(
        data_dir: Path, fakemail: FakeMail, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(data_dir, fakemail)
    before = tree(data_dir)
    with Store.open(data_dir, writer=False) as old:
        records = contents(old)
        blobs = {sha: old.blobs.get(sha) for sha in old.blobs.names()}
    assert main(["migrate", "--from", str(data_dir), "--to", pg_url]) == 0
    printed = capsys.readouterr().out
    assert f"{sum(map(len, records.values()))} records" in printed and f"{len(blobs)} stored files" in printed
    assert tree(data_dir) == before

    with Practice(data_dir, writer=False, database=pg_url) as p:
        assert p.store.__class__.__name__ == "PgStore"
        copied = contents(p.store)
        assert {n: r for n, r in copied.items() if n in records} == records  # every record, ids and all
        assert all(not r for n, r in copied.items() if n not in records)
        assert {sha: p.store.blobs.get(sha) for sha in p.store.blobs.names()} == blobs
        outbox = Outbox(p.store)
        assert sorted(r["status"] for r in outbox.list()) == ["draft", "sent", "sent", "sent"]
        assert b"Subject: For " in outbox.blob(outbox.list("sent")[0])
        msgs = p.store.partitioned("messages").all()
        assert sorted(m["subject"] for m in msgs) == [f"Question {n}" for n in range(4)]
        assert all(p.store.blobs.get(m["blob"]).startswith(b"From: ") for m in msgs)
        assert p.settings.get("practice.name") == "Bright Smile Dental"
        assert p.settings.secret("account.password") == fakemail.user().password  # the folder's key still opens it
        assert sorted(m["subject"] for m in Inbox.for_practice(p).list(show_all=True)) == \
            [f"Question {n}" for n in range(4)]


def test_a_second_migrate_into_a_practice_refuses_in_one_line(
        data_dir: Path, fakemail: FakeMail, pg_url: str) -> None:
    seed(data_dir, fakemail)
    migrate.run(data_dir, pg_url)
    with pytest.raises(migrate.TargetNotEmpty) as exc:
        migrate.run(data_dir, pg_url)
    assert "\n" not in exc.value.message and "already holds a practice" in exc.value.message


def test_a_failure_midway_leaves_the_database_empty_and_the_folder_untouched(
        data_dir: Path, fakemail: FakeMail, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last stored file is damaged on disk; the ones before it were already sent to the
    database inside the copy's transaction (one file per round trip here), and are gone again."""
    seed(data_dir, fakemail)
    index = (data_dir / "blobs" / "packs" / "index").read_text().splitlines()
    sha, pack, offset, _length = index[-1].split()
    pack_file = data_dir / "blobs" / "packs" / f"{int(pack):06d}.pack"
    damaged = bytearray(pack_file.read_bytes())
    damaged[int(offset)] ^= 0xFF
    pack_file.write_bytes(bytes(damaged))
    before = tree(data_dir)
    monkeypatch.setattr(migrate, "BLOB_BATCH_BYTES", 1)
    with pytest.raises(StoreCorrupt) as exc:
        migrate.run(data_dir, pg_url)
    assert sha[:12] in exc.value.message
    assert tree(data_dir) == before
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT count(*) FROM blobs").fetchone() == (0,)
        for (name,) in c.execute("SELECT name FROM collections").fetchall():
            assert c.execute(f"SELECT count(*) FROM c_{name}").fetchone() == (0,), name


KILL_MIGRATE = """
import sys
from pathlib import Path
from engine.service.migrate import run
run(Path(sys.argv[1]), sys.argv[2])
print("finished", flush=True)
"""


def test_a_kill_mid_migrate_leaves_the_database_empty_and_a_second_run_completes(data_dir: Path, pg_url: str) -> None:
    """SIGKILL while the copy's transaction is open and has written stored files: nothing of it
    was committed."""
    import signal
    import subprocess
    import sys
    import time

    with Store.open(data_dir, writer=True) as s:
        raws = [f"From: p{i}@example.com\r\nSubject: {i}\r\n\r\n{'x' * 2000}\r\n".encode() for i in range(20000)]
        shas = s.blobs.put_many(raws)
        s.partitioned("messages").insert_many(({"subject": str(i), "blob": sha} for i, sha in enumerate(shas)),
                                              owned=True)
    before = tree(data_dir)
    proc = subprocess.Popen([sys.executable, "-c", KILL_MIGRATE, str(data_dir), pg_url], stdout=subprocess.PIPE)
    try:
        with psycopg.connect(pg_url, autocommit=True) as watch:
            deadline = time.monotonic() + 60
            while not watch.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                                    "'practicemail migrate%%' AND backend_xid IS NOT NULL "
                                    "AND query LIKE 'INSERT INTO blobs%%'").fetchone()[0]:
                assert proc.poll() is None, "migrate ended before it was caught writing"
                if time.monotonic() > deadline:
                    pytest.fail("migrate was never seen writing its copy within a minute")
                time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert tree(data_dir) == before
    with psycopg.connect(pg_url) as c:  # the tables may be part of what was rolled back
        for table in ("blobs", "c_messages"):
            if c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None:
                assert c.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    deadline = time.monotonic() + 30
    while True:  # the server ends the dead client's session (and its lock) on its own
        try:
            report = migrate.run(data_dir, pg_url)
            break
        except StoreLocked:
            if time.monotonic() > deadline:
                pytest.fail("the killed migrate's lock was never freed by the server")
            time.sleep(0.05)
    assert (report.records, report.blobs) == (20000, 20000)


def test_a_practice_of_a_hundred_thousand_messages_moves_up_whole(data_dir: Path, pg_url: str) -> None:
    """Issue 21's size: 100,000 received messages with their raw bytes. Every record arrives with
    its id, every stored file with its SHA-256 (read back and hashed here, not taken from the
    copy's own report), and the practice on the database counts them as the folder did."""
    n = 100_000
    with Store.open(data_dir, writer=True) as s:
        raws = [f"From: p{i}@example.com\r\nSubject: {i}\r\n\r\nbody {i}\r\n".encode() for i in range(n)]
        shas = s.blobs.put_many(raws)
        s.partitioned("messages").insert_many(
            ({"subject": str(i), "blob": sha, "read": i % 3 == 0, "tags": ["SMS"] if i % 1000 == 0 else []}
             for i, sha in enumerate(shas)), owned=True)
        del raws
    before = tree(data_dir)
    report = migrate.run(data_dir, pg_url)
    assert (report.records, report.blobs) == (n, n)
    assert tree(data_dir) == before
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT count(*), min(rid), max(rid) FROM c_messages").fetchone() == (n, 1, n)
        wrong = 0
        with c.cursor(name="blobs") as cur:  # streamed: 100,000 rows
            cur.execute("SELECT sha, data FROM blobs")
            for sha, data in cur:
                wrong += hashlib.sha256(bytes(data)).hexdigest() != sha
        assert wrong == 0
        assert c.execute("SELECT count(*) FROM blobs").fetchone() == (len(set(shas)),)
    with Practice(data_dir, writer=False, database=pg_url) as p:
        messages = p.store.partitioned("messages")
        assert messages.get(n)["subject"] == str(n - 1)
        assert Inbox.for_practice(p).unread() == n - len(range(0, n, 3))
