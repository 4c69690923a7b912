"""Reaching a server through the practice's proxy (HTTP CONNECT or SOCKS5): one tunnel for
SMTP, IMAP, POP3 (their sockets) and for the sign-in service and the booking-link provider
(their HTTP requests). TLS is not ours to do here: the protocol wraps the tunnelled socket as
it would a direct one, so the mail server's certificate is still verified end to end and the
proxy only ever sees encrypted bytes (implicit TLS) or the plain greeting before STARTTLS.

SOCKS5 by python-socks: it is maintained (releases through 2026), does the binary protocol's
user-name/password negotiation, address types and reply codes in one synchronous call that
returns a plain socket, reads each reply to its exact length, and raises a small hierarchy we
turn into words; PySocks, the older choice, has had no release since 2019 and patches the
socket module's ways. HTTP CONNECT is a request line and a reply, done below (see there why
not python-socks'). The SMS provider's httpx reaches the proxy by its own support
(engine/adapters/sms.py).

Names are resolved by the proxy (SOCKS5 with remote DNS; CONNECT names the host), as a
practice behind a proxy often has no outside DNS of its own. Every failure here is a
`ProxyFailed` naming the proxy by HOST:PORT, never its password.
"""

from __future__ import annotations

import base64
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
import requests.adapters
from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
from python_socks.sync import Proxy as SocksProxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from engine.core.settings_snapshot import ProxySettings
from engine.errors import ProxyFailed

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SETTINGS_HINT = "Check the proxy settings (proxy.address, proxy.port, proxy.kind) and that the proxy at {where} is running."
KINDS = {"http": "an HTTP", "socks5": "a SOCKS5"}
UNSENDABLE = {"http": "An http proxy's user name cannot contain ':': correct proxy.user.",
              "socks5": "A socks5 proxy takes a user name and password of plain ASCII characters, at most 255 "
                        "each: correct proxy.user and proxy.password."}
LOGIN_HINT = "The proxy refused its user name or password: correct proxy.user and proxy.password."


@dataclass(frozen=True)
class Proxy:
    kind: str  # http (CONNECT) or socks5
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)

    @property
    def where(self) -> str:
        """HOST:PORT, as errors and the setup test name it (never the password)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self) -> str:
        """The URL an HTTP client takes (httpx), the user name and password quoted."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@" if self.user else ""
        return f"{self.kind}://{auth}{self.where}"


def proxy_for(settings: ProxySettings | None, password: Callable[[], str], email: bool = False) -> Proxy | None:
    """The practice's proxy with its password (`password()` is read only when there is one),
    or None: no proxy.address, or, for the mail protocols (`email`), proxy.use_for_email off."""
    if settings is None or (email and not settings.for_email):
        return None
    kind = "socks5" if settings.kind == "socks5" else "http"
    return Proxy(kind, settings.host, settings.port, settings.user, password() if settings.user else "")


def _words(exc: BaseException) -> str:
    return _UNSAFE.sub(" ", str(exc))[:200].strip()


def failure(exc: BaseException, proxy: Proxy, host: str, port: int) -> ProxyFailed:
    """A python-socks failure (or a setting it cannot use) as words a person can act on."""
    where = proxy.where
    if isinstance(exc, ProxyTimeoutError):
        return ProxyFailed(f"the proxy at {where} did not answer in time", hint=SETTINGS_HINT.format(where=where))
    if isinstance(exc, ProxyConnectionError):
        reason = exc.strerror or _words(exc)
        return ProxyFailed(f"the proxy at {where} could not be reached ({reason})",
                           hint=SETTINGS_HINT.format(where=where))
    code = getattr(exc, "error_code", None)
    text = _words(exc)
    if code == 407 or "authentication failure" in text.lower() or "authentication method" in text.lower():
        return ProxyFailed(f"the proxy at {where} refused the login ({text})", hint=LOGIN_HINT)
    if isinstance(exc, _BadTarget):
        return ProxyFailed(f"{host!r} cannot be named to the proxy at {where}",
                           hint="Check the server name: letters, digits, dots and hyphens only.")
    if isinstance(exc, ValueError):  # never its words: an encoding error quotes the character it choked on
        return ProxyFailed(f"the proxy login cannot be sent to the proxy at {where}", hint=UNSENDABLE[proxy.kind])
    if code is None:  # no proper answer: asked as the wrong kind, a login it would not take, or onwards failed
        return ProxyFailed(f"the proxy at {where} closed the connection without answering as {KINDS[proxy.kind]} "
                           f"proxy ({text})",
                           hint=f"Check proxy.kind (http or socks5), proxy.port, and proxy.user and proxy.password "
                                f"if it asks for a login; if they are right, the proxy could not reach {host}:{port}: "
                                "check the server name and port.")
    return ProxyFailed(f"the proxy at {where} would not connect to {host}:{port} ({text})",
                       hint=f"Check the server name and port; if they are right, ask whoever runs the proxy to "
                            f"let the practice reach {host}:{port}.")


