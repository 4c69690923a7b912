"""What an OAuth provider's token endpoint says when it refuses (`error`, `error_description`)
is a server's words: the real OAuth library (authlib) hands them over as any JSON value, of any
length, with any characters. Through the untrusted-text door (engine/core/outside.py) they reach
the person, the logs and the store as one bounded line: no line end of any kind, no control or
bidi mark, no lone surrogate (no store can write one), encoded words left as written, and never
a crash that is not a sign-in error a person can act on. The fake authorization server in
tools/fakemail plays the hostile server over a real socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.adapters.oauth import TokenKeeper, poll_device, start_device
from engine.adapters.sasl import refused
from engine.errors import AuthenticationRefused, PracticeMailError
from tests.integration.test_oauth_signin import signed_in
from tools.fakemail import FakeMail

NOT_IN_A_LINE = set("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                    "\u2066\u2067\u2068\u2069\x00\x1b\x7f")
# (error, error_description) as a hostile server writes them into its JSON (escapes as sent)
HOSTILE = {
    "crlf": ('"invalid_grant"', '"expired\\r\\nBcc: someone@evil.example\\r\\n\\r\\nbody"'),
    "bidi": ('"invalid_grant"', '"token \\u202egnp.exe\\u202c and \\u2066isolate\\u2069 \\u200fmark"'),
    "unicode line ends": ('"invalid\\u2028grant"', '"one\\u2028two\\u2029three\\u0085four\\u000bfive"'),
    "huge": ('"' + "e" * 100_000 + '"', '"' + "d" * 1_000_000 + '"'),
    "encoded words": ('"invalid_grant"', '"=?utf-8?q?Sign_in=0D=0ABcc:_x@evil.example?= =?utf-8?b?4oCu?="'),
    "lone surrogates": ('"invalid_grant\\udc80"', '"late \\udc80\\udcff sorry \\ud83d"'),
    "not text": ("17", "[1, {\"a\": null}]"),
    "number description": ('"consent_required"', "5"),
    "null": ("null", "null"),
    "escape sequence": ('"invalid_grant"', '"\\u001b[31mred\\u001b[0m \\u0000nul"'),
}


def one_safe_line(text: str) -> None:
    assert not NOT_IN_A_LINE & set(text), repr(text[:300])
    text.encode("utf-8")  # no lone surrogate: every store can write it
    assert len(text) < 400


@pytest.fixture
def keeper(fakemail: FakeMail, tmp_path: Path) -> TokenKeeper:
    return signed_in(fakemail, tmp_path)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_refresh_refused_in_hostile_words_is_one_safe_line(fakemail: FakeMail, keeper: TokenKeeper,
                                                             case: str) -> None:
    error, description = HOSTILE[case]
    doc = f'{{"error": {error}, "error_description": {description}}}'
    json.loads(doc)  # valid JSON, as the library reads it
    fakemail.faults.add("http", "token", "reply", code=400, text=doc, times=1)
    keeper._expires_at = 0.0  # noqa: SLF001 - the token in hand has run out: an error not ridden out is shown
    with pytest.raises(PracticeMailError) as caught:  # sign in again, or the sign-in service's trouble
        keeper.access_token()
    exc = caught.value
    one_safe_line(exc.message)
    one_safe_line(exc.hint)
    if case == "encoded words":
        assert "=?utf-8?q?Sign_in=0D=0ABcc:_x@evil.example?=" in exc.message  # shown as written, not decoded
    if case == "crlf":
        assert "expired Bcc: someone@evil.example" in exc.message.replace("  ", " ")


@pytest.mark.parametrize("case", ["crlf", "bidi", "huge", "lone surrogates", "not text"])
def test_a_device_sign_in_refused_in_hostile_words_is_one_safe_line(fakemail: FakeMail, keeper: TokenKeeper,
                                                                     case: str) -> None:
    device = start_device(keeper.endpoints, keeper.client)
    one_safe_line(device.user_code)
    one_safe_line(device.verification_uri)
    error, description = HOSTILE[case]
    fakemail.faults.add("http", "token", "reply", code=400, times=1,
                        text=f'{{"error": {error}, "error_description": {description}}}')
    with pytest.raises(AuthenticationRefused) as caught:
        poll_device(keeper.endpoints, keeper.client, device, lambda seconds: False)
    one_safe_line(caught.value.message)


def test_a_mail_servers_oauth_refusal_is_one_safe_line() -> None:
    """The XOAUTH2/OAUTHBEARER error challenge (its JSON `status`) and the server's reply words."""
    challenge = json.dumps({"status": "invalid_token\r\n\u202eX\udc80" + "s" * 5000, "schemes": "bearer"}).encode()
    exc = refused("incoming", "-ERR no\r\nway \u2028 \u202e" + "w" * 10_000, challenge)
    one_safe_line(exc.message)
