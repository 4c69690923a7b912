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


# Providers whose mailboxes are certainly the same under these spellings: Gmail ignores dots in
# the local part and answers for googlemail.com too. Nothing else is folded: most providers treat
# `a.b` and `ab` as different people, so a guess there could merge two patients.
_SAME_PROVIDER = {"googlemail.com": "gmail.com"}
_DOTS_IGNORED = frozenset({"gmail.com"})


def mailbox_key(text: str) -> str:
    """The mailbox an address reaches: the form people are matched in (who a recipient is,
    who a sender is). Case-insensitive throughout (no provider we meet treats `Ann@` and `ann@`
    as two people), a `+tag` in the local part folded away (`ann+dentist@x` is `ann@x`), and
    the provider's equivalences where they are certain (Gmail: dots ignored, googlemail.com).
    Not for sending: mail goes to the address as typed."""
    address = normalise_address(text)
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return address
    domain = _ascii_domain(domain.rstrip("."))
    domain = _SAME_PROVIDER.get(domain, domain)
    if "+" in local[1:] and not local.startswith('"'):
        local = local[: local.index("+", 1)]
    if domain in _DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def _ascii_domain(domain: str) -> str:
    """A Unicode domain in its DNS form (`bücher.example` is `xn--bcher-kva.example`); left as
    it is when it has no such form."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return domain
