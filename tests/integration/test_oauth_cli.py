"""`signin`, `signout`, `status` and `test-credentials` on a signed-in account, through the
command's own `main` (the system browser replaced by the test's HTTP client)."""

from __future__ import annotations

import json
import webbrowser
import zipfile
from pathlib import Path

import pytest

from engine.adapters.sasl import SIGN_IN_AGAIN
from engine.cli import main
from engine.service import signin
from tests.integration.oauth_helpers import browser_for, oauth_config, post_form
from tests.integration.test_oauth_engine import configure_oauth
from tests.integration.helpers import configure_incoming, open_practice
from tools.fakemail import FakeMail


@pytest.fixture
def folder(data_dir: Path, fakemail: FakeMail) -> Path:
    with open_practice(data_dir) as p:
        configure_oauth(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        p.settings.set_many({"practice.email": fakemail.user().address})
    return data_dir


def run(capsys, *argv: str) -> tuple[int, dict, str]:  # noqa: ANN001
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("{", "[")) else {}), out + err


def refresh_token(folder: Path) -> str:
    with open_practice(folder) as p:
        return signin.sign_in_file(p).load()


def test_signin_status_test_credentials_signout(folder: Path, fakemail: FakeMail, capsys,  # noqa: ANN001
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    open_browser, errors = browser_for(fakemail)
    monkeypatch.setattr(webbrowser, "open", open_browser)
    code, doc, said = run(capsys, "signin", "--data", str(folder), "--json")
    assert code == 0 and not errors and doc["signed_in"] and doc["account"] == fakemail.user().address
    token = refresh_token(folder)

    code, doc, said_status = run(capsys, "status", "--data", str(folder), "--json")
    assert doc["signin"]["signed_in"] and doc["signin"]["refreshed_at"]
    code, doc, said_test = run(capsys, "test-credentials", "--data", str(folder), "--json")
    steps = {s["name"]: s for s in doc["steps"]}
    assert code == 0 and steps["get an access token"]["ok"], doc
    code, _, said_config = run(capsys, "config", "show", "--data", str(folder))
    code, _, _ = run(capsys, "export-diagnostics", "--data", str(folder), "-o", str(tmp_path / "d.zip"))
    with zipfile.ZipFile(tmp_path / "d.zip") as z:
        exported = b"".join(z.read(n) for n in z.namelist())
    for text in (said, said_status, said_test, said_config):
        assert token not in text and refresh_token(folder) not in text
    assert token.encode() not in exported and refresh_token(folder).encode() not in exported

    code, doc, _ = run(capsys, "signout", "--data", str(folder), "--json")
    assert code == 0 and not doc["signed_in"]
    code, doc, said = run(capsys, "test-credentials", "--data", str(folder), "--json")
    steps = {s["name"]: s for s in doc["steps"]}
    assert code == 1 and not steps["get an access token"]["ok"]
    assert steps["get an access token"]["hint"] == SIGN_IN_AGAIN
    assert "connect to incoming server" not in steps  # stopped at the token


def test_revoked_sign_in_fails_the_token_step_with_its_hint(folder: Path, fakemail: FakeMail, capsys,  # noqa: ANN001
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webbrowser, "open", browser_for(fakemail)[0])
    assert run(capsys, "signin", "--data", str(folder))[0] == 0
    post_form(f"{fakemail.oauth.issuer}/oauth/revoke", {"token": refresh_token(folder)})
    code, doc, _ = run(capsys, "test-credentials", "--data", str(folder), "--json")
    step = next(s for s in doc["steps"] if s["name"] == "get an access token")
    assert code == 1 and not step["ok"] and step["hint"] == SIGN_IN_AGAIN


def test_signin_by_device_code(folder: Path, fakemail: FakeMail, capsys) -> None:  # noqa: ANN001
    oauth_config(fakemail, auto_approve=True, device_interval=0)
    code, doc, said = run(capsys, "signin", "--device", "--data", str(folder), "--json")
    assert code == 0 and doc["signed_in"]
    assert "/oauth/device" in said and "enter the code" in said


def test_signin_without_a_provider_is_one_line(data_dir: Path, capsys) -> None:  # noqa: ANN001
    with open_practice(data_dir) as p:
        p.settings.set_many({"outgoing.auth": "oauth2"})
    code, _, said = run(capsys, "signin", "--data", str(data_dir))
    assert code == 1 and "oauth.provider" in said


def test_tokens_never_on_a_running_service_command_line(folder: Path, fakemail: FakeMail, capsys,  # noqa: ANN001
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`ps` shows every process's arguments to every user: the signed-in service's must hold no
    token (and the log it writes none either), while it signs in and sends."""
    import subprocess
    import sys
    from tests.conftest import ROOT

    open_browser, errors = browser_for(fakemail)
    monkeypatch.setattr(webbrowser, "open", open_browser)
    assert run(capsys, "signin", "--data", str(folder), "--json")[0] == 0 and not errors
    with open_practice(folder) as p:
        p.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59"})
    run(capsys, "outbox", "add", "--data", str(folder), "--to", "pat@example.com", "--subject", "Hello")
    serve = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--data", str(folder)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        fakemail.wait_for_sent(1, timeout=60)  # it signed in with its token and sent
        argv = Path(f"/proc/{serve.pid}/cmdline").read_bytes().decode("utf-8", "replace")
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
    token = refresh_token(folder)
    logs = b"".join(f.read_bytes() for f in (folder / "logs").glob("practicemail.log*"))
    assert token and token not in argv and token not in err and token.encode() not in logs
    assert "practicemail-test" not in argv  # nor the client id: the command line is only the command
