"""Sign-in by authorization code + PKCE (the test plays the browser) and by device code, then
SMTP, IMAP and POP3 with XOAUTH2 and OAUTHBEARER, against the bundled servers' own
authorization server (real sockets throughout)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.adapters.incoming import ImapMailbox, IncomingSettings, Pop3Mailbox
from engine.adapters.oauth import (Client, SignInCancelled, TokenKeeper, discover, poll_device, sign_in_browser,
                                   start_device)
from engine.adapters.oauth_store import SignInFile
from engine.adapters.sasl import OAuth2Login
from engine.adapters.secrets import SecretBox
from engine.adapters.smtp import SmtpSession, SmtpSettings
from engine.errors import AuthenticationRefused
from tests.integration.oauth_helpers import browse, browser_for, oauth_config, post_form

RAW = b"From: practice@example.test\r\nTo: pat@example.com\r\nSubject: hello\r\n\r\nSee you soon.\r\n"
CLIENT = Client("practicemail-test", ("mail", "offline_access"), timeout=10)


def keeper_for(fm, tmp_path: Path, tokens) -> TokenKeeper:  # noqa: ANN001
    box = SecretBox(tmp_path / "data", create=True)
    keeper = TokenKeeper(discover(fm.oauth.issuer), CLIENT, SignInFile(tmp_path, box))
    keeper.adopt(tokens)
    return keeper


def signed_in(fm, tmp_path: Path) -> TokenKeeper:  # noqa: ANN001
    open_browser, errors = browser_for(fm)
    tokens = sign_in_browser(discover(fm.oauth.issuer), CLIENT, open_browser=open_browser, timeout=20)
    assert not errors
    return keeper_for(fm, tmp_path, tokens)


def smtp_send(fm, login: OAuth2Login) -> None:  # noqa: ANN001
    settings = SmtpSettings("localhost", fm.ports["smtp"]["submission"], credentials=login, ca_file=str(fm.ca_file),
                            timeout=10)
    with SmtpSession(settings) as session:
        session.send("practice@example.test", ["pat@example.com"], RAW)


def incoming(fm, protocol: str, login: OAuth2Login) -> IncomingSettings:  # noqa: ANN001
    port = fm.ports[protocol]["imaps" if protocol == "imap" else "pop3s"]
    return IncomingSettings(protocol, "localhost", port, "implicit", login, ca_file=str(fm.ca_file), timeout=10)


def test_discovery_reads_rfc8414_metadata(fakemail) -> None:  # noqa: ANN001
    endpoints = discover(fakemail.oauth.issuer)
    assert endpoints.token.endswith("/oauth/token") and endpoints.device.endswith("/oauth/devicecode")


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_code_with_pkce_then_send_and_receive_on_all_three(fakemail, tmp_path: Path, mechanism: str) -> None:  # noqa: ANN001
    keeper = signed_in(fakemail, tmp_path)
    user = fakemail.user()
    login = OAuth2Login(user.address, keeper, (mechanism,))
    smtp_send(fakemail, login)
    assert len(fakemail.sent()) == 1
    assert f"AUTH {mechanism} ***" in fakemail.faults.commands("smtp")
    fakemail.deliver(user.username, RAW)
    with ImapMailbox(incoming(fakemail, "imap", login)) as box:
        assert len(box.uids_after(0)) == 1
    with Pop3Mailbox(incoming(fakemail, "pop3", login)) as pop:
        assert len(pop.uidls()) == 1
    assert fakemail.oauth.token_requests == ["authorization_code"]  # the token in memory served all


def test_the_returned_state_is_checked(fakemail) -> None:  # noqa: ANN001
    open_browser, _ = browser_for(fakemail, tamper=lambda f: f.update(state="forged"))
    with pytest.raises(AuthenticationRefused, match="state"):
        sign_in_browser(discover(fakemail.oauth.issuer), CLIENT, open_browser=open_browser, timeout=20)


def test_the_server_verifies_pkce(fakemail) -> None:  # noqa: ANN001
    """A code is worth nothing without the verifier whose challenge the sign-in sent."""
    oauth_config(fakemail, auto_approve=True)
    import urllib.parse
    import urllib.request

    redirect = "http://127.0.0.1:9/"
    query = urllib.parse.urlencode({"client_id": "c", "redirect_uri": redirect, "response_type": "code",
                                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                                    "code_challenge_method": "S256", "state": "s"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{fakemail.oauth.issuer}/oauth/authorize?{query}", timeout=10)
    except urllib.error.HTTPError as exc:
        location = exc.headers["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    token = f"{fakemail.oauth.issuer}/oauth/token"
    status, doc = post_form(token, {"grant_type": "authorization_code", "code": code, "client_id": "c",
                                    "redirect_uri": redirect, "code_verifier": "not-the-verifier"})
    assert (status, doc["error"]) == (400, "invalid_grant")


def test_declined_consent_is_a_cancelled_sign_in(fakemail) -> None:  # noqa: ANN001
    open_browser, _ = browser_for(fakemail, decision="decline")
    with pytest.raises(SignInCancelled):
        sign_in_browser(discover(fakemail.oauth.issuer), CLIENT, open_browser=open_browser, timeout=20)


def test_cancel_closes_the_listener(fakemail) -> None:  # noqa: ANN001
    cancel = threading.Event()
    with pytest.raises(SignInCancelled):
        sign_in_browser(discover(fakemail.oauth.issuer), CLIENT, open_browser=lambda url: cancel.set(), cancel=cancel)


def test_device_code_polls_at_the_interval_and_honours_slow_down(fakemail, tmp_path: Path) -> None:  # noqa: ANN001
    oauth_config(fakemail, device_interval=0)
    endpoints = discover(fakemail.oauth.issuer)
    device = start_device(endpoints, CLIENT)
    assert device.verification_uri.endswith("/oauth/device") and device.user_code in device.verification_uri_complete
    fakemail.faults.add("http", "token", "reply", code=400, text="slow_down", times=1)
    waits: list[float] = []
    user = fakemail.user()

    def wait(seconds: float) -> bool:
        """The person finishes on their phone during the third wait."""
        waits.append(seconds)
        if len(waits) == 3:
            page = browse(device.verification_uri_complete, user.username, user.password)
            assert "signed in" in page.lower()
        return False

    tokens = poll_device(endpoints, CLIENT, device, wait)
    assert waits == [0.0, 5.0, 5.0]  # slow_down: five seconds more, from then on
    keeper = keeper_for(fakemail, tmp_path, tokens)
    smtp_send(fakemail, OAuth2Login(user.address, keeper))
    assert len(fakemail.sent()) == 1


def test_device_code_cancel(fakemail) -> None:  # noqa: ANN001
    endpoints = discover(fakemail.oauth.issuer)
    device = start_device(endpoints, CLIENT)
    with pytest.raises(SignInCancelled):
        poll_device(endpoints, CLIENT, device, lambda seconds: True)
