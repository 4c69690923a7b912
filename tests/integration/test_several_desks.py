"""Several desks on one PostgreSQL database, with real processes (issue 21).

One `serve` (desk A) sends; a second `serve` (desk B, its own data folder holding a copy of the
key file) waits as a standby; A is SIGKILLed in the middle of a slow send pass; B takes over and
sends the rest. The fake SMTP server's record is the witness: every item arrives, each Message-ID
at most twice, and only the one the engine flagged as in flight twice. A third desk reads the
service's heartbeat and outbox counts, and is refused a change of settings in one line naming
the holder (what a desk may ask of the service: tests/integration/test_desk_cli.py). On TinyDB
a second `serve` is refused at once, as before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.service.outbox import Outbox
from engine.service.practice import Practice
from tests.conftest import ROOT
from tests.integration.helpers import configure, draft
from tools.fakemail import FakeMail

ITEMS = 12
pytestmark = pytest.mark.timeout(240)


def env(url: str | None) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k not in ("PRACTICEMAIL_DATABASE", "PRACTICEMAIL_DATA")}
    if url:
        e["PRACTICEMAIL_DATABASE"] = url
    return e


def start_serve(folder: Path, url: str | None, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "engine", "serve", "--data", str(folder)], cwd=ROOT,
                                env=env(url), stdout=subprocess.DEVNULL, stderr=err)


def cli(folder: Path, url: str | None, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *argv, "--data", str(folder)], cwd=ROOT, env=env(url),
                          capture_output=True, text=True, timeout=120)


def wait_for(check, what: str, timeout: float = 90.0) -> None:  # noqa: ANN001 - a predicate
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def desk(server: Path, folder: Path) -> Path:
    """Another machine's data folder: its own, with a copy of the practice's key file."""
    (folder / "keys").mkdir(parents=True, mode=0o700)
    shutil.copy2(server / "keys" / "secret.key", folder / "keys" / "secret.key")
    return folder


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)


def message_ids(sent: list[dict]) -> Counter[str]:
    found = (re.search(rb"^Message-ID:\s*(\S+)", m["data"], re.M | re.I) for m in sent)
    return Counter(m.group(1).decode() for m in found if m)


def test_standby_takes_over_when_the_service_dies_and_sends_nothing_twice_but_the_one_in_flight(
        tmp_path: Path, pg_url: str, fakemail: FakeMail, processes: list) -> None:
    a, logs = tmp_path / "desk-a", tmp_path
    with Practice(a, writer=True, command="test", database=pg_url) as p:
        configure(p, fakemail)
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59"})
        outbox = Outbox(p.store)
        rids = [outbox.add_draft(draft(to=f"pat{n}@example.com", subject=f"Item {n}"), _now()) for n in range(ITEMS)]
    b = desk(a, tmp_path / "desk-b")
    fakemail.faults.add("smtp", "any", "delay", seconds=0.15)  # a slow server: the kill lands mid-pass

    first = start_serve(a, pg_url, logs / "a.err")
    processes.append(first)
    wait_for(lambda: len(fakemail.sent()) >= 2, "the first service to send")
    # the server stops answering: the first service is held mid-pass, a message in flight, however
    # long the standby takes to start (on a loaded machine the whole pass once ended before it had)
    fakemail.faults.add("smtp", "any", "hang")
    second = start_serve(b, pg_url, logs / "b.err")
    processes.append(second)
    wait_for(lambda: "standby:" in (logs / "b.err").read_text(), "the standby's line")
    said = (logs / "b.err").read_text()
    assert f"pid {first.pid}" in said and "taking over when it stops" in said, said
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    before_kill = len(fakemail.sent())
    assert before_kill < ITEMS, "the pass finished before the kill: nothing was proved"
    fakemail.faults.clear()

    wait_for(lambda: "took over" in (logs / "b.err").read_text(), "the standby to take over")
    with Practice(b, writer=False, command="test", database=pg_url) as reader:
        def all_sent() -> bool:
            return all(Outbox(reader.store).get(r)["status"] == "sent" for r in rids)
        wait_for(all_sent, "every item sent by the standby")
        items = [Outbox(reader.store).get(r) for r in rids]
    flagged = {i["message_id"] for i in items if any(h["event"] == "recover" for h in i["history"])}
    counts = message_ids(fakemail.sent())
    assert set(counts) == {i["message_id"] for i in items}  # every item arrived
    twice = {mid for mid, n in counts.items() if n > 1}
    assert max(counts.values()) <= 2 and twice <= flagged and len(flagged) <= 1, (counts, flagged)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0


def test_another_desk_sees_the_service_and_is_refused_its_settings_in_one_line(
        tmp_path: Path, pg_url: str, fakemail: FakeMail, processes: list) -> None:
    a = tmp_path / "server"
    with Practice(a, writer=True, command="test", database=pg_url) as p:
        configure(p, fakemail)
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59"})
        Outbox(p.store).add_draft(draft(subject="Hello"), _now())
    c = desk(a, tmp_path / "desk-c")
    serve = start_serve(a, pg_url, tmp_path / "serve.err")
    processes.append(serve)
    fakemail.wait_for_sent(1, timeout=60)

    def seen() -> dict:
        return json.loads(cli(c, pg_url, "status", "--json").stdout)
    wait_for(lambda: seen().get("state") == "running", "the heartbeat on the other desk")
    st = seen()  # the counts are the service's as of its last beat (once a minute)
    assert st["pid"] == serve.pid and sum(st["outbox"].values()) == 1, st
    refused = cli(c, pg_url, "config", "set", "practice.name", "Elsewhere")  # send-receive is asked: test_desk_cli.py
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode != 0 and f"pid {serve.pid}" in lines[0] and "practicemail serve" in lines[0], lines
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=60) == 0
    assert seen()["state"] == "stopped"


def test_on_tinydb_a_second_serve_is_refused_at_once(data_dir: Path, processes: list) -> None:
    with Practice(data_dir, writer=True, command="test", database=""):
        pass
    first = start_serve(data_dir, None, data_dir.parent / "first.err")
    processes.append(first)
    wait_for(lambda: "running on" in (data_dir.parent / "first.err").read_text(), "the first service")
    second = cli(data_dir, None, "serve")
    assert second.returncode != 0 and "in use by" in second.stderr and "standby" not in second.stderr
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0


def _now():  # noqa: ANN202 - the queue's time: real, since the services run on the real clock
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_a_service_whose_lock_session_ends_stops_instead_of_running_beside_the_standby(
        tmp_path: Path, pg_url: str, processes: list) -> None:
    """The lock's session can end while its process lives (a database restart, a network cut):
    a standby may then take the lock, and two services would send the same items. Was: the
    service ran on unaware. Now it stops (exit 1, one line), and systemd's restart makes it a standby."""
    import psycopg

    from tests.backends import TEST_DATABASE

    a = tmp_path / "server"
    with Practice(a, writer=True, command="test", database=pg_url):
        pass
    serve = start_serve(a, pg_url, tmp_path / "serve.err")
    processes.append(serve)
    wait_for(lambda: "running on" in (tmp_path / "serve.err").read_text(), "the service")
    with psycopg.connect(TEST_DATABASE, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a "
                              "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                              "AND a.application_name LIKE %s", (f"%pid {serve.pid} %",)).fetchall()
    assert ended == [(True,)]
    assert serve.wait(timeout=60) == 1
    assert "lost the database's writer's lock" in (tmp_path / "serve.err").read_text()


def test_a_desk_hears_of_a_message_the_service_received_without_polling(
        tmp_path: Path, pg_url: str, fakemail: FakeMail, processes: list) -> None:
    """LISTEN/NOTIFY: the service (another process) stores a message it received; a desk's
    watcher hears "messages" on the notification path (its poll is an hour away, so a poll cannot
    be what woke it) and reads the message through its own store."""
    import queue

    from engine.service.inbox import Inbox
    from tests.integration.helpers import configure_incoming

    a = tmp_path / "server"
    with Practice(a, writer=True, command="test", database=pg_url) as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59"})
    heard: queue.Queue[str | None] = queue.Queue()
    with Practice(desk(a, tmp_path / "desk"), writer=False, command="test", database=pg_url) as reader:
        watcher = reader.store.watch(heard.put, poll=3600)  # type: ignore[attr-defined]
        try:
            assert watcher.ready.wait(30)
            serve = start_serve(a, pg_url, tmp_path / "serve.err")
            processes.append(serve)
            fakemail.deliver("practice", b"From: pat@example.com\r\nTo: practice@example.test\r\n"
                                         b"Subject: Can I move my visit?\r\nMessage-ID: <q1@p.example>\r\n\r\nThanks\r\n")
            got = []
            while "messages" not in got:
                got.append(heard.get(timeout=90))
            inbox = Inbox(reader.store, reader.directory, lambda: [])
            assert [m["subject"] for m in inbox.list(show_all=True)] == ["Can I move my visit?"]
            assert None not in got  # every wake was a notice, none a poll
        finally:
            watcher.stop()


def service_and_standby(tmp_path: Path, pg_url: str, processes: list) -> tuple[Any, Any]:
    """A running `serve` on a practice in the database, and a second one waiting as its standby."""
    a = tmp_path / "server"
    with Practice(a, writer=True, command="test", database=pg_url):
        pass
    first = start_serve(a, pg_url, tmp_path / "a.err")
    processes.append(first)
    wait_for(lambda: "running on" in (tmp_path / "a.err").read_text(), "the service")
    second = start_serve(tmp_path / "desk-b", pg_url, tmp_path / "b.err")
    processes.append(second)
    wait_for(lambda: "standby:" in (tmp_path / "b.err").read_text(), "the standby")
    return first, second


def test_a_standby_that_loses_the_database_says_so_in_words(tmp_path: Path, pg_url: str, processes: list) -> None:
    """Was: a psycopg traceback when the database ended the standby's session while it waited."""
    import psycopg

    from tests.backends import TEST_DATABASE

    first, second = service_and_standby(tmp_path, pg_url, processes)
    with psycopg.connect(TEST_DATABASE, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s",
                      (f"%pid {second.pid} %",))
    assert second.wait(timeout=60) != 0
    said = (tmp_path / "b.err").read_text()
    assert "lost the database" in said and "Traceback" not in said, said
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0


def test_sigterm_ends_a_standby_s_wait(tmp_path: Path, pg_url: str, processes: list) -> None:
    """systemd's stop reaches a standby between two tries of the lock: it exits 0, never started."""
    first, second = service_and_standby(tmp_path, pg_url, processes)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0 and "running" not in (tmp_path / "b.err").read_text()
    assert first.poll() is None  # the running service is untouched
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
