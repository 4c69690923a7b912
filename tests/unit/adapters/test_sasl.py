"""The SASL messages for a bearer token, read back by an independent parser (the fake
servers'): whatever the user name, either the message says exactly that user and token, or
the login is refused before anything is sent (a control character would inject a field)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import example, given, strategies as st

from engine.adapters.sasl import (MECHANISMS, NO_CONSENT, SIGN_IN_AGAIN, SMTP_AUTH_OFF, SignInRequired,
                                  challenge_status, choose, initial_response, refused)
from engine.errors import AuthenticationRefused
from tools.fakemail.oauth import parse_bearer

HOSTILE = st.text(st.sampled_from(list("ab@.,=é\x01\r\n\x0b\x0c\x85\u2028\u2029\u202e\x00 ")), max_size=20)


@given(user=st.one_of(st.emails(), HOSTILE), mechanism=st.sampled_from(MECHANISMS))
@example(user="a\x01auth=Bearer stolen", mechanism="XOAUTH2")
@example(user="a,=b@x.test", mechanism="OAUTHBEARER")
def test_initial_response_says_exactly_this_user_and_token(user: str, mechanism: str) -> None:
    token = "tok-123.abc_DEF"
    try:
        raw = initial_response(mechanism, user, token)
    except AuthenticationRefused as exc:
        assert exc.hint and any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 or c in "\u2028\u2029" for c in user)
        return
    assert parse_bearer(mechanism, raw) == (user, token)


def test_a_token_with_a_control_character_is_refused() -> None:
    with pytest.raises(AuthenticationRefused):
        initial_response("XOAUTH2", "a@b.test", "tok\x01user=evil")


def test_choose_takes_the_first_preference_the_server_offers() -> None:
    assert choose({"PLAIN", "OAUTHBEARER", "XOAUTH2"}, MECHANISMS) == "XOAUTH2"
    assert choose({"OAUTHBEARER"}, MECHANISMS) == "OAUTHBEARER"
    with pytest.raises(AuthenticationRefused):
        choose({"PLAIN", "LOGIN"}, MECHANISMS)


@pytest.mark.parametrize("words, hint", [
    ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.", SMTP_AUTH_OFF),
    ("535 5.7.3 Authentication unsuccessful", SIGN_IN_AGAIN),
    ("NO AUTHENTICATE failed.", SIGN_IN_AGAIN),
    ("-ERR [AUTH] Authentication failure: unknown user name or bad password.", SIGN_IN_AGAIN),
    ("invalid_grant: AADSTS65001: The user or administrator has not consented", NO_CONSENT),
])
def test_each_failure_answer_has_its_hint(words: str, hint: str) -> None:
    assert refused("outgoing", words).hint == hint


def test_the_json_challenge_is_read_and_hostile_ones_are_harmless() -> None:
    challenge = json.dumps({"status": "invalid_token", "schemes": "bearer"}).encode()
    assert challenge_status(challenge) == "invalid_token"
    assert isinstance(refused("incoming", "NO", challenge), SignInRequired)
    for junk in (b"\xff\xfe", b"[1,2]", b"{\"status\": " + b"9" * 5000 + b"}", base64.b64encode(b"x")):
        assert len(challenge_status(junk)) <= 40
