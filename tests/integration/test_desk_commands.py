"""Commands from another desk to the service through the database (issue 21): Send/Receive,
Reset failed (the items chosen), Restart and a new email, asked by a desk's App and carried out
by the App that runs the service, each on its own connections to a real PostgreSQL schema; the
fake servers' records are the witness. On TinyDB nothing changes: a reader is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.errors import InputInvalid, ReadOnly, ServiceCommandFailed, ServiceUnavailable
from engine.service.app import App, NewEmail
from engine.service.demo import load_demo
from engine.service.practice import Practice
from tests.integration.helpers import configure, configure_incoming
from tests.integration.test_several_desks import wait_for
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(120)
ALWAYS = {"schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59"}


def set_up(folder: Path, url: str | None, fakemail: FakeMail) -> None:
    with Practice(folder, writer=True, command="test", database=url or "") as p:
        load_demo(p)
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        p.settings.set_many(ALWAYS)


def started(app: App) -> App:
    """Started, and its first check for mail over. At start the worker checks at once; a check
    still running (at load 9) when a test delivered took the test's message from under the test's
    own pass ("received" 0). A pass asked for here runs after that check, or instead of it."""
    app.start()
    app.send_receive_now()
    return app


def desk_folder(server: Path, folder: Path) -> Path:
    (folder / "keys").mkdir(parents=True, mode=0o700)
    shutil.copy2(server / "keys" / "secret.key", folder / "keys" / "secret.key")
    return folder


@pytest.fixture
def service(tmp_path: Path, pg_url: str, fakemail: FakeMail) -> Iterator[App]:
    """The App that runs the service (the writer), started."""
    set_up(tmp_path / "server", pg_url, fakemail)
    with App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url) as app:
        yield started(app)


@pytest.fixture
def desk(service: App, tmp_path: Path, pg_url: str) -> Iterator[App]:
    """Another desk: App.open_desk finds the writer's lock held and opens a reader that asks."""
    with App.open_desk(desk_folder(tmp_path / "server", tmp_path / "desk"), database=pg_url) as app:
        yield app


@pytest.fixture
def slow_first_check(fakemail: FakeMail) -> None:
    """The service's first check greeted 2 s late (as a loaded machine may): still running when
    the test delivers. Asked before `service`, so it is in place when the service starts."""
    fakemail.faults.add("imap", "any", "delay", seconds=2, times=1)


def test_mail_delivered_once_the_service_started_is_the_test_s_own_pass_s(
        slow_first_check: None, service: App, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: After the start\r\n"
                                 b"Message-ID: <m0@p.example>\r\n\r\nHello\r\n")
    assert service.send_receive_now()["received"] == 1


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as c:
        return c.execute("SELECT kind, ok, taken_by IS NOT NULL FROM desk_commands ORDER BY id").fetchall()


def test_a_desk_asks_for_send_receive_and_gets_the_service_s_report(
        desk: App, service: App, fakemail: FakeMail, pg_url: str) -> None:
    assert not desk.writer and desk.on_another_desk and not service.on_another_desk
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: Moving my visit\r\n"
                                 b"Message-ID: <m1@p.example>\r\n\r\nThanks\r\n")
    fakemail.faults.add("smtp", "any", "delay", seconds=0.3)  # the worker's own pass cannot beat the ask
    rid = desk.compose(NewEmail("P001", subject="See you Tuesday", text="Bring your card."))
    report = desk.send_receive_now()
    assert {"sent", "received", "failed", "errors", "cancelled"} <= set(report) and not report["errors"], report
    assert [m.subject for m in desk.inbox_messages(show_all=True)] == ["Moving my visit"]
    fakemail.faults.clear()
    service.send_receive_now()
    assert desk.outbox_item(rid).status.value == "sent"
    assert [m["rcpt_tos"] for m in fakemail.sent()] == [["patel.family@mailhome.example"]]
    assert [(k, ok) for k, ok, _t in rows(pg_url)] == [("compose", True), ("send_receive", True)]


def test_reset_failed_from_a_desk_resets_only_the_items_chosen(desk: App, service: App, fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "rcpt", "reply", code=550, text="No such mailbox")
    first = service.compose(NewEmail("P001", subject="One", text="x"))
    second = service.compose(NewEmail("P005", subject="Two", text="y"))
    service.send_receive_now()
    assert {desk.outbox_item(r).status.value for r in (first, second)} == {"failed"}
    fakemail.faults.clear()
    assert desk.reset_failed([first]) == [first]
    assert desk.outbox_item(second).status.value == "failed"
    service.send_receive_now()
    assert desk.outbox_item(first).status.value == "sent" and desk.outbox_item(second).status.value == "failed"
    with pytest.raises(ServiceCommandFailed) as refused:  # the service's own words come back
        desk.reset_failed([first])
    assert f"outbox item {first} has not failed" in refused.value.message


