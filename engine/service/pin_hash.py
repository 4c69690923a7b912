"""A user's PIN as stored: 4 to 12 ASCII digits, hashed with scrypt and a salt of its own, never in
clear (engine/service/roles.py). The cost (scrypt's n) is stored beside the hash, so a practice
may raise it for PINs set from then on while the older ones still check."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from engine.errors import InputInvalid

PIN = re.compile(r"[0-9]{4,12}")  # ASCII digits: str.isdigit() also takes '٤' and '²'
PIN_COST = 2**14  # scrypt's n for a new PIN; a record without "n" was made with this
R, P = 8, 1


def hashed(pin: str, salt: bytes, n: int = PIN_COST) -> str:
    """scrypt's hex digest; its memory is 128 * R * n bytes (16 MiB at the usual n), allowed up to twice that."""
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=R, p=P, maxmem=2 * 129 * R * n).hex()


def pin_fields(pin: str, n: int = PIN_COST) -> dict[str, Any]:
    """What a user's record stores for `pin`: salt, hash and cost. InputInvalid for a bad PIN."""
    if not isinstance(pin, str) or not PIN.fullmatch(pin):
        raise InputInvalid("a PIN is 4 to 12 digits (0 to 9)", hint="Choose 4 to 12 digits.")
    salt = secrets.token_bytes(16)
    return {"salt": salt.hex(), "hash": hashed(pin, salt, n), "n": n}
