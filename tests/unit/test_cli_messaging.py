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
             "APPTSMS", "--json", data=data)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["describe"] == "SMS 2 days before at 10:00"
    bad = pm("reminders", "rules", "add", "--channel", "email", "--days", "7", "--at", "10:00\u2028",
             "--template", "APPTREM", data=data)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "at" in bad.stderr
    listed = json.loads(pm("reminders", "rules", "list", "--json", data=data).stdout)
    assert [r["id"] for r in listed] == ["R1"]
    deleted = pm("reminders", "rules", "delete", "R1", "--json", data=data)
    assert deleted.returncode == 0 and json.loads(deleted.stdout) == {"deleted": "R1"}
    gone = pm("reminders", "rules", "delete", "R1", data=data)
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1
    assert json.loads(pm("reminders", "rules", "list", "--json", data=data).stdout) == []


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def test_recalls_import_run_dry_run_changes_nothing_then_run(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    data = demo(tmp_path)
    out = pm("recalls", "import", str(ROOT / "fixtures" / "demo" / "recalls.csv"), "--json", data=data)
    assert out.returncode == 0, out.stderr
    before = snapshot(data)
    dry = pm("recalls", "run", "--due-before", "2026-12-31", "--dry-run", "--json", data=data)
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["dry_run"] and len(doc["messages"]) == 5 and doc["no_address"] == ["P041"]
    assert snapshot(data) == before  # not a byte changed (logs included)
    run = json.loads(pm("recalls", "run", "--due-before", "2026-12-31", "--json", data=data).stdout)
    assert run["queued"] == 5
    listed = json.loads(pm("recalls", "list", "--status", "sent", "--json", data=data).stdout)
    assert sorted(r["patient_id"] for r in listed) == ["P001", "P002", "P003", "P008", "P009", "P033", "P040"]
    bad = pm("recalls", "run", "--due-before", "31/12/2026", data=data)
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_sms_send_test_status_replies_through_the_fake(tmp_path: Path) -> None:
    from tools.fakemail import FakeMail

    data = demo(tmp_path)
    with FakeMail(seed=1) as fm:
        info = fm.info()["sms"]
        with Practice(data, writer=True, command="test") as p:
            p.settings.set_many({"sms.provider": "twilio", "sms.account": info["account_sid"],
                                 "sms.secret": info["auth_token"], "sms.sender": info["number"],
                                 "sms.api_url": info["base_url"], "sms.quiet_hours": ""})
        test = pm("sms", "test", "--json", data=data)
        assert test.returncode == 0, test.stderr
        assert json.loads(test.stdout)["balance"] == "10.00"
        sent = pm("sms", "send", "--patient", "P040", "--text", "Hello from the practice", "--json", data=data)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["parts"] == 1
        assert json.loads(pm("send-receive", "--json", data=data).stdout)["sent"] == 1
        status = json.loads(pm("sms", "status", "--poll", "--json", data=data).stdout)
        assert [(t["to"], t["delivery"]) for t in status["texts"]] == [("+447700900041", "delivered")]
        fm.sms.deliver_reply("+447700900041", "STOP")
        replies = json.loads(pm("sms", "replies", "--fetch", "--json", data=data).stdout)
        assert replies["opted_out"] == ["P040"] and replies["replies"][0]["patient_id"] == "P040"
        again = pm("sms", "send", "--patient", "P040", "--text", "Hello again", data=data)
        assert again.returncode == 1 and "opted out" in again.stderr and again.stderr.count("\n") == 1
        long = pm("sms", "send", "--patient", "P013", "--text", "😀" * 200, data=data)
        assert long.returncode == 1 and "messages" in long.stderr


def test_compose_names_a_templated_email(tmp_path: Path) -> None:
    """#20 item 5 from the command line: the category and description typed over the template's
    (with --signature too, which a templated email now honours)."""
    data = demo(tmp_path)
    out = pm("compose", "--patient", "P043", "--template", "RECALL", "--signature", "--category", "Dentures",
             "--description", "Dentures reminder 15 November", "--json", data=data)
    assert out.returncode == 0, out.stderr
    rid = json.loads(out.stdout)["id"]
    (item,) = [r for r in json.loads(pm("outbox", "list", "--json", data=data).stdout) if r["id"] == rid]
    assert (item["category"], item["description"]) == ("Dentures", "Dentures reminder 15 November")


def test_the_outbox_list_says_which_items_are_texts(tmp_path: Path) -> None:
    """Issue 18: one outbox for both, with its Type (the kiosk's column; here a column and a field)."""
    data = demo(tmp_path)
    with Practice(data, writer=True, command="test") as p:
        p.settings.set("sms.quiet_hours", "")
    text = json.loads(pm("sms", "send", "--patient", "P040", "--text", "Your crown is ready", "--json",
                         data=data).stdout)["id"]
    mail = json.loads(pm("outbox", "add", "--to", "pat@example.com", "--subject", "Hello", "--json",
                         data=data).stdout)["id"]
    rows = {r["id"]: r for r in json.loads(pm("outbox", "list", "--json", data=data).stdout)}
    assert (rows[text]["type"], rows[mail]["type"]) == ("sms", "email")
    shown = {line.split()[0]: line.split()[1] for line in pm("outbox", "list", data=data).stdout.splitlines()[1:]}
    assert (shown[str(text)], shown[str(mail)]) == ("SMS", "Email")


def test_sms_test_locks_the_practice_id_and_unlock_warns_first(tmp_path: Path) -> None:
    from tools.fakemail import FakeMail

    data = demo(tmp_path)
    with FakeMail(seed=1) as fm:
        info = fm.info()["sms"]
        with Practice(data, writer=True, command="test") as p:
            p.settings.set_many({"sms.provider": "twilio", "sms.account": info["account_sid"],
                                 "sms.secret": info["auth_token"], "sms.sender": info["number"],
                                 "sms.api_url": info["base_url"]})
        test = pm("sms", "test", "--json", data=data)
        assert test.returncode == 0, test.stderr
        assert json.loads(test.stdout)["account_locked"] is True
        refused = pm("config", "set", "sms.account", "AC" + "0" * 32, data=data)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert "sms.account: is locked" in refused.stderr and "sms unlock" in refused.stderr
        same = pm("config", "set", "sms.account", info["account_sid"], data=data)
        assert same.returncode == 0, same.stderr
        asked = pm("sms", "unlock", data=data)
        assert asked.returncode == 1 and asked.stderr.count("\n") == 1 and "--yes" in asked.stderr
        assert "old account" in asked.stderr
        unlocked = pm("sms", "unlock", "--yes", "--user", "super user", "--json", data=data)  # no PIN set yet
        assert unlocked.returncode == 0, unlocked.stderr
        assert "old account" in json.loads(unlocked.stdout)["warning"]
        assert pm("config", "set", "sms.account", "AC" + "0" * 32, data=data).returncode == 0


def locked_practice(tmp_path: Path) -> Path:
    """A demo practice whose SMS practice ID is locked (as a successful test leaves it)."""
    data = demo(tmp_path)
    with Practice(data, writer=True, command="test") as p:
        p.settings.set("sms.account", "AC" + "1" * 32)
        p.settings.lock("sms.account", "the SMS provider's test succeeded on 2026-12-01", "2026-12-01T09:00:00+00:00")
    return data


def is_locked(data: Path) -> bool:
    with Practice(data, writer=False, command="test") as p:
        return p.settings.locked("sms.account") is not None


def test_sms_unlock_is_a_super_users_action(tmp_path: Path) -> None:
    """Issue 18: "a super-user action unlocks it, with a warning". The command line opens with the
    desk's permissions (reception) like the kiosk: refused, in one line, unless a user whose group
    may unlock it signs in with their PIN (read from standard input, never argv)."""
    from tests.unit.test_cli import pm_stdin

    data = locked_practice(tmp_path)
    for args, said in (((), "only a super user"), (("--user", "reception"), "only a super user"),
                       (("--user", "Nobody"), "name and PIN do not match")):
        refused = pm_stdin("sms", "unlock", "--yes", *args, data=data, stdin="")
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert said in refused.stderr and refused.stdout == ""
        assert is_locked(data)
    assert pm_stdin("users", "add", "Sam", "--group", "super user", data=data, stdin="2468\n").returncode == 0
    assert pm_stdin("users", "add", "Tess", "--group", "reception", "--user", "Sam", data=data,
                    stdin="2468\n1357\n").returncode == 0
    tess = pm_stdin("sms", "unlock", "--yes", "--user", "Tess", data=data, stdin="1357\n")
    assert tess.returncode == 1 and tess.stderr.count("\n") == 1 and "Tess (reception) may not" in tess.stderr
    wrong = pm_stdin("sms", "unlock", "--yes", "--user", "Sam", data=data, stdin="1111\n")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "PIN" in wrong.stderr
    none = pm_stdin("sms", "unlock", "--yes", "--user", "Sam", data=data, stdin="")
    assert none.returncode == 1 and "no PIN" in none.stderr
    assert is_locked(data)
    sam = pm_stdin("sms", "unlock", "--yes", "--user", "Sam", "--json", data=data, stdin="2468\n")
    assert sam.returncode == 0, sam.stderr
    assert json.loads(sam.stdout)["by"] == "Sam" and not is_locked(data)
    assert "2468" not in sam.stdout + sam.stderr


def test_sms_templates_list_add_delete_and_send_with_one(tmp_path: Path) -> None:
    data = demo(tmp_path)
    with Practice(data, writer=True, command="test") as p:
        p.settings.set("sms.quiet_hours", "")
    added = pm("sms", "templates", "add", "TXTCROWN", "--text", "Hi {{ patient.first_name }}, your crown is ready.",
               "--description", "Crown ready", "--json", data=data)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"code": "TXTCROWN", "parts": 1}
    listed = json.loads(pm("sms", "templates", "list", "--json", data=data).stdout)
    assert sorted(t["code"] for t in listed) == ["APPTSMS", "TXTCROWN"]  # the demo's text one too; no email ones
    link = pm("sms", "templates", "add", "TXTBOOK", "--text", "Book at {{ booking.link }}", data=data)
    assert link.returncode == 1 and "cannot be used in a text message" in link.stderr
    long = pm("sms", "templates", "add", "TXTLONG", "--text", "😀" * 150, data=data)
    assert long.returncode == 1 and "messages" in long.stderr and long.stderr.count("\n") == 1
    again = pm("sms", "templates", "add", "TXTCROWN", "--text", "x", data=data)
    assert again.returncode == 1 and "already used" in again.stderr
    email = pm("sms", "templates", "delete", "RECALL", data=data)
    assert email.returncode == 1 and "email template" in email.stderr
    sent = pm("sms", "send", "--patient", "P040", "--template", "TXTCROWN", "--json", data=data)
    assert sent.returncode == 0, sent.stderr
    status = json.loads(pm("sms", "status", "--json", data=data).stdout)
    assert status["texts"][0]["to"] == "+447700900041"
    with Practice(data, writer=False, command="test") as p:
        from engine.service.outbox import Outbox

        assert Outbox(p.store).get(sent_id(sent))["text"] == "Hi Oluwaseun, your crown is ready."
    deleted = pm("sms", "templates", "delete", "TXTCROWN", "--json", data=data)
    assert deleted.returncode == 0 and json.loads(deleted.stdout) == {"deleted": "TXTCROWN"}
    assert [t["code"] for t in json.loads(pm("sms", "templates", "list", "--json", data=data).stdout)] == ["APPTSMS"]


