"""The setup test against the fake servers and every fault they inject: each stops at
the right step with the right hint, and nothing is ever sent."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.service.engine import Engine
from tests.conftest import ROOT
from tests.integration.helpers import configure, configure_incoming, open_practice
from tools.fakemail import FakeMail

STEP_FIELDS = {"name", "ok", "seconds", "message", "hint"}  # the contract's JSON, per step
ALL = ["outgoing server name", "incoming server name", "connect to incoming server",
       "log in to incoming server", "connect to outgoing server", "log in to outgoing server", "dry run of sending",
       "disconnect"]


@pytest.fixture
def engine(data_dir: Path, fakemail: FakeMail) -> Iterator[Engine]:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        e = Engine(p)
        e.start()  # a fresh heartbeat, as when the kiosk runs the test
        yield e
        e.stop()


def names(result: dict) -> list[str]:
    return [s["name"] for s in result["steps"]]


def test_everything_passes_and_nothing_is_sent(engine: Engine, fakemail: FakeMail) -> None:
    result = engine.test_credentials()
    assert result["ok"], result
    assert names(result) == ALL and result["service"]["running"] is True  # the fixture's engine runs
    said = fakemail.faults.commands("smtp")
    assert any(c.startswith("MAIL FROM") for c in said) and "DATA" in said
    assert fakemail.sent() == [] and not list((fakemail.spool / "sent" / "new").iterdir())


@pytest.mark.parametrize("protocol,step,action,kw,stops_at,hint_words", [
    ("imap", "auth", "reject", {}, "log in to incoming server", "password is wrong"),
    ("imap", "tls", "untrusted", {}, "connect to incoming server", "tls.ca_file"),
    ("imap", "connect", "refuse", {}, "connect to incoming server", "dropped"),  # before TLS, as a real refusal
    ("smtp", "auth", "reject", {}, "log in to outgoing server", "password is wrong"),
    ("smtp", "tls", "untrusted", {}, "connect to outgoing server", "tls.ca_file"),
    ("smtp", "connect", "hang", {}, "connect to outgoing server", "busy"),
    ("smtp", "rcpt", "reply", {"code": 550}, "dry run of sending", "check the recipient"),
    ("smtp", "mail", "reply", {"code": 421}, "dry run of sending", "tried again"),
])
def test_each_fault_stops_at_its_step(engine: Engine, fakemail: FakeMail, protocol: str, step: str, action: str,
                                      kw: dict, stops_at: str, hint_words: str) -> None:
    fakemail.faults.add(protocol, step, action, **kw)
    engine.smtp_timeout = 1.0
    result = engine.test_credentials(timeout=3)
    assert not result["ok"]
    failed = [s for s in result["steps"] if not s["ok"]]
    assert failed[0]["name"] == stops_at, result
    assert hint_words in failed[0]["hint"], failed[0]
    assert names(result)[-1] == stops_at  # nothing after the first failure
    assert fakemail.sent() == []


def test_unknown_host_and_stopped_service(data_dir: Path, fakemail: FakeMail) -> None:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        p.settings.set("outgoing.host", "no-such-host.invalid")
        result = Engine(p).test_credentials()
        assert names(result) == ["outgoing server name"] and "not found" in result["steps"][0]["message"]
        p.settings.set("outgoing.host", "localhost")
        result = Engine(p).test_credentials()  # service not running: said apart, as information
        assert "email service running" not in names(result) and names(result)[-1] == "disconnect"
        assert result["ok"] and result["service"]["running"] is False  # the servers are what the test is about


def test_cli_json(data_dir: Path, fakemail: FakeMail) -> None:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
    out = subprocess.run([sys.executable, "-m", "engine", "test-credentials", "--json", "--data", str(data_dir)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    doc = json.loads(out.stdout)
    assert set(doc) >= {"ok", "steps"} and all(set(s) >= STEP_FIELDS for s in doc["steps"])
    assert out.returncode == 0 and doc["ok"]  # every server step passed; no service runs here, said apart
    assert doc["service"] == {"running": False, "message": "the email service is not running on this computer",
                              "hint": doc["service"]["hint"]}
