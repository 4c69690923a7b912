"""The SMS provider reached through a real proxy from the package index (pproxy, run as its
own process): HTTP and SOCKS5, with and without a password; the proxy's own log is the
witness that the traffic went through it; a proxy that is not there gets its own hint."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from engine.errors import SmsUnreachable
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.sms import Texts
from tests.integration.proxying import closed_port, serving_port
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@contextmanager
def pproxy(scheme: str, auth: str = "") -> Iterator[tuple[int, "queue.Queue[str]"]]:
    """pproxy listening on a port of its choosing; yields the port and its log lines (read by a thread)."""
    listen = f"{scheme}://127.0.0.1:0" + (f"#{auth}" if auth else "")
    proc = subprocess.Popen([sys.executable, "-m", "pproxy", "-l", listen, "-v"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    try:
        assert proc.stdout is not None
        port = serving_port(proc.stdout.readline())  # "Serving on ... by http": ready, no sleeping
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        yield port, lines
    finally:
        proc.terminate()
        proc.wait(10)


def went_through(lines: "queue.Queue[str]", target_port: int) -> bool:
    while True:
        try:
            line = lines.get(timeout=10)  # a guard against a hang, not a wait for the engine
        except queue.Empty:
            return False
        if f":{target_port}" in line:
            return True


@pytest.mark.parametrize("scheme,auth", [("http", ""), ("socks5", ""), ("http", "desk:s3cret pass"),
                                         ("socks5", "desk:s3cret")])
def test_balance_and_a_text_through_the_proxy(practice: Practice, fakemail: FakeMail, scheme: str,
                                              auth: str) -> None:
    configure_sms(practice, fakemail)
    api_port = int(fakemail.info()["sms"]["base_url"].rsplit(":", 1)[1])
    with pproxy(scheme, auth) as (port, lines):
        user, _, password = auth.partition(":")
        practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": str(port), "proxy.kind": scheme,
                                    "proxy.user": user, "proxy.password": password})
        texts = Texts(practice, Outbox(practice.store))
        try:
            assert texts.provider().balance().amount == "10.00"
            texts.queue("P040", "Through the proxy", T0, even_in_quiet_hours=True)
            assert texts.send_due(lambda: T0, manual=True).sent == 1
        finally:
            texts.close()
        assert went_through(lines, api_port)
    assert [m["body"] for m in fakemail.sms.messages("outbound")] == ["Through the proxy"]


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_proxy_not_there_gets_its_own_hint(practice: Practice, fakemail: FakeMail, scheme: str) -> None:
    configure_sms(practice, fakemail)
    with closed_port() as nothing, pytest.raises(SmsUnreachable) as caught:
        practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": str(nothing), "proxy.kind": scheme,
                                    "proxy.user": "desk", "proxy.password": "s3cret"})
        Texts(practice, Outbox(practice.store)).provider().balance()
    assert "proxy" in caught.value.message and "proxy.address" in caught.value.hint
    assert "s3cret" not in caught.value.message + caught.value.hint  # never the password


def test_wrong_proxy_password_is_a_proxy_failure(practice: Practice, fakemail: FakeMail) -> None:
    configure_sms(practice, fakemail)
    with pproxy("socks5", "desk:right") as (port, _):
        practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": str(port), "proxy.kind": "socks5",
                                    "proxy.user": "desk", "proxy.password": "wrong"})
        texts = Texts(practice, Outbox(practice.store))
        with pytest.raises(SmsUnreachable) as caught:
            texts.provider().balance()
    assert "proxy" in caught.value.message
