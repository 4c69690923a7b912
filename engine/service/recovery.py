"""A super user's recovery code: the way back in when the only super user forgets their PIN.

A code is 4 groups of 5 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn
with `secrets`: about 99 bits, safe even against someone who copied the data folder and tries
codes offline against the stored hash. It is kept only as a hash, made as a PIN's is (scrypt with
a salt of its own, engine/service/pin_hash.py), in the user's record ("code_salt", "code_hash",
"code_n"), and is shown once: when a user whose group manages users first has a PIN, and when
they ask for a new one (the Users page, `practicemail users recovery-code`). It is never logged.

`recover` takes the code and a new PIN: a wrong code counts as a wrong PIN towards the lock-out
(pin_tries.py) and changes nothing; the right one sets the PIN, and the code is used up: a new
one replaces it (shown once, to be printed and kept in the safe again).

Who may use a user without a PIN: on a fresh practice (no user who manages users has a PIN
yet) they sign in without one, but with nothing that needs "manage" until they choose a PIN
(Roles.again); once someone who manages users has a PIN, a user without one cannot sign in
at all (Roles.sign_in): a default account left without a PIN is no way in.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import TYPE_CHECKING, Any

from engine.adapters.storage import RID
from engine.errors import InputInvalid
from engine.service.pin_hash import PIN_COST, hashed, pin_fields

if TYPE_CHECKING:
    from engine.service.roles import Roles

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L: read off paper without doubt
GROUPS, GROUP_LEN = 4, 5
MANAGE = "manage_pins"

log = logging.getLogger("practicemail.service")


def new_code() -> str:
    """XXXXX-XXXXX-XXXXX-XXXXX from `secrets`."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(chars[i:i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def normal(code: str) -> str:
    """The code as hashed: capitals, without the spaces and dashes it was written with."""
    return "".join(ch for ch in str(code).upper() if ch not in " -\t")


def code_fields(code: str, n: int = PIN_COST) -> dict[str, Any]:
    salt = secrets.token_bytes(16)
    return {"code_salt": salt.hex(), "code_hash": hashed(normal(code), salt, n), "code_n": n}


def matches(rec: dict[str, Any], code: str) -> bool:
    if "code_hash" not in rec or len(normal(code)) != GROUPS * GROUP_LEN:
        return False
    found = hashed(normal(code), bytes.fromhex(rec["code_salt"]), int(rec.get("code_n", PIN_COST)))
    return hmac.compare_digest(rec["code_hash"], found)


def manages(roles: "Roles", rec: dict[str, Any]) -> bool:
    group = roles.group(rec["group"])
    return group is not None and MANAGE in group.permissions


def claimed(roles: "Roles") -> bool:
    """Whether a user who manages users has a PIN (the practice is no longer a fresh one)."""
    return any("hash" in r and manages(roles, r) for r in roles._user_records())


def has_code(roles: "Roles", name: str) -> bool:
    rec = roles._user_record(name)
    return rec is not None and "code_hash" in rec


def _write(roles: "Roles", name: str, fields: dict[str, Any]) -> str:
    """`fields` merged into `name`'s record, in the users' one step; the stored name."""
    with roles._one_step():
        rec = roles._require_user(name)
        with roles._lock:
            for r in roles._users.all():
                if r["name"].casefold() == rec["name"].casefold():
                    roles._users.update(r[RID], fields)
    return str(rec["name"])


def issue(roles: "Roles", name: str) -> str:
    """A new recovery code for `name` (a user with a PIN whose group manages users): the old one
    stops working. The code is returned to be shown once; only its hash is stored."""
    rec = roles._require_user(name)
    if not manages(roles, rec) or "hash" not in rec:
        raise InputInvalid(f"{rec['name']} cannot have a recovery code",
                           hint="Only a super user with a PIN has one.")
    code = new_code()
    stored = _write(roles, rec["name"], code_fields(code, roles.pin_cost))
    log.info("user %r has a new recovery code", stored)
    return code


def first_code(roles: "Roles", name: str) -> str | None:
    """After `name` got a PIN: their first recovery code if they manage users and have none."""
    rec = roles._user_record(name)
    if rec is None or "hash" not in rec or "code_hash" in rec or not manages(roles, rec):
        return None
    return issue(roles, rec["name"])


def recover(roles: "Roles", name: str, code: str, pin: str) -> str:
    """The recovery code (`code`) gives `name` a new PIN (`pin`); the code is used up and the new
    one returned. A wrong code: PinRefused, counted towards the lock-out, nothing changed."""
    from engine.service.roles import PinRefused, _key

    rec = roles._user_record(str(name))
    if rec is None:
        raise PinRefused("that name and recovery code do not match", hint="Check the name and the code on the paper.")
    roles._refuse_if_locked(rec["name"])
    if not roles.tries.counted():
        raise PinRefused("a recovery code cannot be checked where the practice is open read-only",
                         hint="Run it on the computer that holds the practice's data folder.")
    fields = {**pin_fields(pin, roles.pin_cost)}  # a bad new PIN refused before the code is tried
    code_next = new_code()
    fields.update(code_fields(code_next, roles.pin_cost))
    right = matches(rec, code)
    if right:
        with roles._one_step():
            now = roles._require_user(rec["name"])
            right = matches(now, code)  # two uses at once: the second finds the code replaced
            if right:
                with roles._lock:
                    for r in roles._users.all():
                        if _key(r["name"]) == _key(rec["name"]):
                            roles._users.update(r[RID], fields)
    if not right:
        until = roles.tries.wrong(_key(rec["name"]), rec["name"])
        if until is not None:
            raise roles._locked(rec["name"], until)
        raise PinRefused("that name and recovery code do not match", hint="Check the name and the code on the paper.")
    roles.tries.clear(_key(rec["name"]))
    log.info("user %r has a new PIN from their recovery code (a new code replaces it)", rec["name"])
    return code_next


class Recovery:
    """The recovery codes of one App's users (`app.recovery`), for the kiosk and the CLI."""

    def __init__(self, roles: "Roles") -> None:
        self.roles = roles

    def claimed(self) -> bool:
        return claimed(self.roles)

    def has_code(self, name: str) -> bool:
        return has_code(self.roles, name)

    def issue(self, name: str) -> str:
        return issue(self.roles, name)

    def first_code(self, name: str) -> str | None:
        return first_code(self.roles, name)

    def recover(self, name: str, code: str, pin: str) -> str:
        return recover(self.roles, name, code, pin)

    def must_choose_pin(self, user: str) -> bool:
        """`user` signed in without a PIN and their group manages users: a PIN first (fresh practice)."""
        rec = self.roles._user_record(user) if user else None
        return rec is not None and "hash" not in rec and manages(self.roles, rec) and not self.claimed()
