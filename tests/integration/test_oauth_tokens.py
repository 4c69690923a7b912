"""The token keeper and the providers' failure answers, against the bundled servers."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from engine.adapters.incoming import ImapMailbox, Pop3Mailbox
from engine.adapters.oauth import TokenKeeper
from engine.adapters.oauth_store import SignInFile
from engine.adapters.sasl import NO_CONSENT, SIGN_IN_AGAIN, SMTP_AUTH_OFF, OAuth2Login, SignInRequired
from engine.errors import AuthenticationRefused, MailServerError, ServerUnreachable
from tests.integration.oauth_helpers import oauth_config, post_form
from tests.integration.test_oauth_signin import RAW, incoming, signed_in, smtp_send


@pytest.fixture
def keeper(fakemail, tmp_path: Path) -> TokenKeeper:  # noqa: ANN001
    return signed_in(fakemail, tmp_path)


def login(fakemail, keeper: TokenKeeper, mechanism: str = "XOAUTH2") -> OAuth2Login:  # noqa: ANN001
    return OAuth2Login(fakemail.user().address, keeper, (mechanism,))


def test_smtp_auth_disabled_for_the_mailbox(fakemail, keeper: TokenKeeper) -> None:  # noqa: ANN001
    oauth_config(fakemail, smtp_auth_disabled=["practice"])
    with pytest.raises(AuthenticationRefused, match="5.7.139") as caught:
        smtp_send(fakemail, login(fakemail, keeper))
    assert caught.value.hint == SMTP_AUTH_OFF
    assert fakemail.sent() == []


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_a_refused_token_is_refreshed_once_then_sign_in_again(fakemail, keeper, protocol: str,  # noqa: ANN001
                                                               mechanism: str) -> None:
    """The provider refuses the token twice (its JSON challenge, then 535 / NO / -ERR): one
    fresh token is tried, then the error says to sign in again."""
    fakemail.faults.add(protocol, "auth", "reject", times=2)
    with pytest.raises(SignInRequired) as caught:
        if protocol == "smtp":
            smtp_send(fakemail, login(fakemail, keeper, mechanism))
        else:
            box = (ImapMailbox if protocol == "imap" else Pop3Mailbox)(incoming(fakemail, protocol, login(fakemail, keeper, mechanism)))
            with box:
                pass
    assert caught.value.hint == SIGN_IN_AGAIN
    assert keeper.refreshes == 1


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3"])
def test_a_token_revoked_early_is_replaced_without_fuss(fakemail, keeper, protocol: str) -> None:  # noqa: ANN001
    fakemail.faults.add(protocol, "auth", "reject", times=1)
    if protocol == "smtp":
        smtp_send(fakemail, login(fakemail, keeper))
        assert len(fakemail.sent()) == 1
    else:
        box = (ImapMailbox if protocol == "imap" else Pop3Mailbox)(incoming(fakemail, protocol, login(fakemail, keeper)))
        with box:
            pass
    assert keeper.refreshes == 1


def test_invalid_grant_means_sign_in_again(fakemail, keeper) -> None:  # noqa: ANN001
    status, _ = post_form(f"{fakemail.oauth.issuer}/oauth/revoke", {"token": keeper.store.load()})
    assert status == 200
    with pytest.raises(SignInRequired) as caught:
        keeper.access_token(refresh=True)
    assert caught.value.hint == SIGN_IN_AGAIN


def test_consent_withdrawn_names_the_admin(fakemail, keeper) -> None:  # noqa: ANN001
    oauth_config(fakemail, consent_missing=True)
    with pytest.raises(AuthenticationRefused) as caught:
        keeper.access_token(refresh=True)
    assert caught.value.hint == NO_CONSENT


def test_token_endpoint_down_rides_out_on_the_current_token(fakemail, keeper) -> None:  # noqa: ANN001
    current = keeper.access_token()
    fakemail.faults.add("http", "token", "reply", code=503)
    assert keeper.access_token(refresh=True) == current  # still good: used
    keeper._expires_at = 0.0  # noqa: SLF001 - the token in hand has now run out
    with pytest.raises(ServerUnreachable):
        keeper.access_token()


def test_one_refresh_at_a_time(fakemail, keeper) -> None:  # noqa: ANN001
    """Eight threads find the token expired at once: one refresh; all use its token."""
    fakemail.faults.add("http", "token", "delay", seconds=0.3, times=1)
    keeper._expires_at = 0.0  # noqa: SLF001
    before = len(fakemail.oauth.token_requests)
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(keeper.access_token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(got)) == 1 and len(got) == 8
    assert fakemail.oauth.token_requests[before:] == ["refresh_token"]


def test_rotation_is_saved_before_use_and_the_old_token_survives_until_then(fakemail, keeper, tmp_path) -> None:  # noqa: ANN001
    first = keeper.store.load()
    keeper.access_token(refresh=True)
    second = keeper.store.load()
    assert second and second != first
    # a process killed after the provider answered and before saving still holds `first`: it works
    status, doc = post_form(fakemail.oauth.metadata()["token_endpoint"],
                            {"grant_type": "refresh_token", "refresh_token": first, "client_id": "practicemail-test"})
    assert status == 200 and doc["access_token"]


def test_an_imap_session_ends_when_its_token_expires(fakemail, keeper) -> None:  # noqa: ANN001
    oauth_config(fakemail, end_sessions_on_expiry=True)
    fakemail.deliver("practice", RAW)
    with ImapMailbox(incoming(fakemail, "imap", login(fakemail, keeper))) as box:
        post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
        with pytest.raises(MailServerError):
            box.uids_after(0)


def test_tokens_are_never_in_logs_transcript_or_the_file(fakemail, keeper, tmp_path, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    keeper.access_token(refresh=True)
    refresh, access = keeper.store.load(), keeper.access_token()
    smtp_send(fakemail, login(fakemail, keeper))
    fakemail.faults.add("http", "token", "reply", code=503, times=1)
    keeper.access_token(refresh=True)
    transcript = json.dumps([e.text for e in fakemail.faults.transcript])
    on_disk = (tmp_path / "oauth-signin.json").read_text()
    for secret in (refresh, access):
        assert secret not in transcript and secret not in caplog.text and secret not in on_disk
    assert json.loads(on_disk)["refresh_token"].startswith("fernet:")
    assert oct((tmp_path / "oauth-signin.json").stat().st_mode & 0o777) == "0o600"


def test_sign_in_file_summary_says_who_and_when_not_the_token(tmp_path) -> None:  # noqa: ANN001
    from engine.adapters.secrets import SecretBox

    store = SignInFile(tmp_path, SecretBox(tmp_path / "d", create=True))
    assert store.summary()["signed_in"] is False
    store.save("r-123456", account="practice@example.test")
    summary = store.summary()
    assert summary["signed_in"] and summary["account"] == "practice@example.test" and summary["refreshed_at"]
    assert "r-123456" not in json.dumps(summary)
    store.save("")
    assert store.load() == "" and store.summary()["signed_in"] is False


def test_a_down_token_endpoint_is_retried_with_backoff_while_the_token_is_good(fakemail, keeper) -> None:  # noqa: ANN001
    """Inside the refresh margin with the endpoint down: one attempt, then the good token is
    used without asking again on every login until the backoff has passed."""
    import time

    current = keeper.access_token()
    fakemail.faults.add("http", "token", "reply", code=503)
    keeper._expires_at = time.time() + 60  # noqa: SLF001 - due for refresh (margin 120 s), still good
    before = fakemail.oauth.token_requests.count("refresh_token")
    assert all(keeper.access_token() == current for _ in range(5))
    assert fakemail.oauth.token_requests.count("refresh_token") - before == 1


CRASH = """
import os, signal, sys
from pathlib import Path
from engine.adapters.oauth import Client, TokenKeeper, discover
from engine.adapters.oauth_store import SignInFile
from engine.adapters.secrets import SecretBox

