"""The contract's command line, run as a support engineer would: real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def pm(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_config_show_on_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "never-made"
    out = pm("config", "show", "--json", data=empty)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["practice.timezone"] == "Europe/London" and doc["outgoing.port"] == 587
    assert out.stdout.count("\n") == 1
    assert not empty.exists()  # a reader never creates or writes


def test_config_set_bad_value_names_the_key_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert pm("config", "set", "pacing.per_minute", "30", data=data).returncode == 0
    bad = pm("config", "set", "pacing.per_minute", "lots", data=data)
    assert bad.returncode == 1 and "pacing.per_minute" in bad.stderr and bad.stdout == ""
    assert json.loads(pm("config", "show", "--json", data=data).stdout)["pacing.per_minute"] == 30


def test_password_shown_as_stars(tmp_path: Path) -> None:
    data = tmp_path / "d"
    set_out = pm("config", "set", "account.password", "hunter2-long", data=data)
    assert "hunter2" not in set_out.stdout + set_out.stderr
    shown = pm("config", "show", data=data)
    assert "***" in shown.stdout and "hunter2" not in shown.stdout


def test_config_check_json_and_exit_code(tmp_path: Path) -> None:
    out = pm("config", "check", "--json", data=tmp_path / "d")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["ok"] is False and any(p["key"] == "outgoing.host" for p in doc["problems"])


def test_patients_add_and_list(tmp_path: Path) -> None:
    data = tmp_path / "d"
    out = pm("patients", "add", "--id", "P1", "--first-name", "Zoë", "--last-name", "D'Arcy", "--email",
             "Zoe@Example.com", "--json", data=data)
    assert json.loads(out.stdout)["id"] == "P1"
    listed = json.loads(pm("patients", "list", "--json", data=data).stdout)
    assert listed[0]["last_name"] == "D'Arcy" and listed[0]["email"] == "zoe@example.com"


def test_usage_errors_exit_non_zero(tmp_path: Path) -> None:
    out = pm("config", "set", "only-key", data=tmp_path / "d")
    assert out.returncode == 2


def test_names_in_listings_show_their_bidi_controls(tmp_path: Path) -> None:
    """A name with a right-to-left override is listed with the override written out, not obeyed
    (issue 13, finding 4); --json keeps the stored value exactly."""
    data = tmp_path / "d"
    added = pm("patients", "add", "--id", "PX1", "--first-name", "Bo", "--last-name", "Ng\u202efdp.exe", data=data)
    assert added.returncode == 0, added.stderr
    listed = pm("patients", "list", data=data)
    assert "Bo Ng\\u202efdp.exe" in listed.stdout and "\u202e" not in listed.stdout
    doc = json.loads(pm("patients", "list", "--json", data=data).stdout)
    assert doc[0]["last_name"] == "Ng\u202efdp.exe"