def test_restart_from_a_desk_restarts_the_service_for_every_desk(desk: App, service: App) -> None:
    def states() -> list[str]:
        return [h["state"] for h in service.heartbeat.record()["history"] if h["event"] == "state"]
    before = states()
    desk.restart()
    assert states()[len(before):] == ["stopped", "running"] and service.running
    assert desk.status()["state"] == "running"


def test_other_commands_on_a_desk_are_refused_in_one_line(desk: App) -> None:
    with pytest.raises(ReadOnly) as refused:
        desk.set_settings({"practice.name": "Elsewhere"})
    assert "from this desk: the email service runs on another computer" in refused.value.message
    with pytest.raises(InputInvalid):  # the files are on this computer, out of the service's reach
        desk.compose(NewEmail("P001", subject="X-ray", text="x", attachments=(Path("/etc/hostname"),)))


@pytest.mark.parametrize("subject", ["Line\r\nBcc: evil@example.com", "\u202egnp.exe", "x" * 5000, "\u2028\u0085"])
def test_hostile_text_from_a_desk_meets_the_same_rules_as_at_the_service(desk: App, service: App, subject: str) -> None:
    """The email goes through the service's composer: a header break is refused there, in its words."""
    try:
        rid = desk.compose(NewEmail("P001", subject=subject, text="\x00body\u2029"))
    except ServiceCommandFailed as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert service.outbox.get(rid)["subject"] == subject


def test_a_lone_surrogate_from_a_desk_is_refused_in_one_line_and_nothing_is_queued(desk: App) -> None:
    """It crosses the database escaped (\\ud800 in the json column) and the service's rules refuse it."""
    with pytest.raises(ServiceCommandFailed) as refused:
        desk.compose(NewEmail("P001", subject="broken \ud800 surrogate", text="x"))
    assert "not text" in refused.value.message and "\n" not in refused.value.message
    assert desk.outbox_items() == []


def test_a_desk_with_no_service_running_is_told_so(tmp_path: Path, pg_url: str, fakemail: FakeMail) -> None:
    set_up(tmp_path / "server", pg_url, fakemail)
    with App.open(tmp_path / "server", writer=False, command="desk", database=pg_url) as desk:
        with pytest.raises(ServiceUnavailable) as refused:
            desk.send_receive_now()
    assert "not running" in refused.value.message
    assert rows(pg_url) == []  # nothing was left for a service to find later


def test_a_request_nobody_answers_is_withdrawn_and_never_carried_out_later(
        tmp_path: Path, pg_url: str, fakemail: FakeMail) -> None:
    set_up(tmp_path / "server", pg_url, fakemail)
    with App.open(tmp_path / "server", writer=True, command="not started", database=pg_url) as holder:
        with App.open(tmp_path / "server", writer=False, command="desk", database=pg_url) as desk:
            with pytest.raises(ServiceUnavailable) as refused:
                desk.ask_service("compose", {"patient_id": "P001", "subject": "Late", "text": "x"}, timeout=1.5)
        assert "did not take the request within 2 s, so it was withdrawn: nothing was done" in refused.value.message
        holder.start()
        holder.stop()
        assert holder.outbox.counts().get("ready", 0) == 0 and rows(pg_url) == [("compose", False, False)]


def test_a_command_taken_by_a_service_that_died_is_carried_out_once_by_the_next(
        tmp_path: Path, pg_url: str, fakemail: FakeMail) -> None:
    """A row marked taken whose answer never came (the service was killed between the two):
    the next service gives it back and carries it out; composing and answering commit together,
    so the email is queued exactly once."""
    set_up(tmp_path / "server", pg_url, fakemail)
    with psycopg.connect(pg_url) as c:
        c.execute("INSERT INTO desk_commands (kind, args, asked_by, taken_at, taken_by) VALUES ('compose', "
                  "'{\"patient_id\": \"P001\", \"subject\": \"Once\", \"text\": \"x\"}', 'desk', now(), 'dead')")
        c.execute("INSERT INTO desk_commands (kind, args, asked_by, asked_at) VALUES ('restart', '{}', 'desk', "
                  "now() - interval '1 hour')")
    with App.open(tmp_path / "server", writer=True, command="next", database=pg_url) as app:
        app.start()
        with psycopg.connect(pg_url, autocommit=True) as c:
            wait_for(lambda: c.execute("SELECT count(*) FROM desk_commands WHERE done_at IS NULL").fetchone()[0] == 0,
                     "the open rows answered")
            answers = c.execute("SELECT kind, ok, result FROM desk_commands ORDER BY id").fetchall()
        assert [i.subject for i in app.outbox_items()] == ["Once"]
    assert answers[0][:2] == ("compose", True)
    assert answers[1][:2] == ("restart", False) and "waited too long" in answers[1][2]["error"]


