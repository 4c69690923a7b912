"""Asking a practice's domain for its Mozilla-format autoconfig document (as Thunderbird does:
`autoconfig.<domain>` first, then the domain's `.well-known` address), with short timeouts.
Never called on the kiosk's GUI thread; a domain that serves none gives None. Behind a proxy
the practice's proxy is used (a practice that reaches the internet only through one would
otherwise get nothing suggested)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import requests

from engine.adapters.proxy import Proxy, http_session
from engine.core.autoconfig import MAX_DOCUMENT, Proposal, parse
from engine.errors import PracticeMailError


def candidates(address: str) -> list[str]:
    local, at, domain = address.strip().rpartition("@")
    domain = domain.lower()
    if not (local and at and "." in domain) or any(c in domain for c in "/?#@:\\ ") or not domain.isprintable():
        return []
    email = quote(address.strip(), safe="@")
    return [f"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
            f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={email}"]


def lookup(address: str, urls: Sequence[str] | None = None, timeout: float = 5.0,
           verify: bool | str = True, proxy: Proxy | None = None) -> Proposal | None:
    """The first document found that parses, or None. `urls` replaces the usual addresses
    (tests, or a practice's IT person pointing at their own); `proxy`: through it (a proxy that
    fails is one more address that gave nothing: this is only ever a suggestion)."""
    with http_session(proxy) as session:
        for url in urls if urls is not None else candidates(address):
            try:
                with session.get(url, timeout=timeout, stream=True, verify=verify, allow_redirects=True) as reply:
                    if reply.status_code != 200:
                        continue
                    body = reply.raw.read(MAX_DOCUMENT + 1, decode_content=True)
            except (requests.RequestException, OSError, PracticeMailError):
                continue
            found = parse(body)
            if found is not None:
                return found
    return None
