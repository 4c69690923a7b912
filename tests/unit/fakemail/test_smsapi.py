"""The fake SMS provider speaks Twilio's shape: Basic auth, form bodies, Twilio error codes,
inbound replies in the message list, a balance that goes down, and JSON test controls."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tools.fakemail import FakeMail


def call(fm: FakeMail, method: str, path: str, form: dict[str, str] | None = None,
         auth: tuple[str, str] | None = None, json_body: Any = None) -> tuple[int, Any]:
    info = fm.info()["sms"]
    sid, token = auth or (info["account_sid"], info["auth_token"])
    data = urllib.parse.urlencode(form).encode() if form is not None else (
        json.dumps(json_body).encode() if json_body is not None else None)
    req = urllib.request.Request(info["base_url"] + path.replace("{sid}", info["account_sid"]), data=data,
                                 method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_twilio_shape_end_to_end(fakemail: FakeMail) -> None:
    number = fakemail.info()["sms"]["number"]
    status, msg = call(fakemail, "POST", "/2010-04-01/Accounts/{sid}/Messages.json",
                       {"To": "+447700900041", "From": number, "Body": "Hello"})
    assert status == 201 and msg["status"] == "queued" and msg["sid"].startswith("SM")
    status, got = call(fakemail, "GET", f"/2010-04-01/Accounts/{{sid}}/Messages/{msg['sid']}.json")
    assert (status, got["status"]) == (200, "delivered")
    assert call(fakemail, "GET", "/2010-04-01/Accounts/{sid}/Balance.json")[1]["balance"] == "9.96"
    assert call(fakemail, "POST", "/sms-control/reply", json_body={"from": "+447700900041", "body": "YES"})[0] == 201
    status, page = call(fakemail, "GET", f"/2010-04-01/Accounts/{{sid}}/Messages.json?To={urllib.parse.quote(number)}")
    assert [(m["direction"], m["body"]) for m in page["messages"]] == [("inbound", "YES")]


def test_errors_in_twilio_shape(fakemail: FakeMail) -> None:
    number = fakemail.info()["sms"]["number"]
    status, err = call(fakemail, "GET", "/2010-04-01/Accounts/{sid}/Balance.json", auth=("ACnobody", "wrong"))
    assert (status, err["code"]) == (401, 20003)
    status, err = call(fakemail, "POST", "/2010-04-01/Accounts/{sid}/Messages.json",
                       {"To": "07700 900041", "From": number, "Body": "Hi"})
    assert (status, err["code"]) == (400, 21211)
    status, err = call(fakemail, "POST", "/2010-04-01/Accounts/{sid}/Messages.json",
                       {"To": "+447700900041", "From": number, "Body": ""})
    assert (status, err["code"]) == (400, 21602)
    fakemail.faults.add("http", "sms", "reply", code=429, times=1)
    status, err = call(fakemail, "GET", "/2010-04-01/Accounts/{sid}/Balance.json")
    assert (status, err["code"]) == (429, 20429)
    assert call(fakemail, "GET", "/2010-04-01/Accounts/{sid}/Balance.json")[0] == 200  # once only


def test_the_fake_imports_no_engine_code() -> None:
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[3] / "tools" / "fakemail" / "smsapi.py").read_text())
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [n for n in names if n.startswith("engine")]
