"""A small OAuth 2.0 authorization server on the control port, for the mail servers' XOAUTH2
and OAUTHBEARER logins: what Microsoft 365 and Google do, in miniature, so sign-in and token
refresh can be tested against real sockets.

    GET  /.well-known/oauth-authorization-server   RFC 8414 metadata (also at openid-configuration)
    GET  /oauth/authorize      the consent page (login + Accept/Decline); with auto_approve a redirect
    POST /oauth/authorize      the page's form: a redirect to the client's loopback address
    POST /oauth/token          authorization_code (PKCE S256 required), refresh_token (rotated),
                               urn:ietf:params:oauth:grant-type:device_code
    POST /oauth/devicecode     RFC 8628 device authorization
    GET  /oauth/device  POST /oauth/device        the page where the user types the code
    POST /oauth/revoke         RFC 7009
    GET  /oauth/config  POST /oauth/config        the tester's switches (see OAuthConfig)
    POST /oauth/expire         every access token expires now

Faults (`http token ...`): "reply" with `code` (a 5xx, or 400 with `text` an OAuth error such
as invalid_grant or slow_down, or a whole JSON error document when `text` starts with "{": sent
as it is, so a test can play a server whose error and error_description hold anything), "delay"
`seconds`. Tokens and codes are opaque random strings;
none is ever written to the transcript. Nothing here imports engine code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tools.fakemail.faults import Faults
from tools.fakemail.mailstore import MailStore, User

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class OAuthConfig:
    """What a tester may switch while the servers run (POST /oauth/config with any of these)."""

    auto_approve: bool = False  # /authorize signs the first user in without a page; device codes too
    access_lifetime: int = 3600  # seconds
    device_interval: int = 5  # seconds between device-code polls; sooner gets slow_down
    consent_missing: bool = False  # the organisation never consented to the app (AADSTS65001)
    smtp_auth_disabled: list[str] = field(default_factory=list)  # user names: 535 5.7.139
    end_sessions_on_expiry: bool = False  # an IMAP/POP3/SMTP session ends when its token expires


@dataclass
class Grant:
    user: str
    client_id: str
    scope: str
    expires_at: float = 0.0
    redirect_uri: str = ""
    challenge: str = ""
    replaced_by: str = ""  # a rotated refresh token stays good until its successor is used


@dataclass
class DeviceGrant:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    user: str = ""
    denied: bool = False
    last_poll: float = 0.0
    interval: int = 5


def _json(status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})}, \
        json.dumps(doc).encode()


def _error(error: str, description: str = "", status: int = 400) -> Reply:
    return _json(status, {"error": error, "error_description": description or error})


def _page(title: str, body: str) -> Reply:
    doc = f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>" \
          f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    return 200, {"Content-Type": "text/html; charset=utf-8"}, doc.encode()


def _redirect(to: str) -> Reply:
    return 302, {"Location": to}, b""


def is_loopback_redirect(uri: str) -> bool:
    """RFC 8252 §7.3: any port on the loopback address; http://localhost as Entra registers it."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


