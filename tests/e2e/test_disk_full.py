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

import pytest

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


@pytest.mark.tinydb_only(reason="fills the disk under the data folder; on PostgreSQL the records are on the "
                                "server's disk")
def test_every_writing_command_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    data = small_disk / "data"
    with Practice(data, writer=True, command="test") as p:
        load_demo(p)
    body = tmp_path / "body.txt"
    body.write_text("See you on Tuesday.\n", "utf-8")
    template = tmp_path / "t.toml"
    template.write_text('code = "FULL"\nsubject = "Hello"\nbody = "Dear {{ patient.first_name }}"\n', "utf-8")
    providers = tmp_path / "providers.csv"
    providers.write_text("id,title,first_name,last_name,email\nDR9,Dr,Nia,Newman,nia@brightsmile.example\n", "utf-8")
    commands = [
        ("config", "set", "practice.name", "A bigger practice name than before, to need a new block"),
        ("outbox", "add", "--to", "pat@example.com", "--subject", "Hello", "--body-file", str(body)),
        ("patients", "add", "--id", "P900", "--first-name", "Ada", "--last-name", "Full"),
        ("templates", "add", str(template)),
        ("import", "providers", str(providers)),
        ("appointments", "book", "--patient", "P001", "--start", "2030-01-07T09:00", "--minutes", "30"),
        ("compose", "--patient", "P001", "--template", "RECALL"),
        ("export-diagnostics", "-o", str(small_disk / "diag.zip")),
    ]
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