class KilledBeforeSaving(SignInFile):
    def save(self, *args, **kw):  # the provider has answered with a rotated token: die right here
        os.kill(os.getpid(), signal.SIGKILL)

folder = Path(sys.argv[1])
store = KilledBeforeSaving(folder, SecretBox(folder / "data", create=False))
TokenKeeper(discover(sys.argv[2]), Client("practicemail-test", ("mail", "offline_access")), store).access_token(refresh=True)
"""


def test_sigkill_between_receiving_and_saving_a_rotated_token_still_signs_in(fakemail, keeper, tmp_path) -> None:  # noqa: ANN001
    import signal
    import subprocess
    import sys

    from engine.adapters.oauth import discover
    from engine.adapters.secrets import SecretBox
    from tests.integration.test_oauth_signin import CLIENT

    saved = keeper.store.load()
    before = fakemail.oauth.token_requests.count("refresh_token")
    done = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path), fakemail.oauth.issuer], timeout=60,
                          capture_output=True)
    assert done.returncode == -signal.SIGKILL
    assert fakemail.oauth.token_requests.count("refresh_token") == before + 1  # rotated at the provider
    store = SignInFile(tmp_path, SecretBox(tmp_path / "data", create=False))
    assert store.load() == saved  # the file still has the old one, whole
    restarted = TokenKeeper(discover(fakemail.oauth.issuer), CLIENT, store)
    smtp_send(fakemail, login(fakemail, restarted))  # the next start still signs in
    assert len(fakemail.sent()) == 1 and store.load() != saved


def test_a_non_ascii_account_name_is_a_login_error_not_a_crash(fakemail, keeper) -> None:  # noqa: ANN001
    """smtplib sends SASL responses as ASCII: an internationalised account name cannot go, and
    says so with a hint instead of escaping as UnicodeEncodeError."""
    with pytest.raises(AuthenticationRefused) as caught:
        smtp_send(fakemail, OAuth2Login("josé@example.test", keeper))
    assert caught.value.hint and fakemail.sent() == []
