"""Mail providers that sign in with OAuth 2.0, as data: their endpoints, scopes and servers.

`{tenant}` in Microsoft's addresses is `oauth.tenant` (the organisation's tenant id or domain;
"organizations" when unset). A custom provider has no preset: its endpoints come from its
issuer by discovery (engine/adapters/oauth.py) and its servers from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    authorization: str
    token: str
    device: str
    revocation: str
    scopes: tuple[str, ...]
    smtp: tuple[str, int]
    imap: tuple[str, int]
    pop3: tuple[str, int]


_MS = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
PRESETS: dict[str, Preset] = {
    "microsoft": Preset(
        "microsoft", "Microsoft 365 / Outlook.com", f"{_MS}/authorize", f"{_MS}/token", f"{_MS}/devicecode", "",
        ("https://outlook.office.com/SMTP.Send", "https://outlook.office.com/IMAP.AccessAsUser.All",
         "https://outlook.office.com/POP.AccessAsUser.All", "offline_access"),
        ("smtp.office365.com", 587), ("outlook.office365.com", 993), ("outlook.office365.com", 995)),
    "google": Preset(
        "google", "Google Workspace / Gmail", "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/device/code",
        "https://oauth2.googleapis.com/revoke", ("https://mail.google.com/",),
        ("smtp.gmail.com", 587), ("imap.gmail.com", 993), ("pop.gmail.com", 995)),
}


def endpoint(template: str, tenant: str) -> str:
    return template.replace("{tenant}", tenant.strip() or "organizations")


def scopes_from(text: str, preset: Preset | None) -> tuple[str, ...]:
    """`oauth.scopes` (space or comma separated) overrides the preset's scopes."""
    own = tuple(s for s in text.replace(",", " ").split() if s)
    return own or (preset.scopes if preset is not None else ("offline_access",))


KNOWN_DOMAINS: dict[str, str] = {
    "gmail.com": "google", "googlemail.com": "google",
    "outlook.com": "microsoft", "hotmail.com": "microsoft", "hotmail.co.uk": "microsoft", "live.com": "microsoft",
    "live.co.uk": "microsoft", "msn.com": "microsoft",
}


def propose(address: str) -> str:
    """The preset a practice address suggests ("" when the domain says nothing): shown as a
    suggestion, never chosen silently. A practice's own domain at Microsoft 365 or Google
    Workspace is not known from its name."""
    domain = address.rpartition("@")[2].strip().lower()
    return KNOWN_DOMAINS.get(domain, "")