class OAuthServer:
    def __init__(self, store: MailStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self.config = OAuthConfig()
        self.issuer = ""  # set when the control port is bound
        self.codes: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {}
        self.access: dict[str, Grant] = {}
        self.devices: dict[str, DeviceGrant] = {}
        self.token_requests: list[str] = []  # grant types, in order (for assertions; no secrets)

    # -- what the mail servers ask ------------------------------------------------------
    def check_token(self, username: str, token: str) -> User | None:
        """The user a bearer token signs in, if it is current and belongs to `username`."""
        grant = self.access.get(token)
        if grant is None or grant.expires_at <= time.time():
            return None
        user = self._user(username or grant.user)
        return user if user is not None and user.username == grant.user else None

    def expired(self, token: str) -> bool:
        grant = self.access.get(token)
        return self.config.end_sessions_on_expiry and (grant is None or grant.expires_at <= time.time())

    def smtp_disabled(self, user: User) -> bool:
        return user.username in self.config.smtp_auth_disabled or user.address in self.config.smtp_auth_disabled

    def failure_challenge(self, mechanism: str) -> bytes:
        """The base64 JSON a provider sends before refusing a bearer token (RFC 7628 §3.2.2)."""
        doc: dict[str, str] = {"status": "invalid_token" if mechanism == "OAUTHBEARER" else "401",
                               "schemes": "bearer", "scope": "mail"}
        if mechanism == "OAUTHBEARER":
            doc["openid-configuration"] = f"{self.issuer}/.well-known/openid-configuration"
        return base64.b64encode(json.dumps(doc).encode())

    def _user(self, name: str) -> User | None:
        users = self.store.users
        return users.get(name) or next((u for u in users.values() if u.address == name), None)

    # -- HTTP -----------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        i = self.issuer
        return {"issuer": i, "authorization_endpoint": f"{i}/oauth/authorize", "token_endpoint": f"{i}/oauth/token",
                "device_authorization_endpoint": f"{i}/oauth/devicecode", "revocation_endpoint": f"{i}/oauth/revoke",
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
                "scopes_supported": ["mail", "offline_access"]}

    async def handle(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, str]) -> Reply:
        params = {k: v[0] for k, v in query.items()}
        if path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
            return _json(200, self.metadata())
        if path == "/oauth/config":
            if method == "POST":
                for key, value in form.items():
                    if key not in OAuthConfig.__dataclass_fields__:
                        return _error("invalid_request", f"no switch {key}")
                    setattr(self.config, key, value)
            return _json(200, asdict(self.config))
        if path == "/oauth/expire" and method == "POST":
            for grant in self.access.values():
                grant.expires_at = 0.0
            return _json(200, {"expired": len(self.access)})
        if path == "/oauth/authorize":
            return self.authorize(params if method == "GET" else form, method == "POST")
        if path == "/oauth/token" and method == "POST":
            self.token_requests.append(form.get("grant_type", "")[:60])  # faulted ones too
            fault = self.faults.take("http", "token")
            if fault is not None and fault.action == "delay":
                await asyncio.sleep(fault.seconds)
            elif fault is not None and fault.action == "reply":
                if (fault.code or 503) >= 500:
                    return _json(fault.code or 503, {"error": "temporarily_unavailable"})
                if fault.text.startswith("{"):  # a whole error document, as a hostile server writes it
                    return fault.code or 400, {"Content-Type": "application/json", "Cache-Control": "no-store"}, \
                        fault.text.encode("utf-8", "surrogatepass")
                return _error(fault.text or "invalid_grant", "fault injected", fault.code or 400)
            return self.token(form)
        if path == "/oauth/devicecode" and method == "POST":
            return self.device_authorization(form)
        if path == "/oauth/device":
            return self.device_page(params if method == "GET" else form, method == "POST")
        if path == "/oauth/revoke" and method == "POST":
            self.refresh.pop(form.get("token", ""), None)
            self.access.pop(form.get("token", ""), None)
            return 200, {}, b""
        return _error("not_found", f"no route {method} {path}", 404)

    # -- the authorization endpoint and its consent page ----------------------------------
    def authorize(self, p: dict[str, str], submitted: bool) -> Reply:
        redirect = p.get("redirect_uri", "")
        if not is_loopback_redirect(redirect) or not p.get("client_id"):
            return _page("Sign-in error", "<p>The application's redirect address is not registered.</p>")

        def back(**answer: str) -> Reply:
            answer["state"] = p.get("state", "")
            return _redirect(f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(answer)}")

        if p.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE with S256 is required")
        if self.config.consent_missing:
            return back(error="consent_required", error_description="AADSTS65001: The user or administrator "
                        "has not consented to use the application.")
        user: User | None = None
        if self.config.auto_approve:
            user = next(iter(self.store.users.values()))
        elif submitted:
            if p.get("decision") != "accept":
                return back(error="access_denied", error_description="the user declined")
            user = self.store.check_login(p.get("username", ""), p.get("password", ""))
        if user is None:
            return self._consent_page(p, wrong=submitted)
        code = secrets.token_urlsafe(24)
        self.codes[code] = Grant(user.username, p["client_id"], p.get("scope", ""), time.time() + 600,
                                 redirect, p["code_challenge"])
        return back(code=code)

    def _consent_page(self, p: dict[str, str], wrong: bool) -> Reply:
        keep = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                "code_challenge_method")
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(p.get(k, ""))}">' for k in keep)
        body = ("<p>Wrong user name or password.</p>" if wrong else "") + \
            f"<p>{html.escape(p.get('client_id', ''))} asks to read and send your mail " \
            f"({html.escape(p.get('scope', ''))}).</p>" \
            f'<form method="post" action="/oauth/authorize">{hidden}' \
            '<label>User <input name="username"></label> <label>Password <input name="password" type="password">' \
            '</label> <button name="decision" value="accept">Accept</button> ' \
            '<button name="decision" value="decline">Decline</button></form>'
        return _page("Sign in to fakemail", body)

    # -- the token endpoint ---------------------------------------------------------------
    def token(self, f: dict[str, str]) -> Reply:
        grant_type = f.get("grant_type", "")
        if grant_type == "authorization_code":
            grant = self.codes.pop(f.get("code", ""), None)
            if grant is None or grant.expires_at <= time.time() or grant.client_id != f.get("client_id"):
                return _error("invalid_grant", "the code is unknown, used or expired")
            if f.get("redirect_uri") != grant.redirect_uri:
                return _error("invalid_grant", "redirect_uri does not match")
            verifier = f.get("code_verifier", "")
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(expected, grant.challenge):
                return _error("invalid_grant", "PKCE verification failed")
            return self._issue(grant)
        if grant_type == "refresh_token":
            old = f.get("refresh_token", "")
            grant = self.refresh.get(old)
            if grant is None or grant.client_id != f.get("client_id", grant.client_id):
                return _error("invalid_grant", "AADSTS70000: the refresh token is revoked or expired")
            if self.config.consent_missing:
                return _error("invalid_grant", "AADSTS65001: The user or administrator has not consented "
                              "to use the application.")
            for token, other in list(self.refresh.items()):  # the predecessor is done with now
                if other.replaced_by == old:
                    del self.refresh[token]
            reply = self._issue(grant)
            grant.replaced_by = json.loads(reply[2])["refresh_token"]
            return reply
        if grant_type == DEVICE_GRANT:
            return self._device_token(f)
        return _error("unsupported_grant_type", grant_type[:40])

    def _issue(self, grant: Grant) -> Reply:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(40)
        lifetime = int(self.config.access_lifetime)
        self.access[access] = Grant(grant.user, grant.client_id, grant.scope, time.time() + lifetime)
        self.refresh[refresh] = Grant(grant.user, grant.client_id, grant.scope)
        return _json(200, {"access_token": access, "token_type": "Bearer", "expires_in": lifetime,
                           "refresh_token": refresh, "scope": grant.scope})

    # -- the device authorization grant (RFC 8628) ----------------------------------------
    def device_authorization(self, f: dict[str, str]) -> Reply:
        if not f.get("client_id"):
            return _error("invalid_client", "client_id is required")
        device_code = secrets.token_urlsafe(32)
        user_code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        interval = int(self.config.device_interval)
        grant = DeviceGrant(f["client_id"], f.get("scope", ""), user_code, time.time() + 900, interval=interval)
        if self.config.auto_approve:
            grant.user = next(iter(self.store.users.values())).username
        self.devices[device_code] = grant
        uri = f"{self.issuer}/oauth/device"
        return _json(200, {"device_code": device_code, "user_code": user_code, "verification_uri": uri,
                           "verification_uri_complete": f"{uri}?{urlencode({'user_code': user_code})}",
                           "expires_in": 900, "interval": interval})

    def _device_token(self, f: dict[str, str]) -> Reply:
        grant = self.devices.get(f.get("device_code", ""))
        if grant is None or grant.client_id != f.get("client_id"):
            return _error("invalid_grant", "unknown device code")
        now = time.time()
        if grant.expires_at <= now:
            return _error("expired_token")
        if grant.denied:
            return _error("access_denied")
        if now - grant.last_poll < grant.interval:
            grant.interval += 5
            grant.last_poll = now
            return _error("slow_down")
        grant.last_poll = now
        if not grant.user:
            return _error("authorization_pending")
        del self.devices[f["device_code"]]
        return self._issue(Grant(grant.user, grant.client_id, grant.scope))

    def device_page(self, p: dict[str, str], submitted: bool) -> Reply:
        found = next((g for g in self.devices.values() if g.user_code == p.get("user_code", "").strip().upper()), None)
        if submitted and found is not None:
            if p.get("decision") != "accept":
                found.denied = True
                return _page("Sign-in declined", "<p>You can close this window.</p>")
            user = self.store.check_login(p.get("username", ""), p.get("password", ""))
            if user is not None:
                found.user = user.username
                return _page("Signed in", "<p>You have signed in. You can close this window.</p>")
        code = html.escape(p.get("user_code", ""))
        return _page("Enter the code", ("<p>Wrong code, user name or password.</p>" if submitted else "") +
                     f'<form method="post" action="/oauth/device"><input name="user_code" value="{code}">'
                     '<input name="username"><input name="password" type="password">'
                     '<button name="decision" value="accept">Accept</button>'
                     '<button name="decision" value="decline">Decline</button></form>')


def parse_form(raw: bytes, content_type: str) -> dict[str, str]:
    """A POST body as one value per field: form-encoded, or JSON for the tester's switches."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is expected")
        return doc
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}


def parse_bearer(mechanism: str, raw: bytes) -> tuple[str, str] | None:
    """(user, token) from an XOAUTH2 or OAUTHBEARER (RFC 7628) client response, or None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if mechanism == "XOAUTH2":
        fields = text.split("\x01")
        user = next((f[5:] for f in fields if f.startswith("user=")), "")
    elif mechanism == "OAUTHBEARER":
        gs2, sep, rest = text.partition("\x01")
        if not sep or not gs2.startswith(("n,", "y,")):
            return None
        user = next((p[2:] for p in gs2.split(",") if p.startswith("a=")), "")
        user = user.replace("=2C", ",").replace("=3D", "=")
        fields = rest.split("\x01")
    else:
        return None
    auth = next((f[5:] for f in fields if f.lower().startswith("auth=")), "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user, token
