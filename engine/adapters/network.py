"""The failures every mail protocol shares (TLS, name lookup, refusal, timeout), as the
engine errors a person can act on. Each protocol's adapter handles its own replies first
and hands the rest here; a connection through the practice's proxy that closes before the
server has answered is the proxy's to explain (`proxied`)."""

from __future__ import annotations

import socket
import ssl

from engine.adapters.proxy import Proxy
from engine.errors import MailServerError, ProxyFailed, ServerTimeout, ServerUnreachable, TlsFailed


def translate_network(exc: BaseException, host: str, port: int, side: str, ports: str) -> MailServerError | None:
    """`side`: 'outgoing' or 'incoming'; `ports`: the usual ports, for the hint. None: not a network failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsFailed(f"the certificate of {host} is not trusted ({exc.verify_message})",
                         hint=f"Check the {side} server name; if the practice uses its own CA, set tls.ca_file.")
    if isinstance(exc, ssl.SSLEOFError):  # closed during the handshake: not a TLS setting at fault
        return ServerUnreachable(f"{host}:{port} closed the connection before it was secured",
                                 hint=f"The server dropped the connection: check the {side} port ({ports}); if it "
                                      "is right, the provider may be refusing this computer for now.")
    if isinstance(exc, ssl.SSLError):
        return TlsFailed(f"the secure connection to {host}:{port} failed ({exc.reason or exc})",
                         hint=f"Check the {side} port ({ports}).")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ServerTimeout(f"{host}:{port} did not answer in time")
    if isinstance(exc, socket.gaierror):
        return ServerUnreachable(f"the server name {host} was not found",
                                 hint=f"Check the {side} server name in the setup wizard.")
    if isinstance(exc, ConnectionRefusedError):
        return ServerUnreachable(f"{host}:{port} refused the connection",
                                 hint=f"Check the {side} port ({ports}) and that the server is running.")
    return None


def server_words(exc: BaseException) -> str:
    """A library error's text as the server's own words: imaplib and poplib carry the reply
    as bytes, whose str() is a b'...' repr."""
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text[:300]


INCOMING_PORTS = "993 for IMAP, 995 for POP3; 143/110 for STARTTLS"


def translate_incoming(exc: BaseException, host: str, port: int) -> MailServerError | None:
    """For IMAP and POP3 alike: our own error as it is, a network failure in words; None when
    the protocol's own errors must decide."""
    if isinstance(exc, MailServerError):
        return exc
    return translate_network(exc, host, port, "incoming", INCOMING_PORTS)


def proxied(err: MailServerError, proxy: Proxy | None, host: str, port: int, side: str) -> MailServerError:
    """`err` from connecting (before the server's greeting, or during implicit TLS): through a
    proxy, a connection that closed or was refused there is the proxy's failure to reach the
    server (a SOCKS5 proxy may say yes first and only then find the server will not answer), so
    it says so with the proxy's hint. Direct, or any other failure: `err` as it is."""
    if proxy is None or type(err) is not ServerUnreachable:  # not a timeout, TLS or ProxyFailed already
        return err
    return ProxyFailed(f"{host}:{port} did not answer through the proxy at {proxy.where} ({err.message})",
                       hint=f"Check the {side} server name and port; if they are right, ask whoever runs the proxy "
                            f"at {proxy.where} to let the practice reach {host}:{port}.")
