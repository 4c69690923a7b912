"""Signing in with OAuth 2.0, and keeping the access token current. authlib does the protocol
(PKCE, the authorization URL and its `state`, token requests and responses, refresh, revocation);
this module adds the loopback listener, the device-code polling loop and the single flight.

- Authorization code + PKCE (S256) with a loopback redirect (RFC 8252 §7.3): a listener on an
  ephemeral port of 127.0.0.1, one request accepted, `state` checked, the listener closed.
- Device authorization grant (RFC 8628): polled at the server's interval, 5 s more at slow_down.
- `TokenKeeper`: the access token only in memory, refreshed ahead of expiry by one thread at a
  time; a rotated refresh token is saved (encrypted, atomically) before the access token that
  came with it is used; invalid_grant becomes SignInRequired; a token endpoint that is down is
  ridden out while the access token in hand is still good.
"""

from __future__ import annotations

import http.server
import logging
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException

from engine.adapters.logs import redact_value
from engine.adapters.proxy import Proxy, http_session, routed
from engine.adapters.sasl import NO_CONSENT, SignInRequired
from engine.core.outside import outside_line
from engine.errors import AuthenticationRefused, ProxyFailed, ServerUnreachable

log = logging.getLogger("practicemail.oauth")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LEEWAY = 120.0  # seconds before expiry that a token is refreshed
BACKOFF_MIN, BACKOFF_MAX = 15.0, 300.0  # between refresh attempts while the token endpoint fails
UNREACHABLE = "The sign-in service could not be reached: check the internet connection; it will be tried again."


class SignInCancelled(AuthenticationRefused):
    default_hint = "Sign-in was cancelled; start it again when ready."


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    device: str = ""
    revocation: str = ""


@dataclass(frozen=True)
class Client:
    client_id: str
    scopes: tuple[str, ...]
    client_secret: str = field(default="", repr=False)
    timeout: float = 30.0
    proxy: Proxy | None = None  # the practice's proxy: every request to the provider goes through it


@dataclass(frozen=True)
class DeviceCode:
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    interval: int
    expires_in: int
    device_code: str = field(repr=False)


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str = field(repr=False)


def _session(client: Client, **kw: Any) -> OAuth2Session:
    method = "client_secret_post" if client.client_secret else "none"
    session = OAuth2Session(client.client_id, client.client_secret or None, scope=" ".join(client.scopes),
                            token_endpoint_auth_method=method, code_challenge_method="S256", **kw)
    routed(session, client.proxy)  # authlib's session is a requests session: through the proxy too
    return session


def _tokens(raw: dict[str, Any], refresh_fallback: str = "") -> Tokens:
    access = str(raw.get("access_token", ""))
    refresh = str(raw.get("refresh_token") or refresh_fallback)
    for secret in (access, refresh):
        if secret:
            redact_value(secret)
    expires_at = float(raw.get("expires_at") or time.time() + float(raw.get("expires_in") or 3600))
    return Tokens(access, expires_at, refresh)


def oauth_failure(exc: OAuthError, what: str) -> AuthenticationRefused:
    """An OAuth error answer as the error a person can act on. The provider's `error` and
    `error_description` are a server's words (any JSON value, any length, any characters): read
    through the untrusted-text door (engine/core/outside.py) before anything is decided on them
    or shown, logged or stored (the light, the CLI, the heartbeat)."""
    error, description = outside_line(exc.error, 60), outside_line(exc.description, 200)
    text = f"{what}: {error or 'an error'}" + (f": {description}" if description else "")
    if error == "consent_required" or "AADSTS65001" in description:
        return AuthenticationRefused(text, hint=NO_CONSENT)
    if error in ("access_denied", "expired_token"):
        return SignInCancelled(text, hint="The sign-in was declined or took too long: start it again.")
    return SignInRequired(text)


def _network(what: str, exc: Exception) -> ServerUnreachable:
    if isinstance(exc, ProxyFailed):  # its own words and hint: the proxy, not the provider
        return exc
    return ServerUnreachable(f"{what}: {type(exc).__name__}: {outside_line(exc, 200)}", hint=UNREACHABLE)


