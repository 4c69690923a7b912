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
