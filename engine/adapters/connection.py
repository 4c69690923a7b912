"""What every mail connection shares, SMTP, IMAP and POP3 alike: the login (`Credentials`),
the verifying TLS context, the choice of implicit TLS or STARTTLS from port and setting, and
cutting a socket from another thread. Written once here so the three protocols cannot drift
apart on how they secure a connection.

Ports: 465/993/995 implicit TLS; 587 STARTTLS always; 25 STARTTLS when `outgoing.starttls`;
143/110 STARTTLS/STLS; a `*.security` setting says which for any other port (the fake servers
run on free ports). Certificates are always verified.

Through the practice's proxy (`proxy.use_for_email`), `open_socket` gets the TCP connection
from the proxy's tunnel (engine/adapters/proxy.py) and TLS is done over it here exactly as on
a direct one, so the certificate check is the mail server's, end to end.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Protocol

from engine.adapters.proxy import Proxy, tunnel
from engine.errors import TlsFailed

# the TLS modes: SMTP uses all four, IMAP and POP3 the first and STARTTLS (always required there)
IMPLICIT, STARTTLS_REQUIRED, STARTTLS_IF_OFFERED, CLEARTEXT_ALLOWED = (
    "implicit", "starttls-required", "starttls-if-offered", "cleartext-allowed")
STARTTLS = "starttls"  # an incoming account's mode (and the `*.security` setting's word)


class Credentials(Protocol):
    """A login: a `Password`, or an `OAuth2Login` (engine/adapters/sasl.py) with a token source."""

    username: str

    def secret(self) -> str: ...


@dataclass(frozen=True)
class Password:
    username: str
    password: str

    def secret(self) -> str:
        return self.password

    def __repr__(self) -> str:
        return f"Password({self.username!r}, ***)"


def tls_mode(port: int, starttls: bool, security: str = "auto") -> str:
    """SMTP's port rules as one decision. `outgoing.security` overrides the port for providers
    on unusual ports (and for the fake servers, which run on free ports)."""
    if security == IMPLICIT:
        return IMPLICIT
    if security == STARTTLS:
        return STARTTLS_REQUIRED
    if port == 465:
        return IMPLICIT
    if port == 587:
        return STARTTLS_REQUIRED
    if port == 25:
        return STARTTLS_REQUIRED if starttls else CLEARTEXT_ALLOWED
    return STARTTLS_IF_OFFERED


def incoming_mode(protocol: str, port: int, security: str = "auto") -> str:
    """IMAP's and POP3's: implicit TLS unless the port (143, 110) or `incoming.security` says
    STARTTLS; never in the clear."""
    if security in (IMPLICIT, STARTTLS):
        return security
    if port in (143, 110):
        return STARTTLS
    return IMPLICIT


@dataclass(frozen=True)
class IncomingSettings:
    protocol: str
    host: str
    port: int
    mode: str
    credentials: Credentials
    ca_file: str = ""
    timeout: float = 30.0
    proxy: Proxy | None = None  # the practice's proxy, when mail goes through it


def open_socket(host: str, port: int, timeout: float | None, proxy: Proxy | None = None,
                context: ssl.SSLContext | None = None) -> socket.socket:
    """TCP to host:port, directly or through `proxy`; then, with a `context`, TLS whose
    certificate is checked against `host` (implicit TLS). STARTTLS wraps it later the same way."""
    if proxy is not None:
        sock = tunnel(proxy, host, port, timeout)
    else:
        sock = socket.create_connection((host, port), timeout)
    if context is None:
        return sock
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def through(proxy: Proxy | None) -> str:
    """" through the proxy at HOST:PORT" for the setup test's words; "" when direct."""
    return f" through the proxy at {proxy.where}" if proxy is not None else ""


def tls_context(ca_file: str) -> ssl.SSLContext:
    """A verifying client context. Loading the system's CA store costs ~20 ms, so contexts are
    kept per CA file (and remade when that file changes)."""
    try:
        stamp = os.stat(ca_file).st_mtime_ns if ca_file else 0
    except OSError:
        stamp = -1
    return _tls_context(ca_file, stamp)


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str, _stamp: int) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsFailed(f"cannot read the CA file {ca_file}: {exc}",
                            hint="Check tls.ca_file points to a PEM file of trusted certificates.") from exc
    return ctx


def cut(sock: socket.socket | None) -> None:
    """From another thread: shut the socket down so a read blocked on it returns at once (a
    slow server would otherwise hold a stop or an error back until the socket's timeout)."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
