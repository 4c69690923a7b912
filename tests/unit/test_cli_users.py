"""`practicemail users` and `groups` (#19), run as a support engineer would: real processes; the
PIN from standard input, never from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.unit.test_cli import pm, pm_stdin


def test_users_add_list_pin_remove_with_the_pin_on_stdin(tmp_path: Path) -> None:
    data = tmp_path / "d"
    added = pm_stdin("users", "add", "Ann Lee", "--group", "dentist", "--json", data=data, stdin="4821\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"name": "Ann Lee", "group": "dentist"}
    listed = json.loads(pm("users", "list", "--json", data=data).stdout)
    assert {"name": "Ann Lee", "group": "dentist", "has_pin": True, "locked_until": None} in listed
    assert {"name": "super user", "group": "super user", "has_pin": False, "locked_until": None} in listed
    stored = "".join(p.read_text("utf-8", "replace") for p in data.rglob("*.json"))
    # the PIN standing alone: inside a salt's or hash's hex or base64 run it is chance (1 CI run in ~20)
    assert not re.search(r"(?<![0-9A-Za-z+/])4821(?![0-9A-Za-z+/])", stored)
    assert pm_stdin("users", "pin", "ann lee", data=data, stdin="4821\n9753\r\n").returncode == 0  # her own first
    text = pm("users", "list", data=data).stdout
    assert "Ann Lee" in text and "no PIN yet" in text
    assert pm_stdin("users", "pin", "super user", data=data, stdin="5555\n").returncode == 0  # before managing
    assert pm_stdin("users", "remove", "Ann Lee", "--user", "super user", data=data, stdin="5555\n").returncode == 0
    assert "Ann Lee" not in pm("users", "list", data=data).stdout


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert pm_stdin("users", "add", "Ann", "--group", "dentist", data=data, stdin="1234\n").returncode == 0
    assert pm_stdin("users", "pin", "super user", data=data, stdin="5555\n").returncode == 0
    before = pm("users", "list", "--json", data=data).stdout
    for args, stdin, words in ((("users", "add", "Bob", "--group", "dentist"), "", "no PIN"),
                               (("users", "add", "Bob", "--group", "dentist"), "12\n", "4 to 12 digits"),
                               (("users", "add", "Bob", "--group", "dentist"), "١٢٣٤\n", "4 to 12 digits"),
                               (("users", "add", "Bob", "--group", "janitors"), "1234\n", "no group"),
                               (("users", "add", "Bob\u2028Boss", "--group", "dentist"), "1234\n", "hidden"),
                               (("users", "add", "ann", "--group", "dentist"), "1234\n", "already"),
                               (("users", "remove", "super user"), "", "last super user"),
                               (("users", "remove", "Nobody"), "", "no user")):
        out = pm_stdin(*args, "--user", "super user", data=data, stdin="5555\n" + stdin)  # the super user's PIN first
        assert out.returncode == 1 and words in out.stderr and len(out.stderr.splitlines()) == 1, (args, out.stderr)
    assert pm("users", "list", "--json", data=data).stdout == before
    usage = pm("users", "add", "Bob", "--group", "dentist", "--pin", "1234", data=data)
    assert usage.returncode == 2 and "1234" not in pm("users", "list", data=data).stdout  # no PIN option at all


def test_groups_list(tmp_path: Path) -> None:
    out = pm("groups", "list", "--json", data=tmp_path / "d")
    assert out.returncode == 0, out.stderr
    groups = {g["name"]: g["permissions"] for g in json.loads(out.stdout)}
    assert list(groups) == ["reception", "dentist", "practice manager", "super user"]
    assert "view_html" in groups["super user"] and "view_html" not in groups["practice manager"]
    assert "manage_pins" in pm("groups", "list", data=tmp_path / "d").stdout


def test_a_user_locked_by_wrong_pins_is_listed_and_unlock_or_a_new_pin_lets_them_in(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from engine.adapters.clock import FakeClock
    from engine.service.practice import Practice
    from engine.service.roles import PinRefused, Roles

    data = tmp_path / "d"
    assert pm_stdin("users", "add", "Tess", "--group", "dentist", data=data, stdin="2580\n").returncode == 0
    assert pm_stdin("users", "pin", "super user", data=data, stdin="5555\n").returncode == 0
    assert pm_stdin("users", "add", "Ann", "--group", "dentist", "--user", "super user", data=data,
                    stdin="5555\n4821\n").returncode == 0
    tomorrow = FakeClock(datetime.now(timezone.utc) + timedelta(days=1))  # locked whenever the CLI looks

    def lock_out(name: str) -> None:
        with Practice(data, writer=True, command="test") as practice:
            roles = Roles(practice.store, now=tomorrow.now)
            for _ in range(5):
                try:
                    roles.sign_in(name, "0000")
                except PinRefused:
                    pass
            assert roles.locked_until(name) is not None

    lock_out("Tess")
    lock_out("Ann")
    listed = {u["name"]: u for u in json.loads(pm("users", "list", "--json", data=data).stdout)}
    assert listed["Tess"]["locked_until"] and listed["Ann"]["locked_until"] and not listed["super user"]["locked_until"]
    assert "locked after wrong PINs" in pm("users", "list", data=data).stdout
    unlocked = pm_stdin("users", "unlock", "tess", "--user", "super user", data=data, stdin="5555\n")
    assert unlocked.returncode == 0 and "may sign in again" in unlocked.stdout
    assert pm_stdin("users", "pin", "Ann", "--user", "super user", data=data,
                    stdin="5555\n7777\n").returncode == 0  # a new PIN forgets them
    listed = {u["name"]: u for u in json.loads(pm("users", "list", "--json", data=data).stdout)}
    assert listed["Tess"]["locked_until"] is None and listed["Ann"]["locked_until"] is None
    nobody = pm_stdin("users", "unlock", "Nobody", "--user", "super user", data=data, stdin="5555\n")
    assert nobody.returncode == 1 and "no user" in nobody.stderr and len(nobody.stderr.splitlines()) == 1


def _pin_is(data: Path, name: str, pin: str) -> bool:
    from engine.service.practice import Practice
    from engine.service.roles import Roles

    with Practice(data, writer=False, command="test") as practice:
        return Roles(practice.store).verify(name, pin)


def test_users_pin_add_remove_unlock_need_a_sign_in_once_anyone_has_a_pin(tmp_path: Path) -> None:
    """Anyone at the terminal may run `practicemail`: a new PIN needs the user's own current PIN or
    a super user's (--user NAME, the PIN read first, never from argv), and so do add, remove and
    unlock; refused in one line, exit 1, nothing changed. A fresh practice (nobody has a PIN) adds
    its first super user without signing in: there is nobody to sign in as."""
    data = tmp_path / "d"
    first = pm_stdin("users", "add", "Boss", "--group", "super user", data=data, stdin="1111\n")
    assert first.returncode == 0, first.stderr  # the first super user, on a fresh practice
    for args in (("users", "pin", "Boss"), ("users", "add", "Eve", "--group", "super user")):  # anyone at the terminal
        out = pm_stdin(*args, data=data, stdin="9999\n")
        assert out.returncode == 1 and len(out.stderr.splitlines()) == 1, (args, out.stderr)
    assert _pin_is(data, "Boss", "1111") and "Eve" not in pm("users", "list", data=data).stdout
    assert pm_stdin("users", "add", "Ann", "--group", "dentist", "--user", "Boss", data=data,
                    stdin="1111\n4821\n").returncode == 0
    before = pm("users", "list", "--json", data=data).stdout
    for args, stdin, words in (
            (("users", "pin", "Boss"), "9999\n", "name and PIN do not match"),  # someone at the terminal
            (("users", "pin", "Boss"), "", "no PIN"),
            (("users", "pin", "Boss", "--user", "Ann"), "4821\n9999\n", "Ann (dentist) may not"),
            (("users", "pin", "Ann", "--user", "Boss"), "2222\n9999\n", "name and PIN do not match"),
            (("users", "add", "Eve", "--group", "super user"), "9999\n", "only a super user"),
            (("users", "add", "Eve", "--group", "super user", "--user", "Ann"), "4821\n9999\n", "may not"),
            (("users", "remove", "Ann"), "", "only a super user"),
            (("users", "unlock", "Ann"), "", "only a super user"),
            (("users", "remove", "Boss", "--user", "Ann"), "4821\n", "may not")):
        out = pm_stdin(*args, data=data, stdin=stdin)
        assert out.returncode == 1 and words in out.stderr and len(out.stderr.splitlines()) == 1, (args, out.stderr)
        assert "9999" not in out.stdout + out.stderr
    assert pm("users", "list", "--json", data=data).stdout == before
    assert _pin_is(data, "Boss", "1111") and _pin_is(data, "Ann", "4821")
    own = pm_stdin("users", "pin", "Boss", data=data, stdin="1111\n3333\n")
    assert own.returncode == 0, own.stderr
    by_boss = pm_stdin("users", "pin", "Ann", "--user", "Boss", data=data, stdin="3333\n5555\n")
    assert by_boss.returncode == 0, by_boss.stderr
    assert _pin_is(data, "Boss", "3333") and _pin_is(data, "Ann", "5555")
    assert pm_stdin("users", "remove", "Ann", "--user", "Boss", data=data, stdin="3333\n").returncode == 0
    assert "Ann" not in pm("users", "list", data=data).stdout