def sent_id(out) -> int:  # noqa: ANN001
    return int(json.loads(out.stdout)["id"])


def test_booking_with_a_type_says_which_rule_will_not_remind(tmp_path: Path) -> None:
    """A hygiene visit booked for tomorrow misses the hygiene rule's "2 days before" reminder:
    one line on stderr names the rule (stdout stays the id); a check-up tomorrow is told nothing."""
    from datetime import date, timedelta

    data = demo(tmp_path)
    added = pm("reminders", "rules", "add", "--channel", "sms", "--days", "2", "--at", "10:00", "--template",
               "APPTSMS", "--type", "Hygiene", "--json", data=data)
    assert added.returncode == 0 and json.loads(added.stdout)["appointment_type"] == "hygiene", added.stderr
    tomorrow = f"{date.today() + timedelta(days=1)}T15:00"
    out = pm("appointments", "book", "--patient", "P033", "--start", tomorrow, "--minutes", "30", "--type", "hygiene",
             data=data)
    assert out.returncode == 0 and out.stdout.count("\n") == 1, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Reminder rule R1 (SMS 2 days before at 10:00 "
                                                                 "(hygiene appointments)) will not send")
    quiet = pm("appointments", "book", "--patient", "P040", "--start", tomorrow, "--minutes", "30", "--type", "checkup",
               "--json", data=data)
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["late_reminders"] == [] and quiet.stderr == ""
    bad = pm("appointments", "book", "--patient", "P040", "--start", tomorrow, "--minutes", "30", "--type",
             "check\u2028up", data=data)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "appointment type" in bad.stderr
