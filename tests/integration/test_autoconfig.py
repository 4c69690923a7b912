"""The sign-in preset proposed from a domain's Mozilla-format autoconfig document (#17): parsed
from bytes, then fetched over a real socket from a local HTTP server, directly or through a
real proxy (pproxy, its own process)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.autoconfig import candidates, lookup
from engine.adapters.proxy import Proxy
from engine.core.autoconfig import MAX_DOCUMENT, parse
from engine.service.practice import Practice
from tests.integration.proxying import closed_port, pproxy


def document(incoming: str, outgoing: str, auth: str = "OAuth2") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="brightsmile.example">
    <domain>brightsmile.example</domain>
    <incomingServer type="imap">
      <hostname>{incoming}</hostname><port>993</port><socketType>SSL</socketType>
      <authentication>{auth}</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{outgoing}</hostname><port>587</port><socketType>STARTTLS</socketType>
      <authentication>{auth}</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>""".encode()


MICROSOFT = document("outlook.office365.com", "smtp.office365.com")
GOOGLE = document("imap.gmail.com", "smtp.gmail.com")
OWN = document("mail.brightsmile.example", "mail.brightsmile.example", "password-cleartext")


def test_the_servers_named_say_which_provider() -> None:
    ms, google, own = parse(MICROSOFT), parse(GOOGLE), parse(OWN)
    assert ms is not None and ms.preset == "microsoft" and all(s.oauth for s in ms.servers)
    assert google is not None and google.preset == "google"
    assert own is not None and own.preset == "" and [s.port for s in own.servers] == [993, 587]
    # a look-alike domain is not the provider
    assert parse(document("outlook.office365.com.evil.example", "smtp.office365.com")).preset == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [
    b"", b"not xml", b"<clientConfig/>", b"<html><body>404</body></html>",
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><clientConfig>&y;</clientConfig>',
    MICROSOFT + b" " * MAX_DOCUMENT,
    document("outlook.office365.com", "smtp.office365.com").replace(b"<port>993", b"<port>99999"),
])
def test_anything_else_proposes_nothing(bad: bytes) -> None:
    found = parse(bad)
    assert found is None or all(0 < s.port < 65536 for s in found.servers)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_answered_never_raise(data: bytes) -> None:
    parse(data)


@pytest.fixture
def http() -> Iterator[dict[str, tuple[int, bytes]]]:
    """A local web server answering paths from the dict: path -> (status, body)."""
    answers: dict[str, tuple[int, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, body = answers.get(self.path.split("?")[0], (404, b"no"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    answers["port"] = (0, str(server.server_address[1]).encode())
    yield answers
    server.shutdown()
    server.server_close()


def test_lookup_takes_the_first_document_that_parses(http: dict[str, tuple[int, bytes]]) -> None:
    base = f"http://127.0.0.1:{http['port'][1].decode()}"
    http["/mail/config-v1.1.xml"] = (200, b"<html>a parked domain's page</html>")
    http["/.well-known/autoconfig/mail/config-v1.1.xml"] = (200, MICROSOFT)
    urls = [f"{base}/missing.xml", f"{base}/mail/config-v1.1.xml", f"{base}/.well-known/autoconfig/mail/config-v1.1.xml"]
    found = lookup("practice@brightsmile.example", urls=urls, timeout=5)
    assert found is not None and found.preset == "microsoft"
    assert lookup("practice@brightsmile.example", urls=[f"{base}/missing.xml"], timeout=5) is None
    assert lookup("practice@brightsmile.example", urls=["http://127.0.0.1:9/closed.xml"], timeout=2) is None


def test_the_usual_addresses_and_hostile_ones() -> None:
    assert candidates("practice@brightsmile.example") == [
        "https://autoconfig.brightsmile.example/mail/config-v1.1.xml?emailaddress=practice@brightsmile.example",
        "https://brightsmile.example/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=practice@brightsmile.example"]
    assert candidates("x@evil.example/path?") == [] and candidates("no-domain") == []


def test_the_wizard_suggestion_known_domains_first_then_the_document(http: dict[str, tuple[int, bytes]]) -> None:
    from engine.service.signin import suggest

    base = f"http://127.0.0.1:{http['port'][1].decode()}"
    http["/ms.xml"], http["/google.xml"], http["/own.xml"] = (200, MICROSOFT), (200, GOOGLE), (200, OWN)
    assert suggest("practice@hotmail.co.uk", urls=[]) == "microsoft"  # known without asking
    assert suggest("reception@brightsmile.example", urls=[f"{base}/ms.xml"]) == "microsoft"
    assert suggest("reception@brightsmile.example", urls=[f"{base}/google.xml"]) == "google"
    assert suggest("reception@brightsmile.example", urls=[f"{base}/own.xml", f"{base}/ms.xml"]) == ""


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_lookup_goes_through_the_practice_proxy(http: dict[str, tuple[int, bytes]], scheme: str) -> None:
    """A practice that reaches the internet only through a proxy still gets a suggestion (#18):
    the proxy's own log is the witness; a proxy that is not there gives no suggestion, no error."""
    port = int(http["port"][1].decode())
    http["/ms.xml"] = (200, MICROSOFT)
    urls = [f"http://127.0.0.1:{port}/ms.xml"]
    with pproxy(scheme, "desk:s3cret pass") as running:
        proxy = Proxy(scheme, "127.0.0.1", running.port, "desk", "s3cret pass")
        found = lookup("practice@brightsmile.example", urls=urls, timeout=5, proxy=proxy)
        assert found is not None and found.preset == "microsoft"
        assert running.went_to(port)
        wrong = Proxy(scheme, "127.0.0.1", running.port, "desk", "wrong")
        assert lookup("practice@brightsmile.example", urls=urls, timeout=5, proxy=wrong) is None
    with closed_port() as nothing:
        gone = Proxy(scheme, "127.0.0.1", nothing)
        assert lookup("practice@brightsmile.example", urls=urls, timeout=5, proxy=gone) is None


def test_the_wizard_asks_through_the_practice_proxy(practice: Practice) -> None:
    """The App's suggestion (the wizard's sign-in page) reads the practice's proxy settings: the
    proxy's log names the domain's autoconfig addresses (no outside DNS here: nothing found)."""
    from engine.service.app import App

    with pproxy("http") as running:
        practice.settings.set_many({"proxy.address": "127.0.0.1", "proxy.port": running.port})
        app = App(practice)
        try:
            assert app.suggest_sign_in("reception@brightsmile.example") == ""
        finally:
            app.close()
        assert running.went_to(443)
        assert any("autoconfig.brightsmile.example:443" in line for line in running.seen), running.seen
