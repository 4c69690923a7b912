"""Who may do what at the desk: security groups with ticked permissions, and users who belong
to a group and sign in with a PIN (stored hashed, scrypt with a salt, never in clear).

The groups a fresh install has are DEFAULT_GROUPS; the practice adds, ticks and unticks from
there (the kiosk's Users page, `practicemail groups`). A desk nobody signed in at works with
the permissions of the DESK group (reception). Two things can never happen, whatever is asked:
the super user group losing the permission to manage users and groups, and the practice being
left without a super user (no lock-out).

A permission added in a later version (one line in PERMISSIONS, and the groups in
DEFAULT_GROUPS that have it) takes its default in every stored group until someone ticks or
unticks it there: each stored group remembers which permissions it has decided.

Before groups there were three fixed roles, each with an optional PIN (collection "roles"):
until the first change here, each of those roles reads as a user of the same name in the group
of the same name, with its PIN, and the first change writes them as such (a practice that set
PINs keeps signing in with them).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from engine.adapters.storage import RID, Storage
from engine.core.names import hidden
from engine.errors import InputInvalid, NotFound, PracticeMailError
from engine.service.pin_hash import PIN_COST, hashed as _hash, pin_fields as _pin_fields
from engine.service import recovery
from engine.service.pin_tries import PinTries

# permission -> what it lets a person do, in the desk's words (the order the page shows them)
PERMISSIONS: dict[str, str] = {
    "view_html": "See the formatted (HTML) version of mail",
    "hyperlinks": "Follow links in mail",
    "setup_wizard": "Email setup",
    "manage_pins": "Users, groups and PINs",
    "admin_actions": "Runbook actions (restart, reset)",
    "templates": "Change templates",
    "mass_email": "Mass email",
    "delete": "Delete messages and outbox items",
    "export_patient_data": "Export with patient data",
    "unlock_sms_account": "Unlock the text-message account after its test",
}
MANAGE = "manage_pins"
SUPER = "super user"
DESK = "reception"  # the group of a desk nobody signed in at
DEFAULT_GROUPS: dict[str, frozenset[str]] = {
    "reception": frozenset({"templates", "mass_email", "delete"}),
    "dentist": frozenset({"templates", "delete"}),
    "practice manager": frozenset({"setup_wizard", "admin_actions", "templates", "mass_email", "delete",
                                   "export_patient_data"}),
    SUPER: frozenset(PERMISSIONS),
}
ROLES = tuple(DEFAULT_GROUPS)  # the groups of a fresh install (the fixed roles' name, kept)
_OLD_ROLES = ("reception", "dentist", "super user")  # the roles before groups, migrated as users
MAX_NAME = 40

log = logging.getLogger("practicemail.service")
# One lock per store (TinyDB: one writer process) for the users' check-and-change, whichever
# Roles (whichever App) asks: PostgreSQL locks the rows in a transaction instead.
_ONE_STEP: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_ONE_STEP_GUARD = threading.Lock()


class PinRefused(PracticeMailError):
    default_hint = "Try the PIN again, or ask the practice manager."


@dataclass(frozen=True)
class Group:
    name: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class User:
    name: str
    group: str
    has_pin: bool


@dataclass(frozen=True)
class SignedIn:
    """Who is at the desk: `user` "" when nobody signed in (the desk group's permissions)."""

    user: str
    group: str
    permissions: frozenset[str]


def allowed(who: SignedIn | str, permission: str) -> bool:
    """May `who` (a signed-in user, or a group's name: its default permissions) do this?"""
    if isinstance(who, SignedIn):
        return permission in who.permissions
    return permission in DEFAULT_GROUPS.get(who, frozenset())


def clean_name(name: str, what: str) -> str:
    """A user's or group's name: 1 to 40 characters, no line ends, controls or bidi marks."""
    text = str(name).strip(" ")
    if not text or len(text) > MAX_NAME:
        raise InputInvalid(f"a {what}'s name is 1 to {MAX_NAME} characters", hint=f"Type a shorter {what} name.")
    if any(hidden(ch) or not ch.isprintable() for ch in text):
        raise InputInvalid(f"a {what}'s name may not hold line ends or hidden characters",
                           hint=f"Type the {what}'s name again in ordinary characters.")
    return text


def _key(name: object) -> str:
    return str(name).casefold()


class Roles:
    """The groups and users of the practice; answers frozen Group, User and SignedIn values."""

    def __init__(self, store: Storage, now: Callable[[], datetime] | None = None,
                 zone: Callable[[], tzinfo] | None = None) -> None:
        """`now`, `zone`: the App's clock and the practice's time zone (wrong PINs lock a user out)."""
        self.tries = PinTries(store, now, zone)
        self.pin_cost = PIN_COST  # scrypt's n for PINs set from now on (a power of 2)
        self._store = store
        self._old = store.collection("roles")
        self._groups = store.collection("groups")
        self._users = store.collection("users")
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------
    def _group_records(self) -> list[dict[str, Any]]:
        stored = self._groups.all()
        if stored:
            return stored
        return [{"name": n, "permissions": sorted(p), "decided": sorted(PERMISSIONS)} for n, p in DEFAULT_GROUPS.items()]

    @staticmethod
    def _group(rec: dict[str, Any]) -> Group:
        name = rec["name"]
        decided = set(rec.get("decided", ()))
        ticked = set(rec.get("permissions", ())) & PERMISSIONS.keys()
        perms = ticked | (DEFAULT_GROUPS.get(name, frozenset()) - decided)
        if name == SUPER:
            perms.add(MANAGE)
        return Group(name, frozenset(perms))

    def groups(self) -> list[Group]:
        seen: dict[str, Group] = {}
        for rec in self._group_records():
            seen.setdefault(_key(rec["name"]), self._group(rec))
        return list(seen.values())

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups() if _key(g.name) == _key(name)), None)

    def _user_records(self) -> list[dict[str, Any]]:
        stored = self._users.all()
        if stored:
            return stored
        pins = {r.get("role"): r for r in self._old.all()}
        return [{"name": role, "group": role, **({"salt": pins[role]["salt"], "hash": pins[role]["hash"]}
                                                  if role in pins else {})} for role in _OLD_ROLES]

    def _user_record(self, name: str) -> dict[str, Any] | None:
        return next((r for r in self._user_records() if _key(r["name"]) == _key(name)), None)

    def users(self) -> list[User]:
        return [User(r["name"], r["group"], "hash" in r) for r in self._user_records()]

    def has_pin(self, name: str) -> bool:
        rec = self._user_record(name)
        return rec is not None and "hash" in rec

    # -- signing in -------------------------------------------------------------------------
    def desk(self) -> SignedIn:
        """The desk nobody signed in at: the DESK group's permissions."""
        group = self.group(DESK)
        return SignedIn("", DESK, group.permissions if group else frozenset())

    def verify(self, name: str, pin: str) -> bool:
        """A user without a PIN yet (a fresh install's, or a role that had none) opens without one."""
        rec = self._user_record(name)
        if rec is None:
            return False
        if "hash" not in rec:
            return True
        return hmac.compare_digest(rec["hash"], _hash(str(pin), bytes.fromhex(rec["salt"]), int(rec.get("n", PIN_COST))))

    def sign_in(self, name: str, pin: str) -> SignedIn:
        """Refused for a wrong PIN, and for a user locked out by too many (the PIN not even tried).
        Another desk of a database checks the PIN itself and counts a wrong one in the shared
        database (pin_tries.py); it changes no user or group."""
        rec = self._user_record(name)
        if rec is None:
            raise PinRefused("that name and PIN do not match")
        self._refuse_if_locked(rec["name"])
        group = self.group(rec["group"])
        if "hash" not in rec and group is not None and MANAGE in group.permissions and recovery.claimed(self):
            # a default super user left without a PIN: no way in (a desk's PIN-less users stay the practice's choice)
            raise PinRefused(f"{rec['name']} has no PIN yet", hint="Ask a super user to give them one (Users and groups).")
        if "hash" in rec and not self.tries.counted():  # a wrong PIN could not be counted: not tried at all
            raise PinRefused("a PIN cannot be checked where the practice is open read-only",
                             hint="Sign in at a desk of the practice (the kiosk).")
        if not self.verify(rec["name"], pin):
            until = self.tries.wrong(_key(rec["name"]), rec["name"])
            if until is not None:
                raise self._locked(rec["name"], until)
            raise PinRefused("that name and PIN do not match")
        self.tries.clear(_key(rec["name"]))
        return self.again(SignedIn(rec["name"], rec["group"], frozenset()))

    def locked_until(self, name: str) -> datetime | None:
        """When a user locked out by wrong PINs may sign in again (None: they may now)."""
        return self.tries.locked_until(_key(name))

    def _refuse_if_locked(self, name: str) -> None:
        until = self.tries.locked_until(_key(name))
        if until is not None:
            raise self._locked(name, until)

    def _locked(self, name: str, until: datetime) -> PinRefused:
        return PinRefused(f"Too many wrong PINs for {name}: try again at {self.tries.shown(until)}",
                          hint="Or ask the practice manager to let you sign in again (Users and groups).")

    def let_sign_in(self, name: str) -> None:
        """Forget a user's wrong PINs (the Users page, `practicemail users unlock`)."""
        rec = self._require_user(name)
        self.tries.clear(_key(rec["name"]))
        log.info("user %r may sign in again (their wrong PINs forgotten)", rec["name"])

    def again(self, who: SignedIn) -> SignedIn:
        """`who` as the groups say now (after an edit): the desk's own when the user is gone."""
        rec = self._user_record(who.user) if who.user else None
        if rec is None:
            return self.desk()
        group = self.group(rec["group"])  # without a PIN yet: nothing that needs "manage" until they choose one
        perms = (group.permissions if group else frozenset()) - (set() if "hash" in rec else {MANAGE})
        return SignedIn(rec["name"], rec["group"], frozenset(perms))

    # -- changing ---------------------------------------------------------------------------
    def _materialise(self) -> None:
        """Before the first change: the default groups and the old roles' users, written."""
        if not self._groups.all():
            self._groups.insert_many(self._group_records())
        if not self._users.all():
            self._users.insert_many(self._user_records())

    def save_group(self, name: str, permissions: Iterable[str]) -> Group:
        """Add a group, or set an existing one's ticks."""
        name = clean_name(name, "group")
        perms = set(permissions)
        unknown = perms - PERMISSIONS.keys()
        if unknown:
            raise InputInvalid(f"no such permission: {', '.join(sorted(unknown))}",
                               hint=f"Use some of: {', '.join(PERMISSIONS)}.")
        if _key(name) == _key(SUPER) and MANAGE not in perms:
            raise InputInvalid("the super user group always manages users and groups",
                               hint="Leave that tick on, so that nobody is locked out.")
        with self._one_step(), self._lock:  # a fresh install's groups written once, whoever asks too
            body = {"name": name, "permissions": sorted(perms), "decided": sorted(PERMISSIONS)}
            found = [r for r in self._groups.all() if _key(r["name"]) == _key(name)]
            if found:
                self._groups.update(found[0][RID], {**body, "name": found[0]["name"]})
            else:
                self._groups.insert(body)
        group = self.group(name)
        assert group is not None
        return group

    def remove_group(self, name: str) -> None:
        group = self._require_group(name)
        if _key(group.name) in (_key(SUPER), _key(DESK)):
            raise InputInvalid(f"the {group.name} group cannot be removed",
                               hint="Untick what it should not do instead.")
        members = [u.name for u in self.users() if _key(u.group) == _key(group.name)]
        if members:
            raise InputInvalid(f"the {group.name} group still has {len(members)} user(s)",
                               hint="Move them to another group or remove them first.")
        with self._one_step(), self._lock:
            for r in self._groups.all():
                if _key(r["name"]) == _key(group.name):
                    self._groups.remove(r[RID])

    def _require_group(self, name: str) -> Group:
        group = self.group(str(name))
        if group is None:
            raise InputInvalid(f"there is no group {clean_name(name, 'group')!r}",
                               hint=f"Use one of: {', '.join(g.name for g in self.groups())}.")
        return group

    def _require_user(self, name: str) -> dict[str, Any]:
        rec = self._user_record(str(name))
        if rec is None:
            raise InputInvalid(f"there is no user {clean_name(name, 'user')!r}",
                               hint="`practicemail users list` (or the Users page) shows who there is.")
        return rec

    def _check_a_super_user_stays(self, leaving: str) -> None:
        """Run inside `_one_step`, with the change it allows: else two changes at once could each
        see the other's super user still there and leave none."""
        others = [u for u in self.users() if _key(u.group) == _key(SUPER) and _key(u.name) != _key(leaving)]
        if not others:
            raise InputInvalid(f"{leaving} is the last super user",
                               hint="Add another super user first, so that nobody is locked out.")

    def _may_move(self, rec: dict[str, Any], target: Group | None, leaving: bool = False) -> None:
        """A super user removed (`leaving`) or moved out of the group: only if another stays."""
        if _key(rec["group"]) != _key(SUPER):
            return
        if leaving or (target is not None and _key(target.name) != _key(SUPER)):
            self._check_a_super_user_stays(rec["name"])

    @contextlib.contextmanager
    def _one_step(self) -> Iterator[None]:
        """A check of the users and the change it allows as one step, whichever App or desk asks at
        the same time. PostgreSQL: one transaction that first takes the store's "users" lock
        (`one_at_a_time`: a fresh install has no rows to lock, and two first changes each wrote
        the default users), writes a fresh install's groups and users, then locks every user's
        row (SELECT ... FOR UPDATE, through modify_many): another transaction's change waits for
        this one's commit, then reads what it wrote. TinyDB (one writer process): one lock per
        store, the fresh install's records written inside it."""
        transaction = getattr(self._store, "transaction", None)
        if transaction is None:
            with _ONE_STEP_GUARD:
                lock = _ONE_STEP.setdefault(self._store, threading.Lock())
            with lock:
                with self._lock:
                    self._materialise()
                yield
            return
        with transaction():
            self._store.one_at_a_time("users")  # type: ignore[attr-defined]  # no rows to lock yet
            with self._lock:
                self._materialise()
            while True:  # a user removed by the change waited for: locked again without them
                try:
                    self._users.modify_many([r[RID] for r in self._users.all()], lambda _rid, _rec: None,
                                            copies=False)
                    break
                except NotFound:
                    continue
            yield

    def add_user(self, name: str, group: str, pin: str) -> User:
        name = clean_name(name, "user")
        target = self._require_group(group)
        fields = _pin_fields(pin, self.pin_cost)
        if self._user_record(name) is not None:  # refused before anything is written (materialised)
            raise InputInvalid(f"there is already a user {name!r}", hint="Choose another name.")
        with self._one_step(), self._lock:
            if self._user_record(name) is not None:
                raise InputInvalid(f"there is already a user {name!r}", hint="Choose another name.")
            self._users.insert({"name": name, "group": target.name, **fields})
        log.info("user %r added to the %r group", name, target.name)
        return User(name, target.name, True)

    def update_user(self, name: str, group: str | None = None, pin: str | None = None) -> User:
        """Move a user to another group, or give them a new PIN (or both)."""
        target = self._require_group(group) if group is not None else None
        fields = _pin_fields(pin, self.pin_cost) if pin is not None else {}
        self._may_move(self._require_user(name), target)  # refused before anything is written
        with self._one_step():
            rec = self._require_user(name)
            self._may_move(rec, target)  # again, in the one step: what counts
            body: dict[str, Any] = dict(fields)
            if target is not None:
                body["group"] = target.name
            with self._lock:
                for r in self._users.all():
                    if _key(r["name"]) == _key(rec["name"]):
                        self._users.update(r[RID], body)
        if pin is not None:
            self.tries.clear(_key(rec["name"]))  # a new PIN: the wrong ones before it forgotten
        if target is not None and _key(target.name) != _key(rec["group"]):
            log.info("user %r moved from the %r group to %r", rec["name"], rec["group"], target.name)
        if pin is not None:
            log.info("user %r has a new PIN", rec["name"])
        return next(u for u in self.users() if _key(u.name) == _key(rec["name"]))

    def set_pin(self, name: str, pin: str) -> None:
        self.update_user(name, pin=pin)

    def remove_user(self, name: str) -> None:
        self._may_move(self._require_user(name), None, leaving=True)  # refused before anything is written
        with self._one_step():
            rec = self._require_user(name)
            self._may_move(rec, None, leaving=True)  # again, in the one step: what counts
            with self._lock:
                for r in self._users.all():
                    if _key(r["name"]) == _key(rec["name"]):
                        self._users.remove(r[RID])
        log.info("user %r removed", rec["name"])
