"""Email addresses: validation and the normal form used for matching.

Deliberately strict about what we accept from imports and settings (a plain
`local@domain.tld`, no display name, no spaces or control characters), because
a practice's records are typed by hand and a typo should be caught at import,
not at 08:00 when the reminders go out.
"""

from __future__ import annotations

import re
import unicodedata

import idna

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LOCAL = re.compile(rf"^[{_ATEXT}\u0080-\U0010ffff]+(?:\.[{_ATEXT}\u0080-\U0010ffff]+)*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")
# a non-ASCII character must be a visible one: no controls, format characters
# (bidi overrides among them), separators (U+2028/2029) or unassigned code points
_VISIBLE = ("L", "M", "N", "P", "S")


def smtp_form(address: str) -> tuple[str, bool]:
    """The address as it goes on the wire in MAIL FROM and RCPT TO: the domain in IDNA 2008
    A-labels (`bücher.example` -> `xn--bcher-kva.example`), and whether the local part is not
    ASCII, so the server must offer SMTPUTF8 (RFC 6531) to take it. ValueError says why an
    address cannot be sent at all.

    IDNA 2008 with UTS 46 mapping, from the `idna` package, not the standard library's codec:
    that one is IDNA 2003, which maps `ß` to `ss` and so would send `straße.de`'s mail to
    another domain, and which accepts code points IDNA 2008 forbids.
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an address needs a name, an @ and a domain")
    plain = address.isascii()
    if not plain and any(unicodedata.category(ch)[0] not in _VISIBLE for ch in address if ord(ch) > 127):
        raise ValueError("the address holds an invisible or control character")
    if not plain and not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(f"the domain cannot be written for the internet: {exc}") from None
    if not _DOMAIN.fullmatch(domain) or len(domain) > 253:
        raise ValueError("the domain is not a host name")
    if not _LOCAL.fullmatch(local) or len(local.encode("utf-8")) > 64:
        raise ValueError("the part before the @ is not allowed in an address")
    return (address if plain else f"{local}@{domain}"), not (plain or local.isascii())


def is_valid_address(text: str) -> bool:
    """A plain address that sending can put on the wire: says exactly what `smtp_form` says
    (whether the server takes a non-ASCII local part is known only when sending)."""
    if len(text) > 254:
        return False
    try:
        wire, _ = smtp_form(text)
    except ValueError:
        return False
    return len(wire.encode("utf-8")) <= 254


def normalise_address(text: str) -> str:
    """Case-insensitive, trimmed: the form two addresses are compared in."""
    return text.strip().strip("<>").strip().lower()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else "localhost"
