"""Logging in with an OAuth 2.0 access token: XOAUTH2 and OAUTHBEARER (RFC 7628) on SMTP
(AUTH with an initial response, RFC 4954), IMAP (AUTHENTICATE, with SASL-IR when the server
offers it, RFC 4959) and POP3 (AUTH, RFC 5034).

One credential interface serves every protocol: a `Password`, or an `OAuth2Login` whose token
source hands out a current access token. The mechanism is the first of the login's preferences
that the server advertises. A refused token is answered the way the RFC says (an empty reply to
XOAUTH2's error challenge, %x01 to OAUTHBEARER's) and tried once more with a freshly refreshed
token, since a token can be revoked before it expires; then the providers' answers become errors
whose hints say what to do (sign in again; SMTP AUTH turned off for the mailbox; no consent).
"""

from __future__ import annotations

import base64
import binascii
import imaplib
import json
import poplib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from engine.core.outside import outside_line
from engine.errors import AuthenticationRefused

MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
SIGN_IN_AGAIN = "Sign in to the mail account again (Email setup, Sign in): the sign-in has expired or was withdrawn."
SMTP_AUTH_OFF = ("SMTP AUTH is turned off for this mailbox — ask your Microsoft 365 admin to enable "
                 "Authenticated SMTP for it.")
NO_CONSENT = ("The app has no consent in your organisation — ask your Microsoft 365 or Google Workspace "
              "admin to grant it, then sign in again.")
NOT_OFFERED = "The server offers no OAuth sign-in on this port: check the server and port, or use a password."
POP3_LINE = 255  # RFC 2449: a command line, the AUTH initial response included, fits in 255 octets
POP3_ANSWER = 64 * 1024  # a server's answer or challenge line (a provider's JSON challenge is ~200 bytes)


