"""A super user's recovery code (engine/service/recovery.py), run as the practice manager would:
real processes, the code and the PINs on standard input, never on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine.service.recovery import ALPHABET
from tests.unit.test_cli import pm, pm_stdin
from tests.unit.test_cli_users import _pin_is

CODE = re.compile(rf"[{ALPHABET}]{{5}}(-[{ALPHABET}]{{5}}){{3}}")


def _first_boss(data: Path) -> str:
    out = pm_stdin("users", "add", "Boss", "--group", "super user", "--json", data=data, stdin="1111\n")
    assert out.returncode == 0, out.stderr
    code = json.loads(out.stdout)["recovery_code"]
    assert CODE.fullmatch(code), code
    return code


def _refused(out, words: str) -> None:  # noqa: ANN001 - a CompletedProcess
    assert out.returncode == 1 and words in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
    assert not out.stdout


def test_a_forgotten_pin_is_recovered_with_the_code_once(tmp_path: Path) -> None:
    data = tmp_path / "d"
    code = _first_boss(data)
    text = pm_stdin("users", "add", "Kay", "--group", "super user", "--user", "Boss", data=data, stdin="1111\n2222\n")
    assert text.returncode == 0 and "shown only this once" in text.stdout and CODE.search(text.stdout)
    out = pm_stdin("users", "recover", "boss", "--json", data=data, stdin=f"{code.lower()}\n4444\n")  # as typed
    assert out.returncode == 0, out.stderr
    fresh = json.loads(out.stdout)["recovery_code"]
    assert CODE.fullmatch(fresh) and fresh != code
    assert _pin_is(data, "Boss", "4444") and not _pin_is(data, "Boss", "1111")
    before = pm("users", "list", "--json", data=data).stdout
    _refused(pm_stdin("users", "recover", "Boss", data=data, stdin=f"{code}\n5555\n"), "do not match")  # used up
    assert _pin_is(data, "Boss", "4444") and pm("users", "list", "--json", data=data).stdout == before
    again = pm_stdin("users", "recover", "Boss", data=data, stdin=f"{fresh.replace('-', ' ')}\n6666\n")
    assert again.returncode == 0 and "the old recovery code no longer works" in again.stdout, again.stderr
    assert _pin_is(data, "Boss", "6666")
    assert pm("users", "recover", "Boss", fresh, data=data).returncode == 2  # never on the command line


def test_a_wrong_code_is_refused_counted_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    code = _first_boss(data)
    users = data / "db"
    stored = {p: p.read_bytes() for p in users.rglob("*") if p.is_file() and "pin_tries" not in p.name}
    for n in range(5):
        out = pm_stdin("users", "recover", "Boss", data=data, stdin="ABCDE-FGHJK-MNPQR-STUVW\n4444\n")
        _refused(out, "Too many wrong PINs" if n == 4 else "that name and recovery code do not match")
    assert json.loads(pm("users", "list", "--json", data=data).stdout)[-1]["locked_until"]  # counted, locked
    _refused(pm_stdin("users", "recover", "Boss", data=data, stdin=f"{code}\n4444\n"), "Too many wrong PINs")
    assert _pin_is(data, "Boss", "1111")
    after = {p: p.read_bytes() for p in users.rglob("*") if p.is_file() and "pin_tries" not in p.name}
    assert after == stored  # only the count of wrong tries was written
    _refused(pm_stdin("users", "recover", "Boss", data=data, stdin=""), "no recovery code")
    _refused(pm_stdin("users", "recover", "Nobody", data=data, stdin=f"{code}\n4444\n"), "do not match")


def test_a_new_code_needs_the_super_users_own_pin(tmp_path: Path) -> None:
    data = tmp_path / "d"
    old = _first_boss(data)
    _refused(pm_stdin("users", "recovery-code", "Boss", data=data, stdin="9999\n"), "do not match")
    assert pm_stdin("users", "add", "Ann", "--group", "dentist", "--user", "Boss", data=data,
                    stdin="1111\n4821\n").returncode == 0
    _refused(pm_stdin("users", "recovery-code", "Ann", data=data, stdin="4821\n"), "cannot have a recovery code")
    out = pm_stdin("users", "recovery-code", "Boss", data=data, stdin="1111\n")
    assert out.returncode == 0 and "shown only this once" in out.stdout, out.stderr
    new = CODE.search(out.stdout)
    assert new and new.group(0) != old
    _refused(pm_stdin("users", "recover", "Boss", data=data, stdin=f"{old}\n4444\n"), "do not match")  # replaced
    assert pm_stdin("users", "recover", "Boss", data=data, stdin=f"{new.group(0)}\n4444\n").returncode == 0


def test_the_codes_are_never_in_the_data_folder_or_the_log_in_clear(tmp_path: Path) -> None:
    """Every code shown (first, asked for, after each recovery), in any way it could be written
    (with or without its dashes, either case), searched for in every file of the data folder,
    the log included."""
    data = tmp_path / "d"
    codes = [_first_boss(data)]
    pin = "1111"
    for n in range(3):
        out = pm_stdin("users", "recovery-code", "Boss", "--json", data=data, stdin=f"{pin}\n")
        codes.append(json.loads(out.stdout)["recovery_code"])
        pin = f"{n}{n}{n}{n}5"
        out = pm_stdin("users", "recover", "Boss", "--json", data=data, stdin=f"{codes[-1]}\n{pin}\n")
        assert out.returncode == 0, out.stderr
        codes.append(json.loads(out.stdout)["recovery_code"])
    assert len(set(codes)) == len(codes) == 7
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any("log" in str(p) for p in files)  # the log is searched too
    blob = b"\n".join(p.read_bytes() for p in files).decode("utf-8", "replace")
    assert "recovery code" in blob  # logged that it happened
    for code in codes:
        for form in (code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()):
            assert form not in blob, form


def test_a_super_user_without_a_pin_chooses_one_first_and_is_no_way_in_once_one_has(tmp_path: Path) -> None:
    data = tmp_path / "d"
    _refused(pm_stdin("users", "add", "Eve", "--group", "super user", "--user", "super user", data=data,
                      stdin="1234\n"), "super user has no PIN yet")
    assert "Eve" not in pm("users", "list", data=data).stdout
    _first_boss(data)
    _refused(pm_stdin("users", "pin", "super user", data=data, stdin="1234\n"), "no PIN yet")  # not claimed by anyone
    _refused(pm_stdin("users", "add", "Eve", "--group", "super user", "--user", "super user", data=data,
                      stdin="1234\n"), "no PIN yet")
    listed = {u["name"]: u for u in json.loads(pm("users", "list", "--json", data=data).stdout)}
    assert not listed["super user"]["has_pin"] and "Eve" not in listed
