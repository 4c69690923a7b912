"""The writer's lock: a second writer is refused with the holder named; SIGKILL frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.adapters.store import Store
from engine.errors import StoreLocked

HOLD = """
import sys, time
from pathlib import Path
from engine.adapters.store import Store
s = Store.open(Path(sys.argv[1]), writer=True, command="practicemail serve")
print("locked", flush=True)
time.sleep(120)
"""


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_is_told_who_holds_the_folder_and_sigkill_frees_it(data_dir: Path) -> None:
    proc = _holder(data_dir)
    try:
        with pytest.raises(StoreLocked) as exc:
            Store.open(data_dir, writer=True)
        assert f"process {proc.pid}" in exc.value.message
        assert "practicemail serve" in exc.value.message
        # readers keep working beside the writer
        Store.open(data_dir, writer=False).close()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with Store.open(data_dir, writer=True) as s:
        s.collection("x").insert({"ok": True})


@pytest.mark.tinydb_only(reason="the data folder's writer.lock (PostgreSQL's advisory lock: test_pg_store.py)")
def test_cli_second_writer_prints_one_clear_line(data_dir: Path) -> None:
    proc = _holder(data_dir)
    try:
        out = subprocess.run([sys.executable, "-m", "engine", "config", "set", "practice.name", "X",
                              "--data", str(data_dir)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 1
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and f"process {proc.pid}" in lines[0]
        shown = subprocess.run([sys.executable, "-m", "engine", "config", "show", "--json", "--data", str(data_dir)],
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.tinydb_only(reason="deletes the data folder's writer.lock")
def test_deleting_the_lock_file_under_a_running_writer_lets_no_second_writer_in(data_dir: Path) -> None:
    """Issue #13 finding 8: `rm writer.lock` while a writer runs must not open the door."""
    proc = _holder(data_dir)
    try:
        (data_dir / "writer.lock").unlink()
        out = subprocess.run([sys.executable, "-m", "engine", "config", "set", "practice.name", "X",
                              "--data", str(data_dir)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stdout
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by" in lines[0], out.stderr
        with pytest.raises(StoreLocked):
            Store.open(data_dir, writer=True)
    finally:
        proc.kill()
        proc.wait()
    with Store.open(data_dir, writer=True) as s:  # the holder gone, the folder is free again
        s.collection("x").insert({"ok": True})
