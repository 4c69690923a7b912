"""Issue #13 finding 6: the data folder holds patient mail, so nobody but its owner may read it.

Every file in it is 0600 and every folder 0700, created so whatever umask the
process started with; `config check` names anything looser and `--fix` tightens it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.conftest import ROOT
from tests.integration.helpers import configure_incoming, draft
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual desktop umask (022: everything world-readable) while the practice is made."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(folder: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(folder.lstat().st_mode)}
    for path in folder.rglob("*"):
        out[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def wrong_modes(folder: Path) -> dict[str, str]:
    wrong = {}
    for name, mode in modes(folder).items():
        path = folder / name
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong[name] = oct(mode)
    return wrong


def pm(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_everything_in_the_data_folder_is_private_after_sending_and_receiving(
        loose_umask: None, practice: Practice, fakemail: FakeMail, data_dir: Path) -> None:
    configure_incoming(practice, fakemail, "imap")
    engine = Engine(practice, FakeClock(T0))
    try:
        engine.outbox.add_draft(draft(subject="Your check-up"), T0)
        fakemail.deliver("practice", b"From: pat@example.com\r\nTo: practice@example.test\r\nSubject: Hi\r\n"
                                     b"Message-ID: <m1@p.example>\r\n\r\nHello\r\n")
        report = engine.send_receive_now()
        assert (report["sent"], report["received"]) == (1, 1), report
    finally:
        engine.stop()
    found = modes(data_dir)
    assert any(n.startswith("logs") for n in found)
    assert practice.database or any(n.startswith("blobs") for n in found)  # on PostgreSQL: in the database
    assert wrong_modes(data_dir) == {}


@pytest.mark.tinydb_only(reason="loosens TinyDB's settings.json")
def test_a_loosened_file_is_reported_and_fixed(data_dir: Path) -> None:
    with Practice(data_dir, writer=True, command="test") as p:
        p.settings.set("practice.name", "Bright Smile Dental")
    settings_file = data_dir / "db" / "settings.json"
    settings_file.chmod(0o644)
    (data_dir / "db").chmod(0o755)
    out = pm("config", "check", "--json", data=data_dir)
    files = [pr for pr in json.loads(out.stdout)["problems"] if pr["key"] == "files"]
    assert len(files) == 2, out.stdout
    assert any("settings.json" in pr["message"] and "0644" in pr["message"] for pr in files)
    assert all("--fix" in pr["message"] for pr in files)
    fixed = pm("config", "check", "--fix", "--json", data=data_dir)
    doc = json.loads(fixed.stdout)
    assert sorted(doc["fixed"]) == sorted([str(Path("db")), str(Path("db") / "settings.json")])
    assert not [pr for pr in doc["problems"] if pr["key"] == "files"]
    assert wrong_modes(data_dir) == {}
    assert json.loads(pm("config", "show", "--json", data=data_dir).stdout)["practice.name"] == "Bright Smile Dental"
