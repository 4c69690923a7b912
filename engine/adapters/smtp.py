"""Sending over SMTP with smtplib. Every smtplib, ssl and socket error becomes an
engine error here, with the server's own words kept and a hint a person can act on.

Port rules: 465 implicit TLS; 587 STARTTLS always (a server that does not
offer it is refused); 25 STARTTLS when `outgoing.starttls`; any other port
STARTTLS when the server offers it. EHLO again after STARTTLS. AUTH only when
asked, and never over an unencrypted connection, except on port 25 where the
user turned STARTTLS off themselves. Certificates are always verified.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from dataclasses import dataclass

from engine.adapters.connection import (CLEARTEXT_ALLOWED, IMPLICIT, STARTTLS_IF_OFFERED, STARTTLS_REQUIRED,
                                        Credentials, Password, cut, open_socket, tls_context, tls_mode)
from engine.adapters.network import proxied, translate_network
from engine.adapters.proxy import Proxy
from engine.adapters.sasl import OAuth2Login, smtp_login
from engine.core.addresses import smtp_form
from engine.errors import (AddressNotSendable, AuthenticationRefused, MailServerError, ServerRejected, ServerTimeout,
                           ServerUnreachable, TlsFailed)

log = logging.getLogger("practicemail.smtp")
# the shared names, still importable from here as before the move to connection.py
__all__ = ["CLEARTEXT_ALLOWED", "IMPLICIT", "STARTTLS_IF_OFFERED", "STARTTLS_REQUIRED", "Credentials", "Password",
           "SmtpSession", "SmtpSettings", "tls_context", "tls_mode", "translate", "rejected", "wire_address"]

CODE_HINTS = {
    421: "The mail server is busy or closing; the email will be tried again.",
    450: "The mailbox is busy; the email will be tried again.",
    451: "The mail server had a problem; the email will be tried again.",
    452: "The mail server is short of space; the email will be tried again.",
    550: "The address was refused: check the recipient's email address.",
    551: "The address was refused: check the recipient's email address.",
    552: "The attachment is larger than your provider accepts: send a smaller file.",
    553: "The address is not allowed: check the recipient's address and the practice's From address.",
    554: "The provider refused the message (often as spam or policy): change it or ask the provider.",
    530: "The server wants a login: turn outgoing authentication on in the setup wizard.",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mode: str = STARTTLS_REQUIRED
    auth: bool = True
    credentials: Credentials | None = None
    ca_file: str = ""
    timeout: float = 30.0
    local_hostname: str | None = None
    proxy: Proxy | None = None  # the practice's proxy, when mail goes through it


def rejected(code: int, text: bytes | str, what: str) -> ServerRejected:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return ServerRejected(f"the server refused the {what}: {code} {words}", code, words,
                          CODE_HINTS.get(code, "The mail server refused this; its own words are shown."))


def translate(exc: BaseException, host: str, port: int) -> MailServerError:
    """Any failure talking SMTP -> the engine error a person can act on."""
    if isinstance(exc, MailServerError):
        return exc
    network = translate_network(exc, host, port, "outgoing", "587 or 465")
    if network is not None:
        return network
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        words = exc.smtp_error.decode("utf-8", "replace")
        return AuthenticationRefused(f"the server refused the login: {exc.smtp_code} {words}",
                                     hint="The server said the user name or password is wrong: correct them in the setup wizard.")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return rejected(code, text, "recipient")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return rejected(exc.smtp_code, exc.smtp_error, "sender")
    if isinstance(exc, smtplib.SMTPDataError):
        return rejected(exc.smtp_code, exc.smtp_error, "message")
    if isinstance(exc, smtplib.SMTPResponseException):
        return rejected(exc.smtp_code, exc.smtp_error, "command")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if "timed out" in str(exc):
            return ServerTimeout(f"{host}:{port} stopped answering")
        return ServerUnreachable(f"{host}:{port} closed the connection unexpectedly",
                                 hint="The connection dropped; the email will be tried again.")
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return ServerUnreachable(f"talking to {host}:{port} failed: {exc}")
    raise exc


def wire_address(address: str) -> tuple[str, bool]:
    """The address for MAIL FROM / RCPT TO (domain IDNA-encoded) and whether it needs SMTPUTF8."""
    try:
        return smtp_form(address)
    except ValueError as exc:
        raise AddressNotSendable(f"{address!r} cannot be sent to: {exc}",
                                 hint="Correct the email address, then use Reset Failed.") from None


def _login(smtp: smtplib.SMTP, credentials: Credentials) -> None:
    """A password by smtplib's own choice of mechanism; an access token by XOAUTH2/OAUTHBEARER."""
    if isinstance(credentials, OAuth2Login):
        smtp_login(smtp, credentials)
    else:
        smtp.login(credentials.username, credentials.secret())