class TokenSource(Protocol):
    """Hands out a current access token (refreshed ahead of expiry, one thread at a time)."""

    def access_token(self, refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class OAuth2Login:
    """A login by access token. `secret()` is the current token, so code written for passwords
    that only needs "the secret" still works; the protocols below never send it as a password."""

    username: str
    tokens: TokenSource = field(repr=False)
    mechanisms: tuple[str, ...] = MECHANISMS  # in order of preference

    def secret(self) -> str:
        return self.tokens.access_token()


class SignInRequired(AuthenticationRefused):
    """The sign-in is no longer good (invalid_grant, consent withdrawn, never signed in)."""

    default_hint = SIGN_IN_AGAIN


def _control(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in text)


def initial_response(mechanism: str, user: str, token: str) -> bytes:
    """The client's first SASL message for a bearer token. A control character in the user name
    or token would end a field early (%x01 separates them) and smuggle in another: refused."""
    if _control(user) or _control(token):
        raise AuthenticationRefused("the account name or token has a control character, so it was not sent",
                                    hint="Retype the account's user name (account.username) without hidden characters.")
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    gs2 = "n,a=" + user.replace("=", "=3D").replace(",", "=2C") + ","
    return f"{gs2}\x01auth=Bearer {token}\x01\x01".encode()


def abort_reply(mechanism: str) -> bytes:
    """What a client answers to the server's error challenge (RFC 7628 §3.2.3; Google's XOAUTH2)."""
    return b"\x01" if mechanism == "OAUTHBEARER" else b""


def choose(offered: set[str], preferred: tuple[str, ...]) -> str:
    for mechanism in preferred:
        if mechanism in offered:
            return mechanism
    raise AuthenticationRefused(f"the server offers {' '.join(sorted(offered)) or 'no login mechanisms'}, "
                                f"none of {', '.join(preferred)}", hint=NOT_OFFERED)


def challenge_status(challenge: bytes) -> str:
    """The `status` of a provider's base64-decoded JSON error challenge ("" when there is none)."""
    try:
        doc = json.loads(challenge.decode("utf-8")) if challenge.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return ""
    return outside_line(doc.get("status", ""), 40) if isinstance(doc, dict) else ""


def refused(what: str, words: str, challenge: bytes = b"") -> AuthenticationRefused:
    """A provider's refusal of a token as the error a person can act on."""
    status, words = challenge_status(challenge), outside_line(words, 300)  # the server's words: one line
    text = f"the {what} server refused the sign-in: {words}" + (f" (status {status})" if status else "")
    if "5.7.139" in words or "SmtpClientAuthentication is disabled" in words:
        return AuthenticationRefused(text, hint=SMTP_AUTH_OFF)
    if "AADSTS65001" in words or "consent" in words.lower():
        return AuthenticationRefused(text, hint=NO_CONSENT)
    return SignInRequired(text)


def _twice(login: OAuth2Login, attempt: Callable[[str], Exception | None]) -> None:
    """Try the current token; if it is refused, once more with a fresh one (it may have been
    revoked or cut short by the provider). SMTP AUTH being off is not worth a second try."""
    error = attempt(login.tokens.access_token())
    if error is not None and getattr(error, "hint", "") != SMTP_AUTH_OFF:
        error = attempt(login.tokens.access_token(refresh=True))
    if error is not None:
        raise error


# -- SMTP -----------------------------------------------------------------------------------
def smtp_login(smtp: smtplib.SMTP, login: OAuth2Login) -> None:
    offered = set(smtp.esmtp_features.get("auth", "").upper().split())
    mechanism = choose(offered, login.mechanisms)

    def attempt(token: str) -> Exception | None:
        seen: list[bytes] = []

        def answer(challenge: bytes | None = None) -> str:
            if challenge is None:
                return initial_response(mechanism, login.username, token).decode("utf-8")
            seen.append(challenge)
            return abort_reply(mechanism).decode()

        try:
            smtp.auth(mechanism, answer, initial_response_ok=True)
        except UnicodeEncodeError as exc:  # smtplib sends SASL responses as ASCII only
            raise AuthenticationRefused(f"the account name {login.username!r} is not plain ASCII, which an SMTP "
                                        "login cannot carry", hint="Use the account's ASCII address as the user "
                                        "name (account.username), as the provider lists it.") from exc
        except smtplib.SMTPAuthenticationError as exc:
            words = exc.smtp_error.decode("utf-8", "replace")
            return refused("outgoing", f"{exc.smtp_code} {words}", b"".join(seen))
        return None

    _twice(login, attempt)


# -- IMAP -----------------------------------------------------------------------------------
def imap_login(imap: imaplib.IMAP4, login: OAuth2Login, capabilities: set[str]) -> None:
    """AUTHENTICATE on imaplib's connection (imapclient's own oauth2_login neither sends an
    initial response nor answers an error challenge as RFC 7628 asks)."""
    offered = {c[5:] for c in capabilities if c.startswith("AUTH=")}
    mechanism = choose(offered, login.mechanisms)
    sasl_ir = "SASL-IR" in capabilities

    def attempt(token: str) -> Exception | None:
        first = initial_response(mechanism, login.username, token)
        seen: list[bytes] = []
        sent = [False]

        def answer(challenge: bytes) -> bytes:
            if not sent[0] and not sasl_ir:
                sent[0] = True
                return first
            seen.append(challenge)
            return abort_reply(mechanism)

        try:
            if sasl_ir:
                # imaplib's authenticate() has no initial response; the same continuation
                # handler, with the response as the command's argument, is SASL-IR: one round
                # trip less per sign-in (a check's login is 3 round trips instead of 4, some
                # 20-100 ms to a provider; nothing on loopback). imaplib has no public way to it.
                imap.literal = imaplib._Authenticator(answer).process  # noqa: SLF001
                typ, dat = imap._simple_command("AUTHENTICATE", mechanism,  # noqa: SLF001
                                                base64.b64encode(first).decode("ascii"))
                if typ != "OK":
                    raise imap.error(dat[-1].decode("utf-8", "replace"))
                imap.state = "AUTH"
            else:
                imap.authenticate(mechanism, answer)
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            return refused("incoming", str(exc), b"".join(seen))
        return None

    _twice(login, attempt)


# -- POP3 -----------------------------------------------------------------------------------
def pop3_login(pop: poplib.POP3, login: OAuth2Login) -> None:
    """RFC 5034 AUTH. The initial response goes on the command line when the line stays within
    255 octets, else after the server's empty challenge (long Microsoft tokens do not fit)."""
    try:
        capa = pop.capa()
    except poplib.error_proto:
        capa = {}
    offered = {m.upper() for m in capa.get("SASL", [])}
    mechanism = choose(offered, login.mechanisms)

    def attempt(token: str) -> Exception | None:
        first = base64.b64encode(initial_response(mechanism, login.username, token)).decode("ascii")
        challenge = b""
        try:
            if len(f"AUTH {mechanism} {first}") <= POP3_LINE - 2:
                resp = _pop3_command(pop, f"AUTH {mechanism} {first}")
            else:
                resp = _pop3_command(pop, f"AUTH {mechanism}")
                if resp.startswith(b"+ ") or resp == b"+":
                    resp = _pop3_command(pop, first)
            if resp.startswith(b"+OK"):
                return None
            challenge = _b64(resp[2:].strip())
            resp = _pop3_command(pop, base64.b64encode(abort_reply(mechanism)).decode("ascii"))
            return refused("incoming", resp.decode("utf-8", "replace"), challenge)
        except poplib.error_proto as exc:
            return refused("incoming", _words(exc), challenge)

    _twice(login, attempt)


def _pop3_command(pop: poplib.POP3, line: str) -> bytes:
    """One line sent and its one-line answer ("+OK", "+ challenge"; "-ERR" raises as poplib does).
    poplib has no AUTH command: this is its own exchange, on the connection's socket and file."""
    pop.sock.sendall(line.encode("ascii") + b"\r\n")
    resp = pop.file.readline(POP3_ANSWER + 1)
    if not resp:
        raise poplib.error_proto("-ERR EOF")
    if len(resp) > POP3_ANSWER:
        raise poplib.error_proto("line too long")
    resp = resp.rstrip(b"\r\n")
    if not resp.startswith(b"+"):
        raise poplib.error_proto(resp)
    return resp


def _b64(data: bytes) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _words(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else b""
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
