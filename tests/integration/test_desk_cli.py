"""The command line on another desk (issue 21), with a real `serve` process on a real PostgreSQL
database: `practicemail --database URL send-receive`, `compose`, `outbox reset-failed` are asked
of the service through the database and say in one line which service did them; the inbox's
`file` is done by the desk itself; a request the service does not take within `--wait` is
withdrawn (exit 1, and it never runs later); what a desk cannot ask is still refused in one line
naming the service's process. The fake servers' records are the witness."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.integration.test_desk_commands import set_up
from tests.integration.test_several_desks import desk, env, processes, start_serve, wait_for  # noqa: F401 - a fixture
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(240)


def at_desk(folder: Path, url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command as typed on a desk: the database on the command line, none in the environment."""
    return subprocess.run([sys.executable, "-m", "engine", "--database", url, "--data", str(folder), *argv], cwd=ROOT,
                          env=env(None), capture_output=True, text=True, timeout=180)


def outbox(folder: Path, url: str) -> list[dict]:
    return json.loads(at_desk(folder, url, "outbox", "list", "--json").stdout)


def test_the_command_line_on_another_desk_asks_the_service_and_says_who_did_it(
        tmp_path: Path, pg_url: str, fakemail: FakeMail, processes: list) -> None:
    server = tmp_path / "server"
    set_up(server, pg_url, fakemail)
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: Moving my visit\r\n"
                                 b"Message-ID: <m1@p.example>\r\n\r\nThanks\r\n")
    serve = start_serve(server, pg_url, tmp_path / "serve.err")
    processes.append(serve)
    wait_for(lambda: "running on" in (tmp_path / "serve.err").read_text(), "the service")
    c = desk(server, tmp_path / "desk-c")
    who = f"practicemail serve (pid {serve.pid} on "

    done = at_desk(c, pg_url, "send-receive")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and f"(by the email service: {who}" in done.stdout, done.stdout
    (message,) = json.loads(at_desk(c, pg_url, "inbox", "list", "--all", "--json").stdout)
    filed = at_desk(c, pg_url, "inbox", "file", str(message["id"]), "--patient", "P001")
    assert filed.returncode == 0 and filed.stdout.strip() == f"message {message['id']} filed to P001", filed.stderr
    assert json.loads(at_desk(c, pg_url, "inbox", "list", "--all", "--json").stdout)[0]["patient_id"] == "P001"

    fakemail.faults.add("smtp", "rcpt", "reply", code=550, text="No such mailbox")
    queued = at_desk(c, pg_url, "compose", "--patient", "P001", "--subject", "See you Tuesday")
    assert queued.returncode == 0, queued.stderr
    rid = int(queued.stdout)
    wait_for(lambda: [i["status"] for i in outbox(c, pg_url) if i["id"] == rid] == ["failed"], "the item failed")
    fakemail.faults.clear()
    reset = at_desk(c, pg_url, "outbox", "reset-failed", str(rid))
    assert reset.returncode == 0 and reset.stdout.strip() == \
        "1 failed item(s) back to ready (by the email service on another computer)", reset.stderr
    assert at_desk(c, pg_url, "send-receive").returncode == 0
    assert [i["status"] for i in outbox(c, pg_url) if i["id"] == rid] == ["sent"]
    assert [m["rcpt_tos"] for m in fakemail.sent()] == [["patel.family@mailhome.example"]]

    refused = at_desk(c, pg_url, "config", "set", "practice.name", "Elsewhere")  # not a desk's to ask
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 1 and f"pid {serve.pid}" in lines[0] and "practicemail serve" in lines[0], lines
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=60) == 0


def test_a_request_the_service_does_not_take_in_time_is_withdrawn_and_never_runs(
        tmp_path: Path, pg_url: str, fakemail: FakeMail, processes: list) -> None:
    """The service is frozen (SIGSTOP): it holds the writer's lock but takes nothing. The desk
    waits --wait seconds, says so in one line and exits 1; thawed, the service does not run it."""
    server = tmp_path / "server"
    set_up(server, pg_url, fakemail)
    serve = start_serve(server, pg_url, tmp_path / "serve.err")
    processes.append(serve)
    wait_for(lambda: "running on" in (tmp_path / "serve.err").read_text(), "the service")
    c = desk(server, tmp_path / "desk-c")
    serve.send_signal(signal.SIGSTOP)
    try:
        late = at_desk(c, pg_url, "send-receive", "--wait", "2")
    finally:
        serve.send_signal(signal.SIGCONT)
    lines = late.stderr.strip().splitlines()
    assert late.returncode == 1 and late.stdout == "", late
    assert len(lines) == 1 and lines[0].startswith(
        "practicemail: the email service did not take the request within 2 s, so it was withdrawn: nothing was done. "
    ), lines
    done = at_desk(c, pg_url, "send-receive")  # thawed: the next request is taken and answered
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT ok, taken_by IS NULL, result->>'error' FROM desk_commands ORDER BY id").fetchall()
    assert rows == [(False, True, "withdrawn: the desk stopped waiting"), (True, False, None)]
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=60) == 0


def test_a_database_url_with_a_password_is_refused_on_the_command_line(tmp_path: Path) -> None:
    refused = at_desk(tmp_path / "desk", "postgresql://clerk:hunter2@127.0.0.1:5432/test", "send-receive")
    assert refused.returncode == 1 and "holds a password" in refused.stderr and "hunter2" not in refused.stderr
