"""Behind a proxy, the server names are looked up by the proxy, not here (SOCKS5 with remote
DNS, "socks5h"; HTTP CONNECT and forwarding name the host): a practice that reaches the
internet through a proxy often has no outside DNS of its own.

The servers are named `fakemail.invalid` (tools/fakemail/tls.py), a name no resolver answers and
the fake servers' certificate covers; the proxy (pproxy, its own process) is told that it means
127.0.0.1 (tests/integration/proxying.py). A client that looks the name up itself cannot connect
at all, so each test here fails if any protocol resolves locally. The SMS provider (httpx), SMTP,
IMAP and POP3 (python-socks / our CONNECT), through both kinds of proxy."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.service.engine import Engine
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.sms import Texts
from tests.integration.helpers import configure, configure_incoming, draft
from tests.integration.proxying import RunningProxy, pproxy
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail
from tools.fakemail.tls import PROXY_ONLY_HOST

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def name_unknown_here() -> None:
    """The premise: this machine cannot look the name up (were it to, the tests would prove nothing)."""
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(PROXY_ONLY_HOST, 443)


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice, FakeClock(T0))
    e.smtp_timeout = 5
    yield e
    e.stop()


def named_by_proxy(proxy: RunningProxy, port: int) -> bool:
    """The proxy's log shows a connection onwards to the name itself (it did the lookup)."""
    return proxy.went_to(port) and any(f"{PROXY_ONLY_HOST}:{port}" in line for line in proxy.seen)


def use_proxy(practice: Practice, scheme: str, port: int) -> None:
    practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": str(port), "proxy.kind": scheme,
                                "proxy.use_for_email": "true"})


@pytest.mark.parametrize("scheme", ["socks5", "http"])
def test_the_sms_provider_is_named_to_the_proxy(practice: Practice, fakemail: FakeMail, scheme: str) -> None:
    configure_sms(practice, fakemail)
    api_port = int(fakemail.info()["sms"]["base_url"].rsplit(":", 1)[1])
    practice.settings.set("sms.api_url", f"http://{PROXY_ONLY_HOST}:{api_port}")
    with pproxy(scheme, hosts={PROXY_ONLY_HOST: "127.0.0.1"}) as proxy:
        use_proxy(practice, scheme, proxy.port)
        texts = Texts(practice, Outbox(practice.store))
        try:
            assert texts.provider().balance().amount == "10.00"
            texts.queue("P040", "Named by the proxy", T0, even_in_quiet_hours=True)
            report = texts.send_due(lambda: T0, manual=True)
        finally:
            texts.close()
        assert (report.sent, report.errors) == (1, [])
        assert named_by_proxy(proxy, api_port), proxy.seen
    assert [m["body"] for m in fakemail.sms.messages("outbound")] == ["Named by the proxy"]


@pytest.mark.parametrize("scheme", ["socks5", "http"])
@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_smtp_and_the_incoming_server_are_named_to_the_proxy(practice: Practice, engine: Engine,
                                                             fakemail: FakeMail, scheme: str, protocol: str) -> None:
    configure(practice, fakemail, "smtps")
    configure_incoming(practice, fakemail, protocol)
    practice.settings.set_many({"outgoing.host": PROXY_ONLY_HOST, "incoming.host": PROXY_ONLY_HOST})
    fakemail.deliver("practice", (b"From: pat@example.com\r\nTo: practice@example.test\r\nSubject: In\r\n"
                                  b"Message-ID: <in@p.example>\r\nDate: Tue, 24 Nov 2026 07:30:00 +0000\r\n\r\nHi\r\n"))
    with pproxy(scheme, hosts={PROXY_ONLY_HOST: "127.0.0.1"}) as proxy:
        use_proxy(practice, scheme, proxy.port)
        engine.outbox.add_draft(draft(subject="Out"), T0)
        result = engine.send_receive_now()
        assert (result["sent"], result["received"], result["errors"]) == (1, 1, []), result
        assert named_by_proxy(proxy, fakemail.ports["smtp"]["smtps"]), proxy.seen
        assert named_by_proxy(proxy, int(practice.settings.get("incoming.port"))), proxy.seen
    assert [r["subject"] for r in engine.inbox.list(show_all=True)] == ["In"]
