"""Issue #13 finding 9, the full disk: every writing command says so in one line, tears
nothing, prints no "--- Logging error ---", and the next run after space is freed works.

The data folder lives on a small tmpfs mounted for the test (root only; skipped with
the reason otherwise), filled to the last byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from engine.service.demo import load_demo
from engine.service.practice import Practice
from tests.conftest import ROOT


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write until the disk refuses a single byte more."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)
    with pytest.raises(OSError) as exc, open(disk / "one-more", "wb", buffering=0) as g:
        g.write(b"x" * 4096)
    assert exc.value.errno == errno.ENOSPC
    return filler


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "logs" not in p.parts and p.name != "writer.lock"}


def pm(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def writing_commands(tmp_path: Path, disk: Path) -> list[tuple[str, ...]]:
    """Every writing command, once each, on the demo practice."""
    body = tmp_path / "body.txt"
    body.write_text("See you on Tuesday.\n", "utf-8")
    template = tmp_path / "t.toml"
    template.write_text('code = "FULL"\nsubject = "Hello"\nbody = "Dear {{ patient.first_name }}"\n', "utf-8")
    providers = tmp_path / "providers.csv"
    providers.write_text("id,title,first_name,last_name,email\nDR9,Dr,Nia,Newman,nia@brightsmile.example\n", "utf-8")
    return [
        ("config", "set", "practice.name", "A bigger practice name than before, to need a new block"),
        ("outbox", "add", "--to", "pat@example.com", "--subject", "Hello", "--body-file", str(body)),
        ("patients", "add", "--id", "P900", "--first-name", "Ada", "--last-name", "Full"),
        ("templates", "add", str(template)),
        ("import", "providers", str(providers)),
        ("appointments", "book", "--patient", "P001", "--start", "2030-01-07T09:00", "--minutes", "30"),
        ("compose", "--patient", "P001", "--template", "RECALL"),
        ("export-diagnostics", "-o", str(disk / "diag.zip")),
    ]


@pytest.mark.tinydb_only(reason="fills the disk under the data folder; on PostgreSQL the records are on the "
                                "server's disk")
def test_every_writing_command_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    data = small_disk / "data"
    with Practice(data, writer=True, command="test") as p:
        load_demo(p)
    commands = writing_commands(tmp_path, small_disk)
    before = snapshot(data)
    for log in (data / "logs").glob("*"):  # a fresh log file needs a fresh page: its first line cannot land
        log.unlink()
    filler = fill(small_disk)
    for cmd in commands:
        out = pm(*cmd, data=data)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 1, (cmd, out.stdout, out.stderr)
        assert len(lines) == 1 and "the disk is full" in lines[0], (cmd, out.stderr)
        assert "Logging error" not in out.stderr and "Traceback" not in out.stderr
    assert snapshot(data) == before  # nothing torn, nothing half-added
    assert not list(data.rglob("*.tmp-*"))
    filler.unlink()
    for cmd in commands:
        out = pm(*cmd, data=data)
        assert out.returncode == 0, (cmd, out.stderr)
    shown = pm("config", "show", "--json", data=data)
    assert "A bigger practice name" in shown.stdout
    shutil.rmtree(data)


def database_rows(url: str) -> dict[str, tuple[int, str]]:
    """Each table of the practice's schema: its row count and a hash of its rows."""
    with psycopg.connect(url) as db:
        tables = [t for (t,) in db.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = current_schema() ORDER BY table_name")]
        return {t: db.execute(sql.SQL("SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), "
                                      "'')) FROM {} r").format(sql.Identifier(t))).fetchone() for t in tables}


def test_a_full_disk_under_a_postgresql_practice_never_says_failed_of_what_it_stored(
        small_disk: Path, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: the records are on the server, the data folder (keys, logs) on the full disk.
    `patients add` and `outbox add` committed, then failed closing the log and said "the disk is
    full", exit 1: a retry queued the email a second time. Each command now either is refused
    with nothing stored, or is done and says so, with one more line about the log."""
    monkeypatch.setenv("PRACTICEMAIL_DATABASE", pg_url)  # the commands' database, as a desk has it
    data = small_disk / "data"
    with Practice(data, writer=True, command="test", database=pg_url) as p:
        load_demo(p)
    commands = writing_commands(tmp_path, small_disk)
    for log in (data / "logs").glob("*"):
        log.unlink()
    filler = fill(small_disk)
    done = []
    for cmd in commands:
        before = database_rows(pg_url)
        out = pm(*cmd, data=data)
        lines = out.stderr.strip().splitlines()
        assert "Logging error" not in out.stderr and "Traceback" not in out.stderr, (cmd, out.stderr)
        assert len(lines) == 1, (cmd, out.stderr)
        if out.returncode == 1:  # refused: nothing stored
            assert "the disk is full" in lines[0], (cmd, out.stderr)
            assert database_rows(pg_url) == before, cmd
        else:  # done, and said so
            assert out.returncode == 0, (cmd, out.stdout, out.stderr)
            assert out.stdout.strip(), cmd
            assert lines[0].startswith("practicemail: done, but the log could not be written (the disk is full)")
            assert database_rows(pg_url) != before, cmd
            done.append(cmd[:2])
    assert ("outbox", "add") in done and ("patients", "add") in done  # the two the issue found
    assert not (small_disk / "diag.zip").exists()
    filler.unlink()
    queued = pm("outbox", "list", "--json", data=data)
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.count("pat@example.com") == 1  # once: nobody was told to add it again
