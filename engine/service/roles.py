"""Roles at the front desk: reception, dentist, super user; a PIN each, stored hashed
(scrypt with a salt), never in clear; and what each may do."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from engine.adapters.storage import RID, Storage
from engine.errors import InputInvalid, PracticeMailError

ROLES = ("reception", "dentist", "super user")
PERMISSIONS: dict[str, frozenset[str]] = {
    "reception": frozenset(),
    "dentist": frozenset({"view_html"}),
    "super user": frozenset({"view_html", "hyperlinks", "setup_wizard", "admin_actions", "manage_pins",
                             "unlock_sms_account"}),
}


class PinRefused(PracticeMailError):
    default_hint = "Try the PIN again, or ask the practice manager."


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def _hash(pin: str, salt: bytes) -> str:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=2**14, r=8, p=1).hex()


class Roles:
    def __init__(self, store: Storage) -> None:
        self._c = store.collection("roles")

    def _record(self, role: str) -> dict | None:  # type: ignore[type-arg]
        found = self._c.find_by("role", role)
        return found[0] if found else None

    def has_pin(self, role: str) -> bool:
        return self._record(role) is not None

    def set_pin(self, role: str, pin: str) -> None:
        if role not in ROLES:
            raise InputInvalid(f"{role!r} is not a role", hint=f"Use one of: {', '.join(ROLES)}.")
        if not pin.isdigit() or not 4 <= len(pin) <= 12:
            raise InputInvalid("a PIN is 4 to 12 digits", hint="Choose 4 to 12 digits.")
        salt = secrets.token_bytes(16)
        body = {"role": role, "salt": salt.hex(), "hash": _hash(pin, salt)}
        rec = self._record(role)
        if rec is None:
            self._c.insert(body)
        else:
            self._c.update(rec[RID], body)

    def verify(self, role: str, pin: str) -> bool:
        """A role without a PIN yet (a fresh install) opens without one."""
        rec = self._record(role)
        if rec is None:
            return True
        return hmac.compare_digest(rec["hash"], _hash(pin, bytes.fromhex(rec["salt"])))

    def sign_in(self, role: str, pin: str) -> str:
        if role not in ROLES:
            raise InputInvalid(f"{role!r} is not a role", hint=f"Use one of: {', '.join(ROLES)}.")
        if not self.verify(role, pin):
            raise PinRefused(f"the PIN for {role} is not right")
        return role
