"""`practicemail users` and `groups` (#19), run as a support engineer would: real processes; the
PIN from standard input, never from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_cli import pm, pm_stdin


def test_users_add_list_pin_remove_with_the_pin_on_stdin(tmp_path: Path) -> None:
    data = tmp_path / "d"
    added = pm_stdin("users", "add", "Ann Lee", "--group", "dentist", "--json", data=data, stdin="4821\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"name": "Ann Lee", "group": "dentist"}
    listed = json.loads(pm("users", "list", "--json", data=data).stdout)
    assert {"name": "Ann Lee", "group": "dentist", "has_pin": True} in listed
    assert {"name": "super user", "group": "super user", "has_pin": False} in listed  # a fresh install's
    assert "4821" not in "".join(p.read_text("utf-8", "replace") for p in data.rglob("*.json"))
    assert pm_stdin("users", "pin", "ann lee", data=data, stdin="9753\r\n").returncode == 0
    text = pm("users", "list", data=data).stdout
    assert "Ann Lee" in text and "no PIN yet" in text
    assert pm("users", "remove", "Ann Lee", data=data).returncode == 0
    assert "Ann Lee" not in pm("users", "list", data=data).stdout


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert pm_stdin("users", "add", "Ann", "--group", "dentist", data=data, stdin="1234\n").returncode == 0
    before = pm("users", "list", "--json", data=data).stdout
    for args, stdin, words in ((("users", "add", "Bob", "--group", "dentist"), "", "no PIN"),
                               (("users", "add", "Bob", "--group", "dentist"), "12\n", "4 to 12 digits"),
                               (("users", "add", "Bob", "--group", "dentist"), "١٢٣٤\n", "4 to 12 digits"),
                               (("users", "add", "Bob", "--group", "janitors"), "1234\n", "no group"),
                               (("users", "add", "Bob\u2028Boss", "--group", "dentist"), "1234\n", "hidden"),
                               (("users", "add", "ann", "--group", "dentist"), "1234\n", "already"),
                               (("users", "remove", "super user"), "", "last super user"),
                               (("users", "remove", "Nobody"), "", "no user")):
        out = pm_stdin(*args, data=data, stdin=stdin)
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
