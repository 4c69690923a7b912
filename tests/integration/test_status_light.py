"""The light tells the truth (issue 14, finding 9), on the wired engine: the real worker
thread, the fake clock, real sockets to the fake servers.

grey "not set up" until an account is saved and tested; amber on any pass that failed to
connect, log in or finish, for either direction, with the reason; green only after a pass
that worked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.conftest import ROOT
from tests.integration.helpers import configure, configure_incoming, draft, open_practice
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday, inside Mon-Fri 08:00-18:00 London
WAIT = 20.0  # seconds: a bound on waiting for the worker's word, never a timing assertion


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


class States:
    """The engine's service_state events, as the kiosk's bridge hears them."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        engine.subscribe(self._on)

    def _on(self, name: str, details: dict[str, Any]) -> None:
        if name == "service_state":
            with self._changed:
                self.seen.append(details)
                self._changed.notify_all()

    def wait_for(self, state: str, after: int = 0) -> dict[str, Any]:
        with self._changed:
            ok = self._changed.wait_for(lambda: any(d["state"] == state for d in self.seen[after:]), WAIT)
            assert ok, f"no {state!r} from the engine; heard {self.seen}"
            return next(d for d in self.seen[after:] if d["state"] == state)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def practice(data_dir: Path, fakemail: FakeMail) -> Iterator[Practice]:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        yield p


@pytest.fixture
def engine(practice: Practice, clock: FakeClock) -> Iterator[Engine]:
    e = Engine(practice, clock)
    e.smtp_timeout = 1.0
    yield e
    e.stop()


def test_a_fresh_unconfigured_practice_is_not_set_up(data_dir: Path) -> None:
    """Was: the kiosk starts the engine on an empty folder and the light said "Email service running"."""
    with open_practice(data_dir) as p:
        engine = Engine(p)
        engine.start()  # as the kiosk does
        try:
            out = cli(data_dir, "status", "--json")
        finally:
            engine.stop()
    doc = json.loads(out.stdout)
    assert doc["state"] == "not_set_up", doc
    assert "no email account" in doc["reason"] and "setup" in doc["hint"].lower()
    assert out.returncode == 0
    text = cli(data_dir, "status").stdout
    assert text.startswith("not set up")


def test_saved_but_never_tested_is_not_set_up_until_a_pass_works(engine: Engine, clock: FakeClock) -> None:
    engine.start()
    st = engine.heartbeat.status(clock.now())
    assert st["state"] == "not_set_up" and "not been tested" in st["reason"]
    engine.send_receive_now(timeout=WAIT)
    assert engine.heartbeat.status(clock.now())["state"] == "running"


def test_a_successful_setup_test_counts_as_tested(engine: Engine, clock: FakeClock) -> None:
    engine.start()
    assert engine.test_credentials(timeout=5)["ok"]
    assert engine.heartbeat.status(clock.now())["state"] == "running"
    # a changed server is a new account: untested again
    engine.practice.settings.set("outgoing.port", str(int(engine.practice.settings.get("outgoing.port"))))
    assert engine.heartbeat.status(clock.now())["state"] == "running"  # the same value: the same account
    engine.practice.settings.set("incoming.enabled", "false")
    assert engine.heartbeat.status(clock.now())["state"] == "not_set_up"


def test_allow_without_account_is_grey_and_says_email_is_off(data_dir: Path) -> None:
    with open_practice(data_dir) as p:
        p.settings.set("setup.allow_without_account", "true")
        engine = Engine(p)
        engine.start()
        try:
            st = engine.heartbeat.status(engine.clock.now())
        finally:
            engine.stop()
    assert st["state"] == "not_set_up" and "without an email account" in st["reason"]