def tunnel(proxy: Proxy, host: str, port: int, timeout: float | None) -> socket.socket:
    """A connected socket to host:port through the proxy (plain TCP: the caller does TLS)."""
    try:
        if proxy.kind == "socks5":
            client = SocksProxy(ProxyType.SOCKS5, proxy.host, proxy.port, proxy.user or None,
                                proxy.password if proxy.user else None, rdns=True)
            return client.connect(host, port, timeout=timeout)
        return _http_connect(proxy, host, port, timeout)
    except (ProxyTimeoutError, ProxyConnectionError, ProxyError, ValueError) as exc:
        raise failure(exc, proxy, host, port) from None
    except OSError as exc:  # the proxy closed or reset the connection mid-answer
        raise failure(ProxyError(_words(exc) or type(exc).__name__), proxy, host, port) from None


# -- HTTP CONNECT ---------------------------------------------------------------------------------
# Ours, not python-socks': its synchronous HTTP connector takes the proxy's reply with one recv(),
# so the greeting a mail server sends the moment the tunnel opens (SMTP's 220, POP3's +OK, IMAP's
# * OK) is swallowed with the "200" when both arrive in one segment, and the session then waits
# for a greeting that already came (tests/unit/adapters/test_proxy.py reproduces it). Here the
# reply is read up to its blank line and not a byte further.
class _BadTarget(ValueError):
    """A server name that cannot go on a CONNECT line (settings check names; this is the last guard)."""


_TARGET = re.compile(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+")  # fullmatch: a $ would take a last line end
HEAD_LIMIT = 16 * 1024


def _connect_request(proxy: Proxy, host: str, port: int) -> bytes:
    if not _TARGET.fullmatch(host):
        raise _BadTarget(host)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.user:
        if ":" in proxy.user:
            raise ValueError("an HTTP proxy's user name cannot contain ':'")
        login = base64.b64encode(f"{proxy.user}:{proxy.password}".encode()).decode()  # RFC 7617: UTF-8
        lines.append(f"Proxy-Authorization: Basic {login}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _read_head(sock: socket.socket) -> bytes:
    """The proxy's reply up to and with its blank line, leaving what follows unread."""
    head = b""
    while True:
        peek = sock.recv(4096, socket.MSG_PEEK)
        if not peek:
            raise ProxyError("the connection closed before the proxy answered")
        tail = head[-3:]
        end = (tail + peek).find(b"\r\n\r\n")
        take = end + 4 - len(tail) if end >= 0 else len(peek)
        head += sock.recv(take)
        if end >= 0:
            return head
        if len(head) > HEAD_LIMIT:
            raise ProxyError("the proxy's answer had no end")


def _http_connect(proxy: Proxy, host: str, port: int, timeout: float | None) -> socket.socket:
    request = _connect_request(proxy, host, port)
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout)
    except OSError as exc:
        raise ProxyConnectionError(exc.errno, f"{exc.strerror or exc}") from None
    try:
        sock.sendall(request)
        status = _read_head(sock).split(b"\r\n", 1)[0].decode("latin-1")
        parts = status.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProxyError(f"not an HTTP answer: {status[:60]}")
        if not 200 <= int(parts[1]) < 300:
            raise ProxyError(" ".join(parts[1:]), error_code=int(parts[1]))
        return sock
    except TimeoutError:
        sock.close()
        raise ProxyTimeoutError("the proxy did not answer in time") from None
    except BaseException:
        sock.close()
        raise


# -- HTTP requests (requests) through the tunnel ---------------------------------------------------
def http_session(proxy: Proxy | None) -> requests.Session:
    """A requests session for the sign-in service and the booking-link provider: through the
    proxy when there is one (every connection from `tunnel`, TLS and its certificate check by
    urllib3 as on a direct one), with no proxy from the environment either way, as the
    reference system asks (its own settings, not the computer's)."""
    return routed(requests.Session(), proxy)


def routed(session: requests.Session, proxy: Proxy | None) -> requests.Session:
    """`session` (any requests session: authlib's OAuth2Session is one) through the proxy."""
    if proxy is not None:
        session.trust_env = False
        adapter = _TunnelAdapter(proxy)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


class _TunnelAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self.proxy)


def _pools(proxy: Proxy) -> dict[str, type]:
    """urllib3's pools with connections whose TCP comes from `tunnel` (its own hook, as urllib3's
    SOCKS support does it); the HTTPS one still wraps and verifies TLS itself."""

    class Tunnelled(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            seconds = self.timeout if isinstance(self.timeout, (int, float)) else None
            return tunnel(proxy, self.host, self.port, seconds)

    class TunnelledTls(Tunnelled, HTTPSConnection):
        pass

    class Pool(HTTPConnectionPool):
        ConnectionCls = Tunnelled

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TunnelledTls

    return {"http": Pool, "https": TlsPool}


__all__ = ["Proxy", "ProxyFailed", "failure", "http_session", "proxy_for", "routed", "tunnel"]
