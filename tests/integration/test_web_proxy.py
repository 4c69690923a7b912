"""The sign-in service (OAuth discovery, token requests, refresh) and the booking-link provider
through a real proxy (pproxy, its own process), HTTP CONNECT and SOCKS5: always when
proxy.address is set, whatever proxy.use_for_email says. The proxy's log is the witness; a
proxy that is not there is named with its own hint, never its password."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine.adapters.clock import FakeClock
from engine.errors import ProxyFailed
from engine.service import signin
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from engine.service.templates import Templates
from tests.integration.helpers import draft, open_practice
from tests.integration.proxying import closed_port, pproxy
from tests.integration.test_mail_proxy import PASSWORD, use_proxy
from tests.integration.test_oauth_engine import configure_oauth, sign_in
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def signed_in(data_dir: Path, fakemail: FakeMail) -> Iterator[Practice]:
    with open_practice(data_dir) as p:
        configure_oauth(p, fakemail)
        yield p


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_sign_in_refresh_and_mail_through_the_proxy(signed_in: Practice, fakemail: FakeMail, scheme: str) -> None:
    issuer_port = urlsplit(fakemail.oauth.issuer).port
    with pproxy(scheme, f"desk:{PASSWORD}") as proxy:
        use_proxy(signed_in, scheme, proxy.port, "desk", PASSWORD)
        sign_in(signed_in, fakemail)  # discovery and the code's exchange go through the proxy
        assert proxy.went_to(issuer_port)
        assert fakemail.oauth.token_requests == ["authorization_code"]
        signin.keeper(signed_in).access_token(refresh=True)
        assert fakemail.oauth.token_requests[-1] == "refresh_token"
        engine = Engine(signed_in, FakeClock(T0))
        engine.smtp_timeout = 5
        try:
            engine.outbox.add_draft(draft(), T0)
            assert engine.send_receive_now()["sent"] == 1  # XOAUTH2 over SMTP through the proxy too
        finally:
            engine.stop()
        assert proxy.went_to(int(signed_in.settings.get("outgoing.port")))


def test_a_proxy_not_there_is_named_when_a_token_is_wanted(signed_in: Practice, fakemail: FakeMail) -> None:
    sign_in(signed_in, fakemail)  # direct
    with closed_port() as port:
        use_proxy(signed_in, "socks5", port, "desk", PASSWORD, for_email=False)
        keeper = signin.keeper(signed_in)
        assert keeper.access_token(refresh=True)  # a token still good is ridden out, as when the provider is down
        keeper.forget()
        with pytest.raises(ProxyFailed) as caught:
            keeper.access_token()
    assert f"the proxy at 127.0.0.1:{port} could not be reached" in caught.value.message
    assert "proxy.address" in caught.value.hint and PASSWORD not in caught.value.message + caught.value.hint


def booking_reminder(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    t = Templates(practice.store).get("APPTCONF")
    t.body += "\nManage your booking: {{ booking.link }}\n"
    Templates(practice.store).save(t)
    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0",
                                "booking.provider_url": f"http://127.0.0.1:{fakemail.ports['http']['control']}"})
    Reminders(practice, engine.outbox).book("P033", "2026-11-25T15:00", 30, T0)


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice, FakeClock(T0))
    e.smtp_timeout = 5
    yield e
    e.stop()


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_booking_links_through_the_proxy(practice: Practice, engine: Engine, fakemail: FakeMail, scheme: str) -> None:
    booking_reminder(practice, engine, fakemail)
    with pproxy(scheme) as proxy:
        use_proxy(practice, scheme, proxy.port, for_email=False)  # the web side goes through it anyway
        assert engine.send_receive_now()["sent"] == 0  # asked for a link; pending at the booking system
        (item,) = engine.outbox.list()
        assert item["status"] == "pending_link" and item["link_token"]
        assert proxy.went_to(fakemail.ports["http"]["control"])


def test_booking_links_when_the_proxy_is_not_there(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    booking_reminder(practice, engine, fakemail)
    with closed_port() as port:
        use_proxy(practice, "http", port, "desk", PASSWORD, for_email=False)
        engine.send_receive_now()
    (item,) = engine.outbox.list()
    assert item["status"] == "link_failed" and f"the proxy at 127.0.0.1:{port}" in item["last_error"]
    assert "proxy.address" in item["last_hint"] and PASSWORD not in item["last_error"] + item["last_hint"]