def test_imap_hang_in_an_automatic_pass_is_amber_until_a_good_pass(practice: Practice, engine: Engine,
                                                                   clock: FakeClock, fakemail: FakeMail) -> None:
    """Was: the check timed out, the light stayed green and "Last checked" moved on."""
    practice.settings.set_many({"schedule.send_immediately": "true", "schedule.check_every_minutes": "15"})
    assert engine.test_credentials(timeout=5)["ok"]  # saved and tested: green before the trouble
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: Hello\r\nMessage-ID: <h1@x>\r\n\r\nhi\r\n")
    fakemail.faults.add("imap", "fetch", "hang")  # half the message, then nothing
    states = States(engine)
    engine.start()
    failing = states.wait_for("failing")
    assert "stopped answering" in failing["error"] or "did not answer" in failing["error"], failing
    st = engine.heartbeat.status(clock.now())
    assert st["state"] == "failing" and st["reason"].startswith("receiving:"), st
    assert "checked again" in st["hint"] and "message will be tried" not in st["hint"]
    assert st.get("last_receive") is None  # "Last checked" names only a check that worked
    # the fault goes away; the next automatic check works and only then is it green
    fakemail.faults.clear()
    seen = len(states.seen)
    clock.advance(timedelta(minutes=15))
    states.wait_for("running", after=seen)
    st = engine.heartbeat.status(clock.now())
    assert st["state"] == "running" and st["last_receive"]["at"] == clock.now().isoformat()
    assert len(engine.inbox.messages) == 1


def test_smtp_login_refused_is_amber_with_the_hint_and_a_good_receive_does_not_clear_it(
        engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    engine.start()
    assert engine.test_credentials(timeout=5)["ok"]
    engine.outbox.add_draft(draft(), clock.now())
    fakemail.faults.add("smtp", "auth", "reject")
    report = engine.send_receive_now(timeout=WAIT)
    assert report["sent"] == 0
    st = engine.heartbeat.status(clock.now())
    assert st["state"] == "failing" and st["reason"].startswith("sending:") and "password" in st["hint"], st
    engine.send_receive_now(timeout=WAIT)  # the receive half works again; sending still refused
    assert engine.heartbeat.status(clock.now())["state"] == "failing"


@pytest.mark.parametrize("protocol,step,action", [
    ("imap", "connect", "hang"),  # receiving times out
    ("pop3", "connect", "refuse"),  # the connection drops at once
    ("imap", "auth", "reject"),  # the login is refused
])
def test_a_good_send_does_not_hide_a_failing_receive(engine: Engine, clock: FakeClock, fakemail: FakeMail,
                                                     protocol: str, step: str, action: str) -> None:
    configure_incoming(engine.practice, fakemail, protocol)
    engine.start()
    assert engine.test_credentials(timeout=5)["ok"]
    fakemail.faults.add(protocol, step, action)
    engine.outbox.add_draft(draft(), clock.now())
    report = engine.send_receive_now(timeout=WAIT)
    assert report["sent"] == 1
    st = engine.heartbeat.status(clock.now())
    assert st["state"] == "failing" and st["reason"].startswith("receiving:"), st
    # another pass: the good send must not flick the light green between the two halves
    engine.outbox.add_draft(draft(subject="Again"), clock.now())
    assert engine.send_receive_now(timeout=WAIT)["sent"] == 1
    history = [h.get("event") for h in engine.heartbeat.record()["history"]]
    assert "recovered" not in history, history
    assert engine.heartbeat.status(clock.now())["state"] == "failing"
    fakemail.faults.clear()
    engine.send_receive_now(timeout=WAIT)
    assert engine.heartbeat.status(clock.now())["state"] == "running"


def test_cli_setup_test_is_ok_without_a_service_and_says_so_apart(data_dir: Path, fakemail: FakeMail) -> None:
    """Was: `ok: false` (exit 1) whenever no service ran, although every server step passed."""
    with open_practice(data_dir) as p:
        configure(p, fakemail)
    out = cli(data_dir, "test-credentials", "--json")
    doc = json.loads(out.stdout)
    assert doc["ok"] is True and out.returncode == 0, doc
    assert all(s["ok"] for s in doc["steps"])
    assert "email service running" not in [s["name"] for s in doc["steps"]]
    assert doc["service"]["running"] is False
    assert doc["service"]["message"] == "the email service is not running on this computer"
    text = cli(data_dir, "test-credentials").stdout
    assert "FAIL" not in text and "the email service is not running on this computer" in text
    # and a test that passed from the CLI counts as tested
    assert json.loads(cli(data_dir, "status", "--json").stdout)["state"] != "not_set_up"
