"""What every topic of the `practicemail` command shares: output (`emit`, `table`), opening
the App (engine/service/app.py, the one door: every command opens one and goes through it),
the clock, and `Commands`, through which each topic registers its commands.

Kept apart from `engine/cli/__init__.py` so a topic module imports these without importing
the parser's assembly (which imports every topic).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.names import shown_name
from engine.errors import InputInvalid, StoreLocked

if TYPE_CHECKING:  # imported when a command opens one: `--help` needs none of the service
    from engine.service.app import App

Handler = Callable[[argparse.Namespace], int]


class Commands:
    """The top-level subcommands being registered: argparse's subparsers, with the options
    every command takes (`--data`) given to each command added.

    A package outside the engine registers its commands through the `practicemail.commands`
    entry points with a `register(subparsers)` that calls only `add_parser` (argparse's own
    signature), so it needs nothing of the engine; the engine's topics use `add` and `group`,
    which also set the handler and the `--json` option.
    """

    def __init__(self, subparsers: Any, common: argparse.ArgumentParser, as_json: argparse.ArgumentParser) -> None:
        self.subparsers = subparsers
        self.common = common
        self.as_json = as_json

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs["parents"] = [self.common, *kwargs.get("parents", [])]
        return self.subparsers.add_parser(name, **kwargs)

    def add(self, name: str, handler: Handler, help_: str, *parents: argparse.ArgumentParser,
            into: Any = None) -> argparse.ArgumentParser:
        p = (self.subparsers if into is None else into).add_parser(
            name, parents=[self.common, *parents], help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    def group(self, name: str, help_: str, into: Any = None, dest: str = "action") -> Any:
        """A command with actions (`outbox add`, `outbox list`); returns the actions' subparsers."""
        return (self.subparsers if into is None else into).add_parser(name, help=help_).add_subparsers(
            dest=dest, required=True, metavar="ACTION")


def emit(args: argparse.Namespace, document: Any, text: str) -> None:
    """One JSON document with --json, else human text."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))


def cell(value: Any) -> str:
    """A listing's cell: hidden bidi and control characters written out (`\\u202e`), so a
    name reads as what it is (engine/core/names.py); --json keeps the value exactly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown_name(str(value))


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header]] + [[cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def database(args: argparse.Namespace) -> str | None:
    """`--database URL` (None: PRACTICEMAIL_DATABASE, else the data folder); a password in a
    URL typed on the command line is refused before anything is opened."""
    url = getattr(args, "database", None)
    if url and getattr(args, "database_typed", False):
        from engine.service.app import refuse_password

        refuse_password(url)
    return url


def open_app(args: argparse.Namespace, writer: bool) -> App:
    """The command's one App on `--data`: the writer (holding the folder's lock) or a reader."""
    from engine.service.app import App

    return App.open(args.data, writer=writer, command=f"practicemail {args.command}", database=database(args))


def open_desk_app(args: argparse.Namespace) -> App:
    """For a command another desk may ask of the service (send-receive, reset-failed, the
    inbox's read, tag, file, delete): the writer when the practice is free, as before; on a
    database whose service runs elsewhere, a desk (App.open_desk) whose App asks that service
    through the database, or changes the inbox itself (engine/service/app_desks.py)."""
    from engine.service.app import App

    return App.open_desk(args.data, database=database(args), url_typed=False,
                         command=f"practicemail {args.command}")


def open_app_writer_if_free(args: argparse.Namespace) -> App:
    """The writer when the folder exists and no one holds it; beside a running service, a reader."""
    if Path(args.data).is_dir():
        try:
            return open_app(args, writer=True)
        except StoreLocked:
            pass
    return open_app(args, writer=False)


def wait_option() -> argparse.ArgumentParser:
    """`--wait SECONDS`: on another desk, how long to wait for the service's answer."""
    from engine.cli.input import OneLineParser, whole_number

    p = OneLineParser(add_help=False)
    p.add_argument("--wait", type=whole_number(1, 86_400, "a number of seconds"), default=None, metavar="SECONDS",
                   help="on a desk where the service runs elsewhere: how long to wait for it (default: 600 for "
                        "send-receive, 60 otherwise). A request it has not taken by then is withdrawn and never "
                        "runs; one it took finishes there")
    return p


def by_the_service(app: App) -> str:
    """What a command's line adds when another desk's service did the work."""
    return " (by the email service on another computer)" if app.on_another_desk else ""


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_when(text: str, tz_name: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputInvalid(f"{text!r} is not a date and time", hint="Use ISO 8601, like 2026-12-01T09:30.") from None
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz_name))
