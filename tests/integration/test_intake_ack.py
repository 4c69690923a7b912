"""Intake acknowledges on the server only after commit (issue 21's crash rules), on both backends.

POP3 with mail not left on the server is where intake acknowledges: DELE, applied at QUIT. Every
DELE must find its message already committed, as another reader (another connection, on
PostgreSQL) sees the store; and a process that dies between the commit and the acknowledgement,
by an exception in process or by SIGKILL, finds the messages still on the server next time,
fetches them again and stores each once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone

import psycopg
import pytest

from engine.adapters.clock import FakeClock
from engine.adapters.pop3 import Pop3Mailbox
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.backends import Backend
from tests.conftest import ROOT
from tests.integration.helpers import configure, configure_incoming
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def mail(i: int) -> bytes:
    return (f"From: patient{i}@example.com\r\nTo: practice@example.test\r\nSubject: Reply {i}\r\n"
            f"Message-ID: <r{i}@patients.example>\r\n\r\nSee you on Tuesday.\r\n").encode()


def stored_subjects(backend: Backend) -> list[str]:
    """What another process sees as stored: a reader of its own (its own connection on PostgreSQL)."""
    with backend.practice(writer=False) as reader:
        return sorted(r["subject"] for r in reader.store.partitioned("messages").all())


class Killed(BaseException):
    """The process dies here: nothing after this point runs."""


def test_each_dele_finds_its_message_committed(backend: Backend, fakemail: FakeMail,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        fakemail.deliver("practice", mail(i))
    seen_at_dele: list[list[str]] = []
    dele = Pop3Mailbox.delete

    def witnessed(self: Pop3Mailbox, number: int) -> None:
        seen_at_dele.append(stored_subjects(backend))
        dele(self, number)

    monkeypatch.setattr(Pop3Mailbox, "delete", witnessed)
    with backend.practice() as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "pop3", leave_on_server=False)
        e = Engine(p, FakeClock(T0))
        e.smtp_timeout = 5
        assert e.send_receive_now()["received"] == 5
    every = sorted(f"Reply {i}" for i in range(5))
    assert len(seen_at_dele) == 5 and all(seen == every for seen in seen_at_dele)
    assert fakemail.mailbox_names("practice") == []


def test_killed_between_commit_and_dele_the_mail_is_fetched_again_and_stored_once(
        backend: Backend, fakemail: FakeMail, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        fakemail.deliver("practice", mail(i))

    def die(self: Pop3Mailbox, number: int) -> None:
        self.abort()  # the socket goes as a dead process's does: no QUIT, so nothing is deleted
        raise Killed

    with backend.practice() as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "pop3", leave_on_server=False)
        with monkeypatch.context() as m:
            m.setattr(Pop3Mailbox, "delete", die)
            with pytest.raises(Killed):
                Engine(p, FakeClock(T0)).send_receive_now()
    assert stored_subjects(backend) == sorted(f"Reply {i}" for i in range(5))  # committed before the kill
    assert len(fakemail.mailbox_names("practice")) == 5  # and not acknowledged
    with backend.practice() as p:  # started again
        e = Engine(p, FakeClock(T0))
        e.smtp_timeout = 5
        report = e.send_receive_now()
        assert report["received"] == 0
    assert stored_subjects(backend) == sorted(f"Reply {i}" for i in range(5))  # each once
    assert fakemail.mailbox_names("practice") == []  # acknowledged now


N = 600  # three chunks of intake's 200: a kill lands after the first commit, before any DELE


@pytest.mark.slow
def test_sigkill_mid_intake_loses_nothing_and_stores_nothing_twice(backend: Backend, fakemail: FakeMail) -> None:
    for i in range(N):
        fakemail.deliver("practice", mail(i))
    with backend.practice() as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "pop3", leave_on_server=False)
    env = {**os.environ, "PRACTICEMAIL_DATABASE": backend.url or ""}
    cmd = [sys.executable, "-m", "engine", "send-receive", "--json", "--data", str(backend.folder)]
    child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with backend.practice(writer=False) as reader:  # another process's view, read as the child writes
            messages = reader.store.partitioned("messages")
            while not len(messages):  # the first chunk committed; the child ending first is the failure
                try:
                    child.wait(timeout=0.005)
                except subprocess.TimeoutExpired:
                    continue
                raise AssertionError("the receive ended before any commit was seen")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    assert len(fakemail.mailbox_names("practice")) == N, \
        "the killed pass reached its QUIT: it was killed too late to prove anything"
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    subjects = stored_subjects(backend)
    assert sorted(subjects) == sorted(f"Reply {i}" for i in range(N))  # every one, once
    assert fakemail.mailbox_names("practice") == []


def test_a_chunk_whose_write_failed_is_stored_by_the_next_pass(pg_url: str, fakemail: FakeMail, data_dir) -> None:  # noqa: ANN001
    """The shelf remembers which messages' bytes it holds, to drop one fetched again. A chunk
    whose records were refused (here by a constraint the database enforces; in life a lost
    connection) had its messages counted as held all the same, so the next pass of the same
    process dropped them as duplicates: lost, though never acknowledged. (Mail left on the
    server: nothing but the store says what was taken.)"""
    for i in range(5):
        fakemail.deliver("practice", mail(i))
    with Practice(data_dir, writer=True, command="test", database=pg_url) as p, \
            psycopg.connect(pg_url, autocommit=True) as admin:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "pop3", leave_on_server=True)
        e = Engine(p, FakeClock(T0))
        e.smtp_timeout = 5
        admin.execute("ALTER TABLE c_messages ADD CONSTRAINT refuse CHECK (false) NOT VALID")
        with contextlib.suppress(Exception):
            e.send_receive_now()
        assert not p.store.partitioned("messages").all()
        admin.execute("ALTER TABLE c_messages DROP CONSTRAINT refuse")
        e.send_receive_now()
        assert sorted(r["subject"] for r in p.store.partitioned("messages").all()) == \
            sorted(f"Reply {i}" for i in range(5))