def discover(issuer: str, timeout: float = 15.0, proxy: Proxy | None = None) -> Endpoints:
    """RFC 8414 authorization-server metadata, falling back to OpenID Connect discovery."""
    parts = urlsplit(issuer.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    candidates = (f"{base}/.well-known/oauth-authorization-server{parts.path}",
                  f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    for url in candidates:
        try:
            with http_session(proxy) as web:
                reply = web.get(url, timeout=timeout)
            doc = reply.json() if reply.status_code == 200 else None
        except (requests.RequestException, ValueError):
            doc = None
        if isinstance(doc, dict) and doc.get("authorization_endpoint") and doc.get("token_endpoint"):
            return Endpoints(str(doc.get("issuer", issuer)), doc["authorization_endpoint"], doc["token_endpoint"],
                             doc.get("device_authorization_endpoint", ""), doc.get("revocation_endpoint", ""))
    raise AuthenticationRefused(f"no OAuth metadata at {issuer}",
                                hint="Check the issuer address (oauth.issuer) with your provider.")


# -- authorization code + PKCE, loopback redirect ---------------------------------------------
class _Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.answer = self.path  # type: ignore[attr-defined]
        page = b"<!doctype html><title>Signed in</title><p>You can close this window and return to practicemail.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: Any) -> None:  # the query holds the code: never logged
        pass


def sign_in_browser(endpoints: Endpoints, client: Client, open_browser: Callable[[str], Any] = webbrowser.open,
                    cancel: threading.Event | None = None, timeout: float = 300.0) -> Tokens:
    """Open the system browser at the consent page and wait for its one redirect back."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Callback)
    server.timeout = 0.25
    server.answer = None  # type: ignore[attr-defined]
    redirect = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        session = _session(client, redirect_uri=redirect)
        verifier = generate_token(64)
        url, state = session.create_authorization_url(endpoints.authorization, code_verifier=verifier)
        open_browser(url)
        deadline = time.monotonic() + timeout
        while server.answer is None:  # type: ignore[attr-defined]
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                raise SignInCancelled("sign-in was cancelled or timed out before the browser came back")
            server.handle_request()
    finally:
        server.server_close()  # one request accepted; nothing listens after it
    answer = f"{redirect.rstrip('/')}{server.answer}"  # type: ignore[attr-defined]
    back = dict(parse_qsl(urlsplit(answer).query))
    if "error" in back and back.get("state") == state:  # the provider's answer: declined, no consent...
        raise oauth_failure(OAuthError(back["error"], back.get("error_description", "")), "sign-in refused")
    try:
        raw = session.fetch_token(endpoints.token, authorization_response=answer, state=state,
                                  code_verifier=verifier, timeout=client.timeout)
    except MismatchingStateException as exc:
        raise AuthenticationRefused("the browser came back with another sign-in's state",
                                    hint="Start the sign-in again from practicemail.") from exc
    except OAuthError as exc:
        raise oauth_failure(exc, "sign-in refused") from exc
    except (requests.RequestException, ProxyFailed) as exc:
        raise _network("sign-in", exc) from exc
    return _tokens(raw)


# -- device authorization grant ---------------------------------------------------------------
def start_device(endpoints: Endpoints, client: Client) -> DeviceCode:
    if not endpoints.device:
        raise AuthenticationRefused(f"{endpoints.issuer} offers no device sign-in",
                                    hint="Sign in with the browser instead.")
    data = {"client_id": client.client_id, "scope": " ".join(client.scopes)}
    try:
        with http_session(client.proxy) as web:
            reply = web.post(endpoints.device, data=data, timeout=client.timeout)
        doc = reply.json()
    except (requests.RequestException, ProxyFailed, ValueError) as exc:
        raise _network("device sign-in", exc) from exc
    if not isinstance(doc, dict):
        raise _network("device sign-in", ValueError("the answer is not an OAuth document"))
    if reply.status_code != 200 or "device_code" not in doc:
        raise oauth_failure(OAuthError(doc.get("error", "server_error"), doc.get("error_description")), "device sign-in")
    try:  # what the person is shown to type and where: the server's words, as one line each
        return DeviceCode(outside_line(doc["user_code"], 40), outside_line(doc["verification_uri"], 500),
                          outside_line(doc.get("verification_uri_complete") or doc["verification_uri"], 500),
                          int(doc.get("interval", 5)), int(doc.get("expires_in") or 900), str(doc["device_code"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise _network("device sign-in", exc) from exc


def poll_device(endpoints: Endpoints, client: Client, device: DeviceCode,
                wait: Callable[[float], bool]) -> Tokens:
    """Poll until the user approves. `wait(seconds)` returns True to cancel."""
    session = _session(client)
    interval = float(device.interval)
    while True:
        if wait(interval):
            raise SignInCancelled("device sign-in was cancelled")
        try:
            raw = session.fetch_token(endpoints.token, grant_type=DEVICE_GRANT, device_code=device.device_code,
                                      client_id=client.client_id, timeout=client.timeout)
            return _tokens(raw)
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5  # RFC 8628 §3.5
                continue
            raise oauth_failure(exc, "device sign-in refused") from exc
        except (requests.RequestException, ProxyFailed) as exc:
            raise _network("device sign-in", exc) from exc


# -- keeping the access token current ---------------------------------------------------------
class RefreshTokenStore(Protocol):
    def load(self) -> str: ...

    def save(self, refresh_token: str) -> None: ...


class TokenKeeper:
    """The token source for one account, shared by the worker, the setup test and the kiosk."""

    def __init__(self, endpoints: Endpoints, client: Client, store: RefreshTokenStore,
                 now: Callable[[], float] = time.time, leeway: float = LEEWAY) -> None:
        self.endpoints, self.client, self.store = endpoints, client, store
        self._now, self._leeway = now, leeway
        self._flight = threading.Lock()  # the single flight: held only by the thread refreshing
        self._access = ""
        self._expires_at = 0.0
        self._retry_at = 0.0  # after a failed refresh, not tried again before this while the token is good
        self._backoff = 0.0
        self._margin = leeway  # refreshed this long before expiry: the leeway, or a quarter of a short life
        self.refreshed_at: float | None = None
        self.refreshes = 0

    def _hold(self, tokens: Tokens) -> None:
        now = self._now()
        self._access, self._expires_at = tokens.access_token, tokens.expires_at
        self._margin = min(self._leeway, max(0.0, tokens.expires_at - now) / 4)
        self.refreshed_at = now

    def adopt(self, tokens: Tokens) -> None:
        """A fresh sign-in's tokens: the refresh token saved first, then the access token used."""
        with self._flight:
            self.store.save(tokens.refresh_token)
            self._hold(tokens)

    def forget(self) -> None:
        with self._flight:
            self._access, self._expires_at = "", 0.0

    def access_token(self, refresh: bool = False) -> str:
        stale = self._access
        with self._flight:
            if self._access and self._access != stale:
                return self._access  # another thread refreshed while this one waited
            now = self._now()
            if not refresh and self._access and self._expires_at > now and (
                    self._expires_at - self._margin > now or now < self._retry_at):
                return self._access  # current, or due but the endpoint failed lately (backoff)
            return self._refresh()

    def _refresh(self) -> str:
        old = self.store.load()
        if not old:
            raise SignInRequired("not signed in to the mail account")
        session = _session(self.client)
        try:
            raw = session.refresh_token(self.endpoints.token, refresh_token=old, timeout=self.client.timeout)
        except OAuthError as exc:
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client", "consent_required"):
                self._access, self._expires_at = "", 0.0
                raise oauth_failure(exc, "the sign-in was refused") from exc
            return self._ride_out(exc)
        except (requests.RequestException, ProxyFailed, ValueError) as exc:
            return self._ride_out(exc)
        tokens = _tokens(dict(raw), refresh_fallback=old)
        # saved before the access token is used (a crash now still leaves a good one), and saved
        # when it did not rotate too, so the file says when the sign-in was last refreshed
        self.store.save(tokens.refresh_token)
        self._hold(tokens)
        self._retry_at, self._backoff = 0.0, 0.0
        self.refreshes += 1
        return self._access

    def _ride_out(self, exc: Exception) -> str:
        """The token endpoint failed (down, slow, 5xx): keep using a token that is still good."""
        if self._access and self._expires_at > self._now():
            self._backoff = min(BACKOFF_MAX, max(BACKOFF_MIN, self._backoff * 2))
            self._retry_at = self._now() + self._backoff
            log.warning("token refresh failed (%s); the current token is still good", type(exc).__name__)
            return self._access
        raise _network("refreshing the sign-in", exc) from exc

    def revoke(self) -> None:
        token = self.store.load()
        if token and self.endpoints.revocation:
            try:
                _session(self.client).revoke_token(self.endpoints.revocation, token=token,
                                                   token_type_hint="refresh_token", timeout=self.client.timeout)
            except (OAuthError, requests.RequestException, ProxyFailed):
                log.warning("revoking the sign-in at the provider failed; it is forgotten here anyway")
        self.store.save("")
        self.forget()

