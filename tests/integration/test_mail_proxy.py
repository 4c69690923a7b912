"""SMTP, IMAP and POP3 through a real proxy from the package index (pproxy, its own process):
HTTP CONNECT and SOCKS5, with and without a login, implicit TLS and STARTTLS, the certificate
still checked end to end; the proxy's own log is the witness that each connection went
through it. A proxy that is not there, refuses the login or cannot reach the server gets its
own words and hint, never its password; with proxy.use_for_email off, mail goes direct."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.adapters.connection import IncomingSettings
from engine.adapters.imap import ImapMailbox
from engine.adapters.pop3 import Pop3Mailbox
from engine.adapters.smtp import SmtpSession
from engine.errors import MailServerError, ProxyFailed, ServerUnreachable, TlsFailed
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.helpers import configure, configure_incoming, draft
from tests.integration.proxying import RunningProxy, closed_port, pproxy
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
PASSWORD = "s3cret pass:word"  # a space and a colon: quoted, never shown


def use_proxy(practice: Practice, scheme: str, port: int, user: str = "", password: str = "",
              for_email: bool = True) -> None:
    practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": str(port), "proxy.kind": scheme,
                                "proxy.user": user, "proxy.password": password,
                                "proxy.use_for_email": "true" if for_email else "false"})


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice, FakeClock(T0))
    e.smtp_timeout = 5
    yield e
    e.stop()


def incoming_port(practice: Practice) -> int:
    return int(practice.settings.get("incoming.port"))


def mail(subject: str) -> bytes:
    return (f"From: pat@example.com\r\nTo: practice@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@p.example>\r\nDate: Tue, 24 Nov 2026 07:30:00 +0000\r\n"
            "\r\nHello\r\n").encode()


# (outgoing listener, incoming protocol, incoming implicit TLS): each TLS way of each protocol
WAYS = [("submission", "imap", True), ("smtps", "pop3", True), ("smtps", "imap", False),
        ("submission", "pop3", False)]


@pytest.mark.parametrize("scheme,auth", [("http", ""), ("socks5", "desk"), ("http", "desk"), ("socks5", "")])
@pytest.mark.parametrize("listener,protocol,implicit", WAYS, ids=["-".join(map(str, w)) for w in WAYS])
def test_send_and_receive_through_the_proxy(practice: Practice, engine: Engine, fakemail: FakeMail, scheme: str,
                                            auth: str, listener: str, protocol: str, implicit: bool,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    configure(practice, fakemail, listener)
    configure_incoming(practice, fakemail, protocol, implicit)
    fakemail.deliver("practice", mail("Through the proxy"))
    with pproxy(scheme, f"{auth}:{PASSWORD}" if auth else "") as proxy:
        use_proxy(practice, scheme, proxy.port, auth, PASSWORD if auth else "")
        engine.outbox.add_draft(draft(subject="Sent through the proxy"), T0)
        result = engine.send_receive_now()
        assert (result["sent"], result["received"], result["errors"]) == (1, 1, []), result
        assert proxy.went_to(fakemail.ports["smtp"][listener]) and proxy.went_to(incoming_port(practice))
    assert [b"Subject: Sent through the proxy" in m["data"] for m in fakemail.sent()] == [True]
    assert [r["subject"] for r in engine.inbox.list(show_all=True)] == ["Through the proxy"]
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_the_setup_test_says_through_the_proxy(practice: Practice, engine: Engine, fakemail: FakeMail,
                                               scheme: str) -> None:
    configure_incoming(practice, fakemail, "imap")
    with pproxy(scheme) as proxy:
        use_proxy(practice, scheme, proxy.port)
        result = engine.test_credentials()
    assert result["ok"], result
    said = {s["name"]: s["message"] for s in result["steps"]}
    where = f"through the proxy at 127.0.0.1:{proxy.port}"
    assert where in said["connect to outgoing server"] and where in said["connect to incoming server"]
    assert f"looked up by the proxy at 127.0.0.1:{proxy.port}" in said["outgoing server name"]
    assert fakemail.sent() == []


def test_without_use_for_email_mail_goes_direct(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    with closed_port() as nothing:  # nothing listens there
        use_proxy(practice, "http", nothing, for_email=False)
        engine.outbox.add_draft(draft(), T0)
        assert engine.send_receive_now()["sent"] == 1
        said = {s["name"]: s["message"] for s in engine.test_credentials()["steps"]}
    assert "proxy" not in said["connect to outgoing server"]


def session(engine: Engine, protocol: str) -> object:
    """A session of `protocol` with the engine's settings (and so its proxy)."""
    if protocol == "smtp":
        return SmtpSession(engine.smtp_settings())
    settings: IncomingSettings = engine.incoming_settings()
    return ImapMailbox(settings) if protocol == "imap" else Pop3Mailbox(settings)


def connect(session: object) -> None:
    """TCP (through the proxy), TLS, the greeting: no login."""
    if isinstance(session, SmtpSession):
        session.open()
        session.close()
    else:
        session.connect_only()  # type: ignore[attr-defined]
        session.close()  # type: ignore[attr-defined]


