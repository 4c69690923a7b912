"""`practicemail demo --screenshot` as a user runs it: a real process, the window offscreen, the
fake servers, the first Send/Receive; it writes the PNG and leaves no folder behind (#19 item 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_demo_screenshot_writes_the_picture_and_cleans_up_its_folder(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    shot = tmp_path / "outbox.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(scratch)}
    out = subprocess.run([sys.executable, "-m", "engine", "demo", "--screenshot", str(shot), "--view", "outbox"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert not [p for p in scratch.iterdir() if p.name.startswith("practicemail-demo-")]
