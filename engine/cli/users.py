"""`practicemail users list|add|remove|pin|unlock|recover|recovery-code` and `practicemail groups list`: who may sign in at
the desk, and what each security group may do (engine/service/roles.py).

A PIN never comes on the command line (every user of the machine can read it there): it is
typed at a prompt that does not echo, twice, or read as one line of standard input.

Who may change users (as at the kiosk: anyone at the terminal may run these): `users pin` needs the
user's own current PIN, or a user who manages users (the super user group) named by `--user` and
their PIN; `users add`, `remove` and `unlock` need the latter. Their PIN is asked first (one line of
standard input before the new PIN). The one exception is a fresh practice where nobody has a PIN
yet: there is nobody to sign in as, and the first super user is added without. `users list` is open.

A super user's recovery code (engine/service/recovery.py) is shown once when they first have a PIN
and by `users recovery-code NAME` (their PIN first); `users recover NAME` takes it (asked for, or
the first line of standard input, never argv) and a new PIN, for a super user who forgot theirs.
A user without a PIN who manages users must choose a PIN (`users pin NAME`) before managing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.cli.base import Commands, emit, open_app, table
from engine.cli.input import hidden_line
from engine.errors import InputInvalid

if TYPE_CHECKING:
    from engine.service.app import SignedIn

MANAGE = "manage_pins"  # the permission to change users (engine/service/roles.py)

_ASK = "Run it again with --user NAME (a super user; their PIN is asked for, or read as one line of standard input)."


def read_pin() -> str:
    """From a no-echo prompt (typed twice) on a terminal, else one line of standard input."""
    pin = hidden_line("PIN (4 to 12 digits, not shown): ", again="The same again: ")
    if not pin:
        raise InputInvalid("no PIN was given; nothing was changed",
                           hint="Type it at the prompt, or give it as one line on standard input.")
    return pin


def signed_in(app: Any, name: str, what: str = "PIN") -> SignedIn:
    """`name` signs in: their PIN asked for (none when they have none yet), wrong ones counted."""
    pin = ""
    if app.roles.has_pin(name):
        pin = hidden_line(f"{what} for {name} (not shown): ")
        if not pin:
            raise InputInvalid("no PIN was given; nothing was changed",
                               hint="Type it at the prompt, or give it as one line on standard input.")
    return app.roles.sign_in(name, pin)


def manager(app: Any, args: argparse.Namespace, what: str) -> None:
    """The user named by --user signs in, and their group must manage users. Without --user only
    on a fresh practice: nobody has a PIN yet, so nobody could sign in (the first super user)."""
    from engine.service.app import PinRefused, allowed

    if not args.user:
        if any(u.has_pin for u in app.roles.users()):
            raise InputInvalid(f"only a super user may {what}; nothing was changed", hint=_ASK)
        return
    who = signed_in(app, args.user)
    if not allowed(who, MANAGE) and app.recovery.must_choose_pin(who.user):
        raise InputInvalid(f"{who.user} has no PIN yet; nothing was changed",
                           hint=f"Choose one first: practicemail users pin \"{who.user}\" (it is asked for).")
    if not allowed(who, MANAGE):
        raise PinRefused(f"{who.user} ({who.group}) may not {what}; nothing was changed", hint=_ASK)


def cmd_users_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        users = app.roles.users()
        locked = {u.name: app.roles.locked_until(u.name) for u in users}
    doc = [{"name": u.name, "group": u.group, "has_pin": u.has_pin,
            "locked_until": locked[u.name].isoformat() if locked[u.name] else None} for u in users]
    emit(args, doc, table([(u.name, u.group, ("yes" if u.has_pin else "no PIN yet")
                            + (f", locked after wrong PINs until {locked[u.name]:%Y-%m-%d %H:%M %Z}"
                               if locked[u.name] else "")) for u in users],
                          ("name", "group", "PIN")))
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        manager(app, args, "add a user")
        user = app.roles.add_user(args.name, args.group, read_pin())
        code = app.recovery.first_code(user.name)
    emit(args, {"name": user.name, "group": user.group, **_code_doc(code)},
         f"user {user.name} added to {user.group}" + _code_text(user.name, code))
    return 0


def _code_doc(code: str | None) -> dict[str, str]:
    return {"recovery_code": code} if code else {}


def _code_text(name: str, code: str | None) -> str:
    """The recovery code, shown this once (docs/guide-manager.md: print it, keep it in the safe)."""
    if not code:
        return ""
    return (f"\nRecovery code for {name}: {code}\nIt is shown only this once: print it or write it down and "
            "keep it in the practice's safe. `practicemail users recover` takes it if the PIN is forgotten.")


def cmd_users_pin(args: argparse.Namespace) -> int:
    """The user's own current PIN (asked first), or a super user's (--user NAME)."""
    with open_app(args, writer=True) as app:
        if args.user and args.user.casefold() != args.name.casefold():
            manager(app, args, f"give {args.name} a new PIN")
        else:
            signed_in(app, args.name, "The current PIN")
        user = app.roles.update_user(args.name, pin=read_pin())
        code = app.recovery.first_code(user.name)
    emit(args, {"name": user.name, "group": user.group, **_code_doc(code)},
         f"a new PIN for {user.name} is saved" + _code_text(user.name, code))
    return 0


def cmd_users_recover(args: argparse.Namespace) -> int:
    """A forgotten PIN: the recovery code (asked first), then the new PIN; the code is used up."""
    with open_app(args, writer=True) as app:
        code = hidden_line(f"Recovery code for {args.name} (not shown): ")
        if not code:
            raise InputInvalid("no recovery code was given; nothing was changed",
                               hint="Type it at the prompt, or give it as one line on standard input.")
        pin = read_pin()
        fresh = app.recovery.recover(args.name, code, pin)
        name = next(u.name for u in app.roles.users() if u.name.casefold() == args.name.casefold())
    emit(args, {"name": name, "recovery_code": fresh},
         f"a new PIN for {name} is saved; the old recovery code no longer works" + _code_text(name, fresh))
    return 0


def cmd_users_recovery_code(args: argparse.Namespace) -> int:
    """A new recovery code for a super user, who signs in with their PIN; the old one stops working."""
    with open_app(args, writer=True) as app:
        who = signed_in(app, args.name)
        code = app.recovery.issue(who.user)
    emit(args, {"name": who.user, "recovery_code": code},
         f"a new recovery code for {who.user}; the old one no longer works" + _code_text(who.user, code))
    return 0


def cmd_users_unlock(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        manager(app, args, "let a user sign in again")
        app.roles.let_sign_in(args.name)
    emit(args, {"unlocked": args.name}, f"{args.name} may sign in again (the wrong PINs are forgotten)")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        manager(app, args, "remove a user")
        app.roles.remove_user(args.name)
    emit(args, {"removed": args.name}, f"user {args.name} removed")
    return 0


def cmd_groups_list(args: argparse.Namespace) -> int:
    from engine.service.app import PERMISSIONS

    with open_app(args, writer=False) as app:
        groups = app.roles.groups()
    doc = [{"name": g.name, "permissions": [p for p in PERMISSIONS if p in g.permissions]} for g in groups]
    emit(args, doc, table([(d["name"], ", ".join(d["permissions"]) or "-") for d in doc], ("group", "permissions")))
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    users = commands.group("users", "who signs in at the desk, in which security group, with a PIN")
    commands.add("list", cmd_users_list, "users, their group, whether they have a PIN", as_json, into=users)
    p = commands.add("add", cmd_users_add, "add a user (the PIN is asked for, or read from standard input)",
                     as_json, into=users)
    p.add_argument("name")
    p.add_argument("--group", required=True, help="the security group (`practicemail groups list`)")
    _by(p)
    p = commands.add("pin", cmd_users_pin, "give a user a new PIN (their current PIN first, or a super user's with "
                     "--user; asked for, or read from standard input; forgets their wrong PINs)",
                     as_json, into=users)
    p.add_argument("name")
    _by(p)
    p = commands.add("recover", cmd_users_recover, "a forgotten PIN: the user's recovery code, then a new PIN (both "
                     "asked for, or read as lines of standard input); the code is used up and a new one shown",
                     as_json, into=users)
    p.add_argument("name")
    p = commands.add("recovery-code", cmd_users_recovery_code, "a new recovery code for a super user (their PIN is "
                     "asked for first); shown once, the old one stops working", as_json, into=users)
    p.add_argument("name")
    p = commands.add("unlock", cmd_users_unlock, "let a user locked out by wrong PINs sign in again",
                     as_json, into=users)
    p.add_argument("name")
    _by(p)
    p = commands.add("remove", cmd_users_remove, "remove a user (never the last super user)", as_json, into=users)
    p.add_argument("name")
    _by(p)
    groups = commands.group("groups", "security groups and what each may do")
    commands.add("list", cmd_groups_list, "the groups and their permissions", as_json, into=groups)


def _by(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", metavar="NAME", help="who does it: a user whose group manages users (the super user "
                   "group); their PIN is asked for, or read as one line of standard input before any new PIN")
