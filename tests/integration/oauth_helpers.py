"""Playing the browser against the fake authorization server, for the OAuth tests."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import Any

from tools.fakemail import FakeMail


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        if tag == "input" and a.get("name"):
            self.fields[a["name"] or ""] = a.get("value") or ""


def form_of(page: str) -> _Form:
    parser = _Form()
    parser.feed(page)
    return parser


def browse(url: str, username: str, password: str, decision: str = "accept", tamper: Any = None) -> str:
    """What a person does in the browser: open the consent page, type the login, press Accept.
    urllib follows the redirect back to the loopback listener, as a browser would."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        page = reply.read().decode()
        base = reply.geturl()
    form = form_of(page)
    fields = dict(form.fields, username=username, password=password, decision=decision)
    if tamper is not None:
        tamper(fields)
    target = urllib.parse.urljoin(base, form.action)
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(target, data=data, timeout=10) as reply:
        return reply.read().decode()


def browser_for(fm: FakeMail, **kw: Any) -> tuple[Any, list[BaseException]]:
    """An `open_browser` that plays the browser in a thread (the real one returns at once)."""
    user = fm.user()
    errors: list[BaseException] = []

    def run(url: str) -> None:
        try:
            browse(url, user.username, user.password, **kw)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    def open_browser(url: str) -> bool:
        threading.Thread(target=run, args=(url,), daemon=True).start()
        return True

    return open_browser, errors


def oauth_config(fm: FakeMail, **switches: Any) -> dict[str, Any]:
    req = urllib.request.Request(f"{fm.oauth.issuer}/oauth/config", data=json.dumps(switches).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as reply:
        return json.loads(reply.read())


def post_form(url: str, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
