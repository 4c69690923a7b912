"""The proxy's tunnel on raw sockets: the HTTP CONNECT reply read to its blank line and not a
byte further (a mail server's greeting that arrives in the same segment is kept), however the
reply is cut; the settings made a Proxy (the password never in its repr); hostile logins and
targets refused before anything is sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.adapters.proxy import Proxy, _read_head, proxy_for, tunnel
from engine.core.settings_snapshot import ProxySettings, snapshot
from engine.errors import ProxyFailed

REPLY = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n"
GREETING = b"220 mail.example ESMTP ready\r\n"


@contextmanager
def one_shot_proxy(answer: bytes, binary: bool = False) -> Iterator[tuple[int, list[bytes]]]:
    """A peer on a free port that reads one CONNECT request and writes `answer` in one send
    (the reply and the server's greeting in one segment, as a busy proxy sends them), then closes.
    `binary`: answer the first bytes that come (a SOCKS5 greeting) instead of a request's blank line."""
    server = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data and not (binary and data):
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            requests.append(data)
            conn.sendall(answer)  # and closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], requests
    finally:
        server.close()
        thread.join(10)


def test_a_greeting_in_the_same_segment_as_the_reply_is_kept() -> None:
    with one_shot_proxy(REPLY + GREETING) as (port, requests):
        sock = tunnel(Proxy("http", "127.0.0.1", port, "desk", "pa:ss wörd"), "mail.example", 587, 5)
        with sock:
            got = b""
            while not got.endswith(b"\r\n"):
                got += sock.recv(100)
    assert got == GREETING
    assert requests[0].startswith(b"CONNECT mail.example:587 HTTP/1.1\r\nHost: mail.example:587\r\n")
    assert b"Proxy-Authorization: Basic ZGVzazpwYTpzcyB3w7ZyZA==\r\n" in requests[0]  # desk:pa:ss wörd, UTF-8


@given(st.lists(st.integers(min_value=1, max_value=len(REPLY) - 1), max_size=6, unique=True))
def test_the_reply_is_read_to_its_end_however_it_is_cut(cuts: list[int]) -> None:
    a, b = socket.socketpair()
    with a, b:
        edges = [0, *sorted(cuts), len(REPLY)]
        pieces = [REPLY[i:j] for i, j in zip(edges, edges[1:])] + [GREETING]
        writer = threading.Thread(target=lambda: [b.sendall(p) for p in pieces])
        writer.start()
        a.settimeout(5)
        head = _read_head(a)
        writer.join()
        assert head == REPLY
        b.close()
        rest = b""
        while chunk := a.recv(100):
            rest += chunk
        assert rest == GREETING


@pytest.mark.parametrize("answer,words,hint", [
    (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "refused the login", "proxy.password"),
    (b"HTTP/1.1 403 Forbidden\r\n\r\n", "would not connect to mail.example:587", "server name and port"),
    (b"HTTP/1.0 502 Bad Gateway\r\n\r\n", "would not connect to mail.example:587", "let the practice reach"),
    (b"\x05\x00", "without answering as an HTTP proxy", "proxy.kind"),  # a SOCKS5 proxy asked as http
    (b"", "without answering as an HTTP proxy", "proxy.kind"),
])
def test_each_refusal_is_the_proxys_failure(answer: bytes, words: str, hint: str) -> None:
    with one_shot_proxy(answer) as (port, _):
        with pytest.raises(ProxyFailed) as caught:
            tunnel(Proxy("http", "127.0.0.1", port, "desk", "hunter2"), "mail.example", 587, 5)
    assert words in caught.value.message and hint in caught.value.hint
    assert "hunter2" not in caught.value.message + caught.value.hint
    assert f"the proxy at 127.0.0.1:{port}" in caught.value.message


@pytest.mark.parametrize("user,password,host,words", [
    ("de:sk", "hunter2", "mail.example", "login cannot be sent"),
    ("desk", "hunter2", "mail.example\r\nX-Evil: 1", "cannot be named"),
    ("desk", "hunter2", "mail.example\n", "cannot be named"),  # a regex's $ takes a last line end
    ("desk", "hunter2", "::1\n", "cannot be named"),
    ("desk", "hunter2", "mail example", "cannot be named"),
    ("desk", "hunter2", "mäil.example", "cannot be named"),
])
def test_what_cannot_be_said_to_an_http_proxy_is_refused_before_connecting(user: str, password: str, host: str,
                                                                          words: str) -> None:
    with pytest.raises(ProxyFailed) as caught:
        tunnel(Proxy("http", "127.0.0.1", 9, user, password), host, 587, 5)  # port 9: never reached
    said = caught.value.message + caught.value.hint
    assert words in said and "could not be reached" not in said and "\n" not in said and password not in said


def test_a_login_a_socks5_proxy_cannot_take_is_named_without_its_characters() -> None:
    """python-socks sends the login as ASCII of at most 255 bytes; its error would quote the
    character it could not encode, so its words are never shown."""
    with one_shot_proxy(b"\x05\x02", binary=True) as (port, _):  # the proxy asks for a user name and password
        with pytest.raises(ProxyFailed) as caught:
            tunnel(Proxy("socks5", "127.0.0.1", port, "desk", "pässwörd"), "mail.example", 587, 5)
    said = caught.value.message + caught.value.hint
    assert "cannot be sent" in said and "ASCII" in said and "ä" not in said and "\\x" not in said


def test_the_settings_make_the_proxy_and_its_password_stays_out_of_sight() -> None:
    none = snapshot({})
    assert none.proxy is None and proxy_for(none.proxy, lambda: "x") is None
    s = snapshot({"proxy.address": "proxy.practice.example", "proxy.kind": "socks5", "proxy.user": "desk"})
    assert s.proxy == ProxySettings("socks5", "proxy.practice.example", 1080, "desk", False)
    assert proxy_for(s.proxy, lambda: "x", email=True) is None  # proxy.use_for_email is off by default
    proxy = proxy_for(s.proxy, lambda: "hunter2")
    assert proxy is not None and proxy.password == "hunter2" and "hunter2" not in repr(proxy)
    assert snapshot({"proxy.address": "10.0.0.1", "proxy.use_for_email": True}).proxy.port == 3128  # type: ignore[union-attr]
    v6 = Proxy("http", "::1", 3128, "a b", "p@ss:/")
    assert v6.where == "[::1]:3128" and v6.url() == "http://a%20b:p%40ss%3A%2F@[::1]:3128"
    asked: list[str] = []
    proxy_for(snapshot({"proxy.address": "10.0.0.1"}).proxy, lambda: asked.append("read") or "")  # type: ignore[func-returns-value]
    assert asked == []  # no user: the password is not even decrypted


def test_the_proxy_password_never_goes_on_argv_and_is_shown_as_stars(tmp_path: Path) -> None:
    from tests.unit.test_cli import pm, pm_stdin

    data = tmp_path / "d"
    assert pm_stdin("config", "set", "proxy.password", "-", data=data, stdin="first one\n").returncode == 0
    refused = pm("config", "set", "proxy.password", "hunter2", data=data)
    assert refused.returncode == 1 and "config set proxy.password -`" in refused.stderr
    assert "hunter2" not in refused.stderr + refused.stdout
    assert pm("config", "set", "proxy.use_for_email", "yes", data=data).returncode == 0
    shown = json.loads(pm("config", "show", "--json", data=data).stdout)
    assert shown["proxy.password"] == "***" and shown["proxy.use_for_email"] is True
    assert "first one" not in json.dumps(shown)