def failure(engine: Engine, practice: Practice, fakemail: FakeMail, protocol: str) -> MailServerError:
    if protocol != "smtp":
        configure_incoming(practice, fakemail, protocol)
    with pytest.raises(MailServerError) as caught:
        connect(session(engine, protocol))
    return caught.value


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_proxy_that_is_not_there_gets_its_own_hint(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                     scheme: str, protocol: str) -> None:
    with closed_port() as port:
        use_proxy(practice, scheme, port, "desk", PASSWORD)
        err = failure(engine, practice, fakemail, protocol)
    assert isinstance(err, ProxyFailed) and f"the proxy at 127.0.0.1:{port} could not be reached" in err.message
    assert "proxy.address" in err.hint and "proxy.port" in err.hint
    assert PASSWORD not in err.message + err.hint and "s3cret" not in err.message + err.hint


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_refused_proxy_login_is_the_proxys_failure(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                     scheme: str, protocol: str) -> None:
    with pproxy(scheme, "desk:right") as proxy:
        use_proxy(practice, scheme, proxy.port, "desk", PASSWORD)
        err = failure(engine, practice, fakemail, protocol)
    assert isinstance(err, ProxyFailed) and f"the proxy at 127.0.0.1:{proxy.port}" in err.message
    assert "proxy.password" in err.hint  # HTTP says 407; pproxy's SOCKS5 just closes: both name the login
    assert PASSWORD not in err.message + err.hint


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_server_the_proxy_cannot_reach(practice: Practice, engine: Engine, fakemail: FakeMail, scheme: str,
                                         protocol: str) -> None:
    if protocol != "smtp":
        configure_incoming(practice, fakemail, protocol)
    with closed_port() as closed, pproxy(scheme) as proxy:
        practice.settings.set_many({"outgoing.port" if protocol == "smtp" else "incoming.port": str(closed)})
        use_proxy(practice, scheme, proxy.port)
        with pytest.raises(ProxyFailed) as caught:
            connect(session(engine, protocol))
    assert f"127.0.0.1:{proxy.port}" in caught.value.message
    assert f"localhost:{closed}" in caught.value.hint and "server name and port" in caught.value.hint


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_the_certificate_is_still_checked_through_the_tunnel(practice: Practice, engine: Engine,
                                                             fakemail: FakeMail, scheme: str, protocol: str) -> None:
    fakemail.faults.add(protocol, "tls", "untrusted")
    with pproxy(scheme) as proxy:
        use_proxy(practice, scheme, proxy.port)
        err = failure(engine, practice, fakemail, protocol)
        assert proxy.went_to(fakemail.ports["smtp"]["submission"] if protocol == "smtp" else incoming_port(practice))
    assert isinstance(err, TlsFailed) and "not trusted" in err.message and "tls.ca_file" in err.hint


@pytest.mark.parametrize("through", [False, True], ids=["direct", "proxied"])
def test_a_pop3_server_closing_before_its_greeting(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                   through: bool) -> None:
    """poplib says "-ERR EOF" for a closed line: that is a dropped connection (through a proxy,
    the proxy's failure to reach the server), not the server's own words."""
    configure_incoming(practice, fakemail, "pop3", implicit=False)  # STARTTLS: the close comes before any TLS
    fakemail.faults.add("pop3", "connect", "refuse")
    with pproxy("socks5") as proxy:
        if through:
            use_proxy(practice, "socks5", proxy.port)
        with pytest.raises(MailServerError) as caught:
            connect(session(engine, "pop3"))
    err = caught.value
    assert type(err) is (ProxyFailed if through else ServerUnreachable), err
    assert "closed the connection" in err.message and "-ERR" not in err.message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_stop_cuts_a_fetch_hanging_through_the_proxy(practice: Practice, fakemail: FakeMail, protocol: str) -> None:
    """stop() shuts the tunnelled socket down as it would a direct one: the worker ends at once."""
    import threading

    configure_incoming(practice, fakemail, protocol)
    fakemail.deliver("practice", mail("Half a message"))
    hanging = threading.Event()
    take = fakemail.faults.take

    def noticing(proto: str, step: str, session: int = 0):  # noqa: ANN202
        fault = take(proto, step, session)
        if fault is not None and step == "fetch":
            hanging.set()
        return fault

    fakemail.faults.take = noticing  # type: ignore[method-assign]
    fakemail.faults.add(protocol, "fetch", "hang", times=1)
    with pproxy("http") as proxy:
        use_proxy(practice, "http", proxy.port)
        engine = Engine(practice, FakeClock(T0))
        engine.smtp_timeout = 60
        engine.start()
        threading.Thread(target=lambda: engine.send_receive_now(timeout=30), daemon=True).start()
        assert hanging.wait(10)
        worker = engine._thread  # noqa: SLF001
        engine.stop()
        assert worker is not None and not worker.is_alive()
        assert proxy.went_to(incoming_port(practice))
