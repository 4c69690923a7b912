"""`practicemail service install|status|uninstall` as an IT person runs them: a real process, a
real unit file, read back by systemd's own `systemd-analyze verify`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HOSTILE = ["plain", "with space", "100% full", "$HOME and ${X}", "quote\"d", "back\\slash", "ünïcødé ✓", "semi;colon"]


def pm(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={**os.environ, "HOME": str(home), **(env or {})})


def unit_of(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / "practicemail.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
@pytest.mark.parametrize("name", HOSTILE)
def test_the_unit_for_any_folder_name_passes_systemds_own_check(tmp_path: Path, name: str) -> None:
    data = tmp_path / name
    out = pm("--data", str(data), "service", "install", "--no-start", "--json", home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["unit_file"] == str(unit_of(tmp_path / "home"))
    unit = unit_of(tmp_path / "home")
    assert unit.stat().st_mode & 0o077 == 0
    check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and check.stderr.strip() == "", check.stderr


def test_a_database_address_goes_to_a_private_file_never_the_unit(tmp_path: Path) -> None:
    url = "postgresql://practice:s3cret-pw@db.local/practice"
    out = pm("--data", str(tmp_path / "d"), "service", "install", "--no-start", home=tmp_path / "home",
             env={"PRACTICEMAIL_DATABASE": url})
    assert out.returncode == 0, out.stderr
    unit = unit_of(tmp_path / "home").read_text()
    assert "s3cret" not in unit and f"EnvironmentFile={tmp_path / 'd' / 'service.env'}" in unit
    env_file = tmp_path / "d" / "service.env"
    assert env_file.stat().st_mode & 0o077 == 0 and "s3cret-pw" in env_file.read_text()


def test_where_no_service_manager_runs_the_file_stays_and_the_line_says_what_to_run(tmp_path: Path) -> None:
    running = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True, timeout=30) \
        if shutil.which("systemctl") else None
    if running is not None and running.stdout.strip() in ("running", "degraded"):
        pytest.skip("a user service manager runs here: installing would start a real service")
    home = tmp_path / "home"
    out = pm("--data", str(tmp_path / "d"), "service", "install", home=home)
    assert out.returncode == 1
    assert "systemctl --user enable --now practicemail.service" in out.stderr and unit_of(home).exists()
    status = pm("service", "status", home=home)
    assert status.returncode == 1 and str(unit_of(home)) in status.stdout
    gone = pm("service", "uninstall", home=home)
    assert not unit_of(home).exists(), gone.stderr
    after = pm("service", "status", home=home)
    assert after.returncode == 1 and "not installed" in after.stdout and "practicemail service install" in after.stderr
