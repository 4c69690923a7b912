"""The SMTP adapter's port rules and error translation, against real sockets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP

from engine.adapters.smtp import (CLEARTEXT_ALLOWED, IMPLICIT, STARTTLS_IF_OFFERED, STARTTLS_REQUIRED, Password,
                                  SmtpSession, SmtpSettings, tls_mode)
from engine.errors import AuthenticationRefused, ServerRejected, ServerTimeout, ServerUnreachable, TlsFailed
from tools.fakemail import FakeMail

RAW = b"From: practice@example.test\r\nTo: pat@example.com\r\nSubject: x\r\n\r\nbody\r\n"


def settings_for(fm: FakeMail, listener: str, mode: str, **kw: object) -> SmtpSettings:
    u = fm.user()
    options: dict[str, object] = {"timeout": 5.0, **kw}
    return SmtpSettings(host="localhost", port=fm.ports["smtp"][listener], mode=mode,
                        credentials=Password(u.username, u.password), ca_file=str(fm.ca_file),
                        **options)  # type: ignore[arg-type]


def test_port_rules_table() -> None:
    assert tls_mode(465, True) == IMPLICIT
    assert tls_mode(587, False) == STARTTLS_REQUIRED  # 587 is STARTTLS always
    assert tls_mode(25, True) == STARTTLS_REQUIRED and tls_mode(25, False) == CLEARTEXT_ALLOWED
    assert tls_mode(2525, False) == STARTTLS_IF_OFFERED
    assert tls_mode(2525, True, "implicit") == IMPLICIT


@pytest.mark.parametrize("listener,mode", [("smtps", IMPLICIT), ("submission", STARTTLS_REQUIRED),
                                           ("plain", STARTTLS_IF_OFFERED)])
def test_each_tls_style_sends_encrypted_with_auth(fakemail: FakeMail, listener: str, mode: str) -> None:
    with SmtpSession(settings_for(fakemail, listener, mode)) as s:
        assert s.encrypted
        s.send("practice@example.test", ["pat@example.com"], RAW)
    said = fakemail.faults.commands("smtp")
    assert any(c.startswith("AUTH") for c in said)
    assert ("STARTTLS" in said) == (mode != IMPLICIT)
    assert fakemail.wait_for_sent(1)[0]["data"] == RAW


def test_cleartext_only_when_the_user_allowed_it_on_port_25(fakemail: FakeMail) -> None:
    with SmtpSession(settings_for(fakemail, "plain", CLEARTEXT_ALLOWED)) as s:
        assert not s.encrypted
        s.send("practice@example.test", ["pat@example.com"], RAW)
    assert "STARTTLS" not in fakemail.faults.commands("smtp")


@pytest.fixture
def no_tls_server() -> Iterator[int]:
    """A server that offers neither STARTTLS nor TLS (a misconfigured provider)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    class Sink:
        async def handle_DATA(self, *a: object) -> str:
            return "250 OK"

    def run() -> None:
        server = loop.run_until_complete(loop.create_server(
            lambda: SMTP(Sink(), loop=loop, auth_require_tls=False), "127.0.0.1", 0))
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(5)
    yield port[0]
    loop.call_soon_threadsafe(loop.stop)
    t.join(5)


def test_starttls_required_but_not_offered_is_refused(no_tls_server: int) -> None:
    s = SmtpSettings(host="127.0.0.1", port=no_tls_server, mode=STARTTLS_REQUIRED, credentials=Password("u", "p"))
    with pytest.raises(TlsFailed, match="did not offer STARTTLS"):
        SmtpSession(s).open()


def test_password_never_sent_unencrypted(no_tls_server: int) -> None:
    s = SmtpSettings(host="127.0.0.1", port=no_tls_server, mode=STARTTLS_IF_OFFERED, credentials=Password("u", "p"))
    with pytest.raises(TlsFailed, match="password was not sent"):
        SmtpSession(s).open()


def test_untrusted_certificate_wrong_password_and_refused_port(fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "tls", "untrusted", times=1)
    with pytest.raises(TlsFailed) as exc:
        SmtpSession(settings_for(fakemail, "submission", STARTTLS_REQUIRED)).open()
    assert "not trusted" in exc.value.message
    fakemail.faults.add("smtp", "auth", "reject")  # smtplib tries PLAIN, then LOGIN: refuse both
    with pytest.raises(AuthenticationRefused) as auth:
        SmtpSession(settings_for(fakemail, "submission", STARTTLS_REQUIRED)).open()
    fakemail.faults.clear()
    assert "535" in auth.value.message and "password" in auth.value.hint
    closed = SmtpSettings(host="127.0.0.1", port=1, mode=STARTTLS_REQUIRED, timeout=2)
    with pytest.raises(ServerUnreachable):
        SmtpSession(closed).open()


def test_codes_keep_the_servers_words_and_a_hint(fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "data", "reply", code=552, times=1)
    with SmtpSession(settings_for(fakemail, "submission", STARTTLS_REQUIRED)) as s:
        with pytest.raises(ServerRejected) as exc:
            s.send("practice@example.test", ["pat@example.com"], RAW)
        assert exc.value.code == 552 and exc.value.permanent and "larger than your provider" in exc.value.hint
        s.send("practice@example.test", ["pat@example.com"], RAW)  # the session survives a rejection


def test_silent_server_is_a_timeout(fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "connect", "hang", times=1)
    with pytest.raises(ServerTimeout):
        SmtpSession(settings_for(fakemail, "submission", STARTTLS_REQUIRED, timeout=0.5)).open()
