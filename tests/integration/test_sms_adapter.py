"""The Twilio adapter against the fake over a real socket: the provider's failures become
engine errors with hints, and what the provider says reaches a person as one clean line."""

from __future__ import annotations

import pytest

from engine.adapters.sms import SmsSettings, TwilioProvider, provider_for
from engine.errors import SmsAccountRefused, SmsNotSetUp, SmsRefused, SmsUnreachable
from tests.ports import closed_port
from tools.fakemail import FakeMail


def settings(fm: FakeMail, **kw: str) -> SmsSettings:
    info = fm.info()["sms"]
    base = dict(provider="twilio", account=info["account_sid"], secret=info["auth_token"], sender=info["number"],
                api_url=info["base_url"], timeout=5.0)
    return SmsSettings(**{**base, **kw})


def test_wrong_secret_is_an_account_error_with_its_hint(fakemail: FakeMail) -> None:
    with pytest.raises(SmsAccountRefused) as caught:
        TwilioProvider(settings(fakemail, secret="nope")).balance()
    assert "account ID or secret" in caught.value.hint


def test_nobody_listening_is_unreachable(fakemail: FakeMail) -> None:
    with closed_port() as port, pytest.raises(SmsUnreachable):
        TwilioProvider(settings(fakemail, api_url=f"http://127.0.0.1:{port}")).balance()


def test_not_the_api_is_unreachable_not_a_crash(fakemail: FakeMail) -> None:
    with pytest.raises(SmsUnreachable, match="not its API"):
        TwilioProvider(settings(fakemail, api_url=f"http://127.0.0.1:{fakemail.info()['http']}/nothing")).balance()


def test_provider_words_made_one_clean_line(fakemail: FakeMail) -> None:
    fakemail.faults.add("http", "sms", "reply", code=400, text="bad\r\nX-Injected: 1\u202e\u2028number", times=1)
    with pytest.raises(SmsRefused) as caught:
        TwilioProvider(settings(fakemail)).send("+447700900041", "Hi")
    assert "\n" not in caught.value.message and "\u202e" not in caught.value.message
    assert "bad" in caught.value.message and "number" in caught.value.message


def test_none_and_missing_account_say_how_to_set_up(fakemail: FakeMail) -> None:
    with pytest.raises(SmsNotSetUp):
        provider_for(settings(fakemail, provider="none")).balance()
    with pytest.raises(SmsNotSetUp):
        TwilioProvider(settings(fakemail, account=""))
