"""`reminders rules` (and later `recalls`, `sms`) as a support engineer runs them: real processes."""

from __future__ import annotations

import json
from pathlib import Path

from engine.service.demo import load_demo
from engine.service.practice import Practice
from tests.unit.test_cli import pm


def demo(tmp_path: Path) -> Path:
    data = tmp_path / "d"
    with Practice(data, writer=True, command="test") as p:
        load_demo(p)
    return data


def test_reminder_rules_add_list_delete(tmp_path: Path) -> None:
    data = demo(tmp_path)
    out = pm("reminders", "rules", "add", "--channel", "sms", "--days", "2", "--at", "10:00", "--template",
             "APPTREM", "--json", data=data)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["describe"] == "SMS 2 days before at 10:00"
    bad = pm("reminders", "rules", "add", "--channel", "email", "--days", "7", "--at", "10:00\u2028",
             "--template", "APPTREM", data=data)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "at" in bad.stderr
    listed = json.loads(pm("reminders", "rules", "list", "--json", data=data).stdout)
    assert [r["id"] for r in listed] == ["R1"]
    assert pm("reminders", "rules", "delete", "R1", data=data).returncode == 0
    assert json.loads(pm("reminders", "rules", "list", "--json", data=data).stdout) == []
