"""The wired engine on a signed-in account: the real worker's passes, the fake servers' own
records as the witness."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.clock import FakeClock
from engine.adapters.sasl import SIGN_IN_AGAIN
from engine.core.status import derive
from engine.service import signin
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.helpers import configure, draft, open_practice
from tests.integration.oauth_helpers import browser_for, oauth_config, post_form
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def configure_oauth(practice: Practice, fm: FakeMail) -> None:
    configure(practice, fm)
    practice.settings.set_many({"outgoing.auth": "oauth2", "incoming.auth": "oauth2", "oauth.provider": "custom",
                                "oauth.issuer": fm.oauth.issuer, "oauth.client_id": "practicemail-test",
                                "account.username": fm.user().address, "account.password": ""})


def sign_in(practice: Practice, fm: FakeMail) -> None:
    open_browser, errors = browser_for(fm)
    signin.sign_in(practice, open_browser=open_browser, timeout=20)
    assert not errors


@pytest.fixture
def practice(data_dir: Path, fakemail: FakeMail) -> Iterator[Practice]:
    with open_practice(data_dir) as p:
        configure_oauth(p, fakemail)
        yield p


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice, FakeClock(T0))
    e.smtp_timeout = 5.0
    yield e
    e.stop()


def test_settings_accept_the_old_bool_and_the_new_words(practice: Practice) -> None:
    for typed, stored in (("true", True), ("no", False), ("password", True), ("oauth2", "oauth2")):
        practice.settings.set_many({"outgoing.auth": typed})
        assert practice.settings.get("outgoing.auth") == stored


def test_many_items_go_out_once_each_while_tokens_expire(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    """Tokens live one second and sessions end when theirs expires: every item still goes out
    exactly once, by a sequence of refreshed sign-ins."""
    sign_in(practice, fakemail)
    oauth_config(fakemail, access_lifetime=1, end_sessions_on_expiry=True)
    post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
    n = 100
    for i in range(n):
        engine.outbox.add_draft(draft(subject=f"Item {i}"), engine.clock.now())
    for _ in range(60):
        engine.send_receive_now()
        if len(fakemail.sent()) >= n:
            break
    subjects = Counter(m["data"].split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for m in fakemail.sent())
    assert len(subjects) == n and set(subjects.values()) == {1}
    assert fakemail.oauth.token_requests.count("refresh_token") >= 1


def test_invalid_grant_holds_the_mail_then_sign_in_again_sends_it(practice: Practice, engine: Engine,
                                                                  fakemail: FakeMail) -> None:
    sign_in(practice, fakemail)
    post_form(f"{fakemail.oauth.issuer}/oauth/revoke", {"token": signin.sign_in_file(practice).load()})
    post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
    signin.keeper(practice).forget()
    rid = engine.outbox.add_draft(draft(subject="Held"), engine.clock.now())
    engine.send_receive_now()
    light = derive(engine.heartbeat.record(), engine.clock.now(), engine.heartbeat.setup())
    assert light["state"] == "failing" and light["hint"] == SIGN_IN_AGAIN
    assert light["action"] == "sign_in"  # the kiosk's light offers "Sign in again" (tests/gui/test_signin_page.py)
    assert engine.outbox.get(rid)["status"] != "sent" and fakemail.sent() == []
    sign_in(practice, fakemail)
    engine.send_receive_now()
    assert engine.outbox.get(rid)["status"] == "sent" and len(fakemail.sent()) == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_intake_while_tokens_expire_mid_session(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                protocol: str) -> None:
    """Sessions end when their token expires (Exchange Online's BYE AccessTokenExpired): every
    message still arrives exactly once over the passes that follow, each on a refreshed token."""
    from tests.integration.helpers import configure_incoming

    configure_incoming(practice, fakemail, protocol)
    sign_in(practice, fakemail)
    n = 100
    for i in range(n):
        fakemail.deliver("practice", f"From: pat{i}@example.com\r\nTo: practice@example.test\r\n"
                                     f"Subject: Reply {i}\r\nMessage-ID: <r{i}@example.com>\r\n\r\nThanks.\r\n".encode())
    oauth_config(fakemail, end_sessions_on_expiry=True)
    fakemail.faults.add(protocol, "fetch", "drop", times=1)  # a pass that dies halfway, then...
    post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})  # ...every token in hand is dead
    for _ in range(10):
        engine.send_receive_now()
        if len(engine.inbox.list(show_all=True)) >= n:
            break
    subjects = Counter(r["subject"] for r in engine.inbox.list(show_all=True))
    assert len(subjects) == n and set(subjects.values()) == {1}
    assert fakemail.oauth.token_requests.count("refresh_token") >= 1


def test_smtp_and_pop3_sessions_end_when_their_token_expires(practice: Practice, fakemail: FakeMail) -> None:
    from engine.adapters.incoming import Pop3Mailbox
    from engine.adapters.smtp import SmtpSession
    from engine.errors import MailServerError

    sign_in(practice, fakemail)
    oauth_config(fakemail, end_sessions_on_expiry=True)
    engine = Engine(practice, FakeClock(T0))
    with SmtpSession(engine.smtp_settings()) as session:
        post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
        with pytest.raises(MailServerError, match="421"):
            session.send("practice@example.test", ["pat@example.com"], b"Subject: x\r\n\r\nx\r\n")
    from tests.integration.helpers import configure_incoming

    configure_incoming(practice, fakemail, "pop3")
    signin.keeper(practice).forget()
    with Pop3Mailbox(engine.incoming_settings()) as pop:
        post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
        with pytest.raises(MailServerError, match="expired"):
            pop.uidls()
    assert fakemail.sent() == []


def test_the_light_names_microsoft_when_its_sign_in_is_gone(practice: Practice, engine: Engine) -> None:
    """A Microsoft 365 account never signed in (or signed out): amber, "Sign in to Microsoft
    again", the mail held. (No request leaves the machine: there is no token to send.)"""
    practice.settings.set_many({"oauth.provider": "microsoft", "oauth.tenant": "contoso.onmicrosoft.com"})
    rid = engine.outbox.add_draft(draft(subject="Held"), engine.clock.now())
    engine.send_receive_now()
    light = derive(engine.heartbeat.record(), engine.clock.now(), engine.heartbeat.setup())
    assert light["state"] == "failing" and light["hint"].startswith("Sign in to Microsoft again")
    assert engine.outbox.get(rid)["status"] == "ready"