class _Dialled(smtplib.SMTP):
    """smtplib with its TCP connection from `open_socket`: direct or through the proxy."""

    proxy: Proxy | None = None

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:  # smtplib's own hook
        return open_socket(host, port, timeout, self.proxy)


class _DialledSSL(smtplib.SMTP_SSL, _Dialled):
    """SMTP_SSL wraps what `_Dialled` connects (its `_get_socket` calls super()): TLS over the
    tunnel, the certificate checked against the mail server's name."""


class SmtpSession:
    """One connection, reused for a batch. Use as a context manager."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self.encrypted = False
        self._greeted = False  # the server's banner came (a failure before it may be the proxy's)

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def __enter__(self) -> "SmtpSession":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        s = self.settings
        self._greeted = False
        try:
            self._smtp = self._connect()
        except Exception as exc:
            self.close()
            err = translate(exc, s.host, s.port)
            raise (err if self._greeted else proxied(err, s.proxy, s.host, s.port, "outgoing")) from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        self.encrypted = False
        ctx = tls_context(s.ca_file)
        # made unconnected first, so abort() from another thread can cut the socket while the
        # banner, EHLO or STARTTLS is awaited (SMTP(host) talks inside its constructor, before
        # we hold it); smtplib's TLS then takes the server name from _host, which only that
        # constructor sets: without the line below the certificate is checked against "" and
        # every TLS connection fails
        if s.mode == IMPLICIT:
            smtp: _Dialled = _DialledSSL(timeout=s.timeout, context=ctx, local_hostname=s.local_hostname)
            self.encrypted = True
        else:
            smtp = _Dialled(timeout=s.timeout, local_hostname=s.local_hostname)
        smtp.proxy = s.proxy
        smtp._host = s.host  # noqa: SLF001 - SNI and the certificate's name check (above)
        self._smtp = smtp
        code, banner = smtp.connect(s.host, s.port)
        self._greeted = True
        if code != 220:
            raise rejected(code, banner, "connection")
        smtp.ehlo()
        if not self.encrypted:
            offered = smtp.has_extn("starttls")
            if s.mode == STARTTLS_REQUIRED and not offered:
                raise TlsFailed(f"port {s.port} did not offer STARTTLS",
                                hint="Use port 465, or ask the provider which port supports STARTTLS.")
            if offered and s.mode != CLEARTEXT_ALLOWED:
                smtp.starttls(context=ctx)
                smtp.ehlo()
                self.encrypted = True
        if s.auth:
            if not self.encrypted and s.mode != CLEARTEXT_ALLOWED:
                raise TlsFailed(f"{s.host}:{s.port} offers no encryption, so the password was not sent",
                                hint="Use port 587 or 465; on port 25, STARTTLS must be on to log in safely.")
            if s.credentials is None:
                raise AuthenticationRefused("no user name or password is set",
                                            hint="Enter the account's user name and password in the setup wizard.")
            if not smtp.has_extn("auth"):
                raise AuthenticationRefused(f"{s.host} does not offer a login on port {s.port}",
                                            hint="Turn outgoing authentication off, or use port 587.")
            _login(smtp, s.credentials)
        return smtp

    def send(self, from_addr: str, recipients: list[str], raw: bytes) -> dict[str, tuple[int, bytes]]:
        """Send one message. Only a 250 after DATA returns; anything else raises.

        Returns the recipients the server refused when it accepted some of them.
        """
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        sender, rcpts, options = self._envelope(from_addr, recipients)
        try:
            return self._smtp.sendmail(sender, rcpts, raw, mail_options=options)
        except Exception as exc:
            err = translate(exc, self.settings.host, self.settings.port)
            dropped = isinstance(exc, smtplib.SMTPServerDisconnected) or (
                isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException))  # SMTPException is an OSError
            if dropped or getattr(err, "code", 0) == 421:
                self.close()
            elif self._smtp is not None:
                try:
                    self._smtp.rset()
                except Exception:  # noqa: BLE001 - the session is suspect; start a new one next time
                    self.close()
            raise err from exc

    def _envelope(self, from_addr: str, recipients: list[str]) -> tuple[str, list[str], list[str]]:
        """The sender and recipients as sent, and MAIL FROM's options: SMTPUTF8 when an address
        needs it and the server offers it; when it does not, this item cannot go to this server,
        and says so."""
        assert self._smtp is not None
        sender, utf8 = wire_address(from_addr)
        needs = [from_addr] if utf8 else []
        rcpts = []
        for address in recipients:
            wire, utf8 = wire_address(address)
            rcpts.append(wire)
            if utf8:
                needs.append(address)
        if not needs:
            return sender, rcpts, []
        if not self._smtp.has_extn("smtputf8") and needs[0] == from_addr:
            raise AddressNotSendable(
                f"the practice's address {from_addr!r} has letters before the @ that {self.settings.host} does not "
                "accept (no SMTPUTF8)", sender=True,
                hint="The email provider's server cannot send from an address with accented letters before the @: "
                     "set another practice address in the setup wizard, or ask the provider to turn on SMTPUTF8.")
        if not self._smtp.has_extn("smtputf8"):
            raise AddressNotSendable(
                f"{needs[0]!r} has letters before the @ that {self.settings.host} does not accept (no SMTPUTF8)",
                hint="The email provider's server cannot send to an address with accented letters before the @: "
                     "ask the patient for another address, or ask the provider to turn on SMTPUTF8.")
        return sender, rcpts, ["SMTPUTF8"]

    def dry_run(self, from_addr: str, to_addr: str) -> int:
        """MAIL FROM, RCPT TO, DATA; on 354 the connection is closed without the final dot,
        so the server discards it: nothing is sent. Returns DATA's code (354)."""
        if self._smtp is None:
            self.open()
        smtp = self._smtp
        assert smtp is not None
        try:
            sender, (rcpt,), options = self._envelope(from_addr, [to_addr])
            code, text = smtp.mail(sender, options)
            if code != 250:
                raise rejected(code, text, "sender")
            code, text = smtp.rcpt(rcpt)
            if code not in (250, 251):
                raise rejected(code, text, "recipient")
            code, text = smtp.docmd("DATA")
            if code != 354:
                raise rejected(code, text, "message")
            return code
        except Exception as exc:
            raise translate(exc, self.settings.host, self.settings.port) from exc
        finally:
            self._smtp = None
            try:
                smtp.close()  # no QUIT: inside DATA only the end-of-data dot is understood
            except Exception:  # noqa: BLE001
                pass

    def still_open(self) -> bool:
        """After a quiet spell (a paced wait), a NOOP: a connection the server dropped meanwhile
        is closed here, so the next send opens a fresh one instead of counting a failed attempt
        against an item that was never at fault."""
        if self._smtp is None:
            return False
        try:
            if self._smtp.noop()[0] == 250:
                return True
        except Exception:  # noqa: BLE001 - whatever the failure, this connection is not usable
            pass
        self.close()
        return False

    def abort(self) -> None:
        """From another thread: cut the connection so a blocked send returns at once."""
        smtp = self._smtp
        cut(getattr(smtp, "sock", None) if smtp is not None else None)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001 - closing a broken connection
            try:
                smtp.close()
            except Exception:  # noqa: BLE001
                pass
