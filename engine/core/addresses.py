"""Email addresses: validation and the normal form used for matching.

Deliberately strict about what we accept from imports and settings (a plain
`local@domain.tld`, no display name, no spaces or control characters), because
a practice's records are typed by hand and a typo should be caught at import,
not at 08:00 when the reminders go out.
"""

from __future__ import annotations

import re

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]{0,61}[A-Za-z0-9\u00a1-\uffff])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$")


def is_valid_address(text: str) -> bool:
    return len(text) <= 254 and bool(_ADDRESS.match(text))


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