def test_on_tinydb_nothing_changes_a_reader_is_refused(tmp_path: Path, fakemail: FakeMail) -> None:
    set_up(tmp_path / "server", None, fakemail)
    with App.open(tmp_path / "server", writer=False, command="desk", database="") as reader:
        assert not reader.on_another_desk
        with pytest.raises(ReadOnly):
            reader.send_receive_now()
        reader.subscribe(lambda *_: None)  # no watcher: TinyDB has no notices
        assert reader._desk_watcher is None


def test_kiosk_refuses_a_database_url_with_a_password_on_the_command_line(tmp_path: Path) -> None:
    """argv is readable by every user of the machine: one line, exit 1, the password not echoed."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "engine", "kiosk", "--data", str(tmp_path / "d"),
                           "--database", "postgresql://reception:hunter2@127.0.0.1/test"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    said = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "holds a password" in said[0] and "hunter2" not in done.stderr, said
    assert not (tmp_path / "d").exists()


def test_rows_of_the_wrong_shape_are_answered_not_understood_and_change_nothing(
        service: App, pg_url: str) -> None:
    """A desk of another version (or anyone who can write the table) cannot make the service guess."""
    bad = [("compose", '{"patient_id": 5}'), ("compose", '{"patient_id": "P001", "attachments": ["/etc/passwd"]}'),
           ("compose", '[1, 2]'), ("reset_failed", '{"rids": ["1"]}'), ("reset_failed", '{"rids": [true]}'),
           ("reset_failed", '{"rids": [-1]}'), ("format_disk", '{}')]
    with psycopg.connect(pg_url, autocommit=True) as c:
        for kind, args in bad:
            c.execute("INSERT INTO desk_commands (kind, args, asked_by) VALUES (%s, %s, 'rogue')", (kind, args))
        wait_for(lambda: c.execute("SELECT count(*) FROM desk_commands WHERE done_at IS NULL").fetchone()[0] == 0,
                 "every row answered")
        answers = c.execute("SELECT ok, result FROM desk_commands ORDER BY id").fetchall()
    assert [ok for ok, _r in answers] == [False] * len(bad)
    assert all(r["error"] and "\n" not in r["error"] and r["hint"] for _ok, r in answers), answers
    assert service.outbox_items() == [] and service.running


def test_a_busy_desk_holds_at_most_its_pool_and_its_listen(service: App, tmp_path: Path, pg_url: str) -> None:
    """Eight reads at once on a desk that listens: the desk's pool (store.POOL_SIZES) caps what it
    takes of the server's connections, and the reads wait their turn rather than fail."""
    import threading

    from engine.adapters.postgres.store import POOL_SIZES

    with App.open(desk_folder(tmp_path / "server", tmp_path / "desk"), writer=False, command="busy desk",
                  database=pg_url) as desk:
        desk.subscribe(lambda *_: None)
        assert desk.hearing(10.0)
        most = [0]
        go = threading.Barrier(8)

        def read() -> None:
            go.wait()
            for _ in range(5):
                list(desk.practice.store.collection("outbox").find(lambda r: True))
                with psycopg.connect(pg_url) as c:
                    held = c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                                     "'busy desk (pid %%'").fetchone()[0]
                most[0] = max(most[0], held)
        readers = [threading.Thread(target=read) for _ in range(8)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(60)
    # 3 pooled and the LISTEN: the budget README's "Connections" counts on for 17 desks in 100
    assert POOL_SIZES["desk"][0] == 3 and 2 <= most[0] <= 4, most


def test_a_request_the_service_took_but_had_not_finished_in_time_says_so_and_finishes_there(
        desk: App, service: App, fakemail: FakeMail, pg_url: str) -> None:
    """A slow server: the pass outlasts the desk's wait. The desk is told who took it and that it
    finishes there (not "withdrawn"), and it does: the item is sent and the row answered."""
    rid = service.compose(NewEmail("P001", subject="Slow", text="x"))
    fakemail.faults.add("smtp", "any", "delay", seconds=0.5)  # each reply: a session of several outlasts 1.5 s
    with pytest.raises(ServiceUnavailable) as late:
        desk.send_receive_now(timeout=1.5)
    assert "took the request but had not finished it within 2 s; it finishes it there" in late.value.message
    assert "test serve (pid " in late.value.message and "\n" not in late.value.message
    with psycopg.connect(pg_url, autocommit=True) as c:
        wait_for(lambda: c.execute("SELECT count(*) FROM desk_commands WHERE done_at IS NULL").fetchone()[0] == 0,
                 "the pass the service took, finished")
        assert c.execute("SELECT kind, ok FROM desk_commands").fetchall() == [("send_receive", True)]
    assert service.outbox_item(rid).status.value == "sent"
