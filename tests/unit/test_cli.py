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


def pm_stdin(*args: str, data: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data)], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_password_shown_as_stars(tmp_path: Path) -> None:
    data = tmp_path / "d"
    set_out = pm_stdin("config", "set", "account.password", "-", data=data, stdin="hunter2-long\n")
    assert set_out.returncode == 0, set_out.stderr
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


def test_patients_add_carries_the_mobile_and_the_preference(tmp_path: Path) -> None:
    """Issue 18: a patient's mobile (normalised to E.164) and how automatic messages reach them."""
    data = tmp_path / "d"
    out = pm("patients", "add", "--id", "P2", "--first-name", "Ana", "--last-name", "Silva", "--mobile",
             "07700 900123", "--preference", "sms", "--json", data=data)
    assert out.returncode == 0, out.stderr
    (listed,) = json.loads(pm("patients", "list", "--json", data=data).stdout)
    assert (listed["mobile"], listed["preference"]) == ("+447700900123", "sms")
    bad = pm("patients", "add", "--id", "P3", "--first-name", "Bo", "--last-name", "Ng", "--preference", "fax",
             data=data)
    assert bad.returncode == 2 and "fax" in bad.stderr


def test_usage_errors_exit_non_zero(tmp_path: Path) -> None:
    out = pm("config", "set", "only-key", data=tmp_path / "d")
    assert out.returncode == 2


def test_password_from_standard_input_never_on_argv(tmp_path: Path) -> None:
    """Issue #13 finding 7: `config set account.password -` reads one line from stdin."""
    from engine.service.practice import Practice

    data = tmp_path / "d"
    secret = "correct horse battery staple \u00e9"  # spaces and non-ASCII survive; only the newline goes
    out = pm_stdin("config", "set", "account.password", "-", data=data, stdin=secret + "\r\n")
    assert out.returncode == 0, out.stderr
    assert isinstance(out.args, list) and all(secret not in a for a in out.args)
    assert secret not in out.stdout + out.stderr
    with Practice(data, writer=False) as p:
        assert p.settings.secret("account.password") == secret


def test_password_on_argv_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert pm_stdin("config", "set", "account.password", "-", data=data, stdin="first-one\n").returncode == 0
    out = pm("config", "set", "account.password", "hunter2", data=data)
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "config set account.password -`" in lines[0], out.stderr
    assert "hunter2" not in out.stderr
    from engine.service.practice import Practice

    with Practice(data, writer=False) as p:
        assert p.settings.secret("account.password") == "first-one"


def test_password_from_empty_standard_input_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "d"
    out = pm_stdin("config", "set", "account.password", "-", data=data, stdin="")
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_password_at_a_terminal_prompt_is_not_echoed(tmp_path: Path) -> None:
    """At a terminal, `-` asks with a prompt that does not echo what is typed."""
    import os
    import pty
    import select

    from engine.service.practice import Practice

    data = tmp_path / "d"
    secret = "typed-at-the-desk"
    pid, master = pty.fork()
    if pid == 0:  # the child: a session leader with the pty as its controlling terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "engine", "config", "set", "account.password", "-",
                                  "--data", str(data)])
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        while marker not in seen:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, f"no {marker!r} from the command; so far {seen!r}"
            try:
                chunk = os.read(master, 1024)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            seen += chunk

    read_until(b"(not shown): ")
    os.write(master, secret.encode() + b"\n")
    read_until(b"account.password = ***")
    _, status = os.waitpid(pid, 0)
    os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert secret.encode() not in seen
    with Practice(data, writer=False) as p:
        assert p.settings.secret("account.password") == secret


def test_an_empty_password_on_argv_clears_it(tmp_path: Path) -> None:
    from engine.service.practice import Practice

    data = tmp_path / "d"
    assert pm_stdin("config", "set", "account.password", "-", data=data, stdin="first-one\n").returncode == 0
    assert pm("config", "set", "account.password", "", data=data).returncode == 0
    with Practice(data, writer=False) as p:
        assert p.settings.secret("account.password") == ""


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
