"""`practicemail config show|set|check`: the practice's settings, secrets never on argv."""

from __future__ import annotations

import argparse

from engine.cli.base import Commands, cell, emit, open_app, table
from engine.cli.input import secret_value
from engine.core import settings as catalogue


def cmd_config_show(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        values = app.settings.values()
        if args.json:
            emit(args, values, "")
        else:
            rows = [(k, "" if v is None else v, "" if app.settings.is_default(k) else "set")
                    for k, v in values.items()]
            emit(args, None, table(rows, ("key", "value", "")))
    return 0


def cmd_config_set(args: argparse.Namespace) -> int:
    if catalogue.setting(args.key).secret:
        args.value = secret_value(args.key, args.value)
    with open_app(args, writer=True) as app:
        value = app.settings.set(args.key, args.value)
        shown = "***" if catalogue.setting(args.key).secret and value else cell(value)
        emit(args, {args.key: shown}, f"{args.key} = {shown}")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        fixed, problems = app.check_files(fix=args.fix)
    doc = {"ok": not problems, "problems": [{"key": pr.column, "message": pr.message} for pr in problems],
           "fixed": [str(f.path) for f in fixed]}
    text = "settings are complete" if not problems else "\n".join(f"{pr.column}: {pr.message}" for pr in problems)
    if fixed:
        text = f"made {len(fixed)} file(s) and folder(s) readable by this user only\n" + text
    emit(args, doc, text)
    return 1 if problems else 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    config = commands.group("config", "show, change or check settings")
    commands.add("show", cmd_config_show, "every setting (secrets as ***)", as_json, into=config)
    p = commands.add("set", cmd_config_set, "change one setting (validated); a secret such as account.password is "
                     "given as - and read from a prompt or standard input, never typed on the command line", as_json,
                     into=config)
    p.add_argument("key")
    p.add_argument("value", help="the value; for a secret: - (prompt, or one line of standard input)")
    p = commands.add("check", cmd_config_check, "every problem in the settings, and files others could read",
                     as_json, into=config)
    p.add_argument("--fix", action="store_true", help="first make every file 0600 and folder 0700 (owner only)")
