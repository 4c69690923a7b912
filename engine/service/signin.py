"""Signing the practice's mail account in with OAuth 2.0, and the logins the engine uses.

One `TokenKeeper` per data folder (and per provider settings), so the worker, the setup test
and the kiosk share one single flight of token refreshes. The refresh token lives in
`<data>/oauth-signin.json`, sealed with the secrets key; the access token only in memory.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.adapters.oauth import (Client, DeviceCode, Endpoints, TokenKeeper, Tokens, discover, poll_device,
                                   sign_in_browser, start_device)
from engine.adapters.oauth_store import SignInFile
from engine.adapters.proxy import Proxy, proxy_for
from engine.adapters.sasl import SIGN_IN_AGAIN, OAuth2Login, SignInRequired
from engine.adapters.smtp import Credentials, Password
from engine.core.oauth_presets import PRESETS, endpoint, scopes_from
from engine.errors import AuthenticationRefused, SettingsInvalid
from engine.service.practice import Practice

_keepers: dict[tuple[Any, ...], TokenKeeper] = {}
_keepers_lock = threading.Lock()
PROVIDER_KEYS = ("oauth.provider", "oauth.client_id", "oauth.tenant", "oauth.issuer", "oauth.scopes")


def uses_oauth(practice: Practice, direction: str) -> bool:
    s = practice.settings
    if direction == "outgoing":
        return s.get("outgoing.auth") == "oauth2"
    return s.get("incoming.auth") == "oauth2"


def endpoints(practice: Practice) -> Endpoints:
    s = practice.settings
    provider = s.get("oauth.provider")
    preset = PRESETS.get(provider)
    if preset is not None:
        tenant = s.get("oauth.tenant") or ""
        return Endpoints(provider, endpoint(preset.authorization, tenant), endpoint(preset.token, tenant),
                         endpoint(preset.device, tenant), preset.revocation)
    if provider == "custom" and s.get("oauth.issuer"):
        return discover(s.get("oauth.issuer"), proxy=practice_proxy(practice))
    raise SettingsInvalid("oauth.provider", "no sign-in provider is set",
                          "Set oauth.provider to microsoft, google or custom (with oauth.issuer).")


def client(practice: Practice) -> Client:
    s = practice.settings
    if not s.get("oauth.client_id"):
        raise SettingsInvalid("oauth.client_id", "no client id is set",
                              "Set oauth.client_id to the app's id from the provider's registration.")
    return Client(s.get("oauth.client_id"), scopes_from(s.get("oauth.scopes") or "", PRESETS.get(s.get("oauth.provider"))),
                  s.secret("oauth.client_secret"), proxy=practice_proxy(practice))


def practice_proxy(practice: Practice, email: bool = False) -> Proxy | None:
    """The practice's proxy (proxy.*), its password read only when it has a user; for the mail
    protocols (`email`) only when proxy.use_for_email is on."""
    settings = practice.settings
    return proxy_for(settings.snapshot().proxy, lambda: settings.secret("proxy.password"), email)


def sign_in_file(practice: Practice) -> SignInFile:
    return SignInFile(practice.folder, practice.secrets)


def keeper(practice: Practice) -> TokenKeeper:
    """The one token keeper for this data folder and these provider settings."""
    s = practice.settings
    key = (str(practice.folder), *(str(s.get(k)) for k in PROVIDER_KEYS))
    with _keepers_lock:
        found = _keepers.get(key)
        if found is None:
            for old in [k for k in _keepers if k[0] == key[0]]:
                del _keepers[old]  # the provider changed: the old keeper's token is of no use
            found = _keepers[key] = TokenKeeper(endpoints(practice), client(practice), sign_in_file(practice))
        else:
            found.client = client(practice)  # the proxy may have changed (its password too): the same sign-in
        return found


def credentials(practice: Practice, direction: str) -> Credentials | None:
    """The login for `direction` ("outgoing" / "incoming"): a password or the signed-in account."""
    s = practice.settings
    user = s.get("account.username")
    if uses_oauth(practice, direction):
        return OAuth2Login(user, _Lazy(practice))
    if direction == "outgoing" and not user:
        return None
    return Password(user, s.secret("account.password"))


class _Lazy:
    """The keeper, found when a token is first wanted: building login settings does no I/O (a
    custom provider's discovery is a request), and missing provider settings become a login
    error with its hint, on the pass that needed them."""

    def __init__(self, practice: Practice) -> None:
        self.practice = practice

    def access_token(self, refresh: bool = False) -> str:
        try:
            found = keeper(self.practice)
        except SettingsInvalid as exc:
            raise AuthenticationRefused(f"sign-in is not set up: {exc.message}", hint=exc.hint) from exc
        try:
            return found.access_token(refresh)
        except SignInRequired as exc:
            exc.hint = sign_in_hint(self.practice.settings.get("oauth.provider"))
            raise


def sign_in_hint(provider: str) -> str:
    """"Sign in to Microsoft again": the light names the provider the receptionist knows."""
    name = {"microsoft": "Microsoft", "google": "Google"}.get(provider)
    return SIGN_IN_AGAIN.replace("the mail account", name, 1) if name else SIGN_IN_AGAIN


def _adopt(practice: Practice, tokens: Tokens) -> dict[str, Any]:
    k = keeper(practice)
    k.adopt(tokens)
    sign_in_file(practice).save(tokens.refresh_token, account=practice.settings.get("account.username"))
    return summary(practice)


def sign_in(practice: Practice, open_browser: Callable[[str], Any] = webbrowser.open,
            cancel: threading.Event | None = None, timeout: float = 300.0) -> dict[str, Any]:
    """The browser flow: authorization code with PKCE, back to a loopback listener."""
    return _adopt(practice, sign_in_browser(endpoints(practice), client(practice), open_browser, cancel, timeout))


def begin_device(practice: Practice) -> DeviceCode:
    return start_device(endpoints(practice), client(practice))


def finish_device(practice: Practice, device: DeviceCode, wait: Callable[[float], bool]) -> dict[str, Any]:
    return _adopt(practice, poll_device(endpoints(practice), client(practice), device, wait))


def sign_out(practice: Practice) -> dict[str, Any]:
    """Revoke at the provider where it can, and forget the tokens here."""
    try:
        keeper(practice).revoke()
    except SettingsInvalid:
        sign_in_file(practice).save("")
    return summary(practice)


def summary(practice: Practice) -> dict[str, Any]:
    """For `status`: who is signed in and when the token was last refreshed; never a token."""
    info: dict[str, Any] = dict(sign_in_file(practice).summary())
    info["provider"] = practice.settings.get("oauth.provider")
    in_use = [d for d in ("outgoing", "incoming") if uses_oauth(practice, d)]
    info["used_for"] = in_use
    return info


def data_file(practice: Practice) -> Path:
    return sign_in_file(practice).path


def suggest(address: str, urls: list[str] | None = None, proxy: Proxy | None = None) -> str:
    """The preset the practice address suggests: a known mail domain at once, else what the
    domain's autoconfig document names (Microsoft 365 or Google servers), asked through the
    practice's `proxy` if it has one; "" when nothing says.
    Shown as a suggestion only. Asks the network: never call it on the GUI thread."""
    from engine.adapters.autoconfig import lookup
    from engine.core.oauth_presets import propose

    known = propose(address)
    if known:
        return known
    found = lookup(address, urls=urls, proxy=proxy)
    return found.preset if found is not None else ""
