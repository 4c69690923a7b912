"""The `practicemail` command (also `python -m engine`). See CONTRACT.md.

Every command takes `--data DIR`. A failure prints one line (what, then what to
do) on stderr and exits non-zero. `--json` prints exactly one JSON document on
stdout; anything else goes to stderr. Bad input is caught where it enters:
argument types that validate (`whole_number`, `record_id`), arguments that are
not text refused before parsing, and one translation in `main` of what the
operating system says (a missing file, a folder given for a file, a full disk)
into the same one line. A usage error (argparse) exits 2, any other failure 1.

The commands live by topic in this package, each module with a `register(commands)`;
the commands of the kiosk, the demo and the fake servers come from their own packages
through the `practicemail.commands` entry points (engine/cli/plugins.py), so nothing
here imports them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from engine.cli import (admin, compose, config, directory, inbox, migrate, outbox, plugins, recalls, reminders, service,
                        signin, sms, system, templates, users)
from engine.cli.base import Commands
from engine.cli.input import OneLineParser, fail, not_text, note, os_error, os_words
from engine.errors import PracticeMailError

# in the order `practicemail --help` lists them
TOPICS = (outbox, inbox, templates, compose, reminders, recalls, sms, admin, service, system, signin, users, config, directory,
          migrate)


class _DataAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any,
                 option: str | None = None) -> None:
        setattr(ns, self.dest, Path(values))
        ns.data_given = True


class _DatabaseAction(argparse.Action):
    """`--database URL`: typed on the command line (every user of the machine can read argv),
    so a password in it is refused when the command opens the practice."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any,
                 option: str | None = None) -> None:
        setattr(ns, self.dest, str(values))
        ns.database_typed = True


def build_parser(entry_points: Iterable[EntryPoint] | None = None) -> argparse.ArgumentParser:
    """The whole command line: the installed entry points' commands (or those given), then the
    engine's topics."""
    common = OneLineParser(add_help=False)
    common.add_argument("--data", action=_DataAction, default=argparse.SUPPRESS, metavar="DIR",
                        help="data folder (default: $PRACTICEMAIL_DATA or the user data folder)")
    common.add_argument("--database", action=_DatabaseAction, default=argparse.SUPPRESS, metavar="URL",
                        help="postgresql://server/database, without a password (default: $PRACTICEMAIL_DATABASE; "
                             "none: the data folder); on a desk where the service runs elsewhere, commands that "
                             "change the outbox or the inbox are asked of it through the database")
    as_json = OneLineParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON document")

    parser = OneLineParser(prog="practicemail", parents=[common],
                           description="Patient email for a dental practice.")
    commands = Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), common, as_json)
    plugins.register_all(commands, plugins.discovered() if entry_points is None else entry_points)
    for topic in TOPICS:
        topic.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bad = not_text(argv)
    if bad is not None:
        return fail(f"an argument is not valid text: {ascii(bad)[:80]}",
                    "Type it again in ordinary characters (or rename the file it names).")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "any_arguments", False):  # what parse_args says (a stand-in takes anything)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    # imported once the arguments parse: `--help` and a usage error need none of the service
    from engine.service.app import default_data_folder, forget_lost_lines, make_private

    forget_lost_lines()
    make_private()  # whatever this command creates (data, exports, logs) is the owner's alone
    if not hasattr(args, "data"):
        args.data = default_data_folder()
        args.data_given = False
    if not hasattr(args, "database"):
        args.database = None
        args.database_typed = False
    try:
        return done(int(args.handler(args) or 0))
    except PracticeMailError as exc:
        return fail(exc.message, exc.hint)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return os_error(exc)
    except UnicodeError as exc:
        return fail(f"some text could not be read or written as UTF-8 ({exc.reason})",
                    "Give files as UTF-8 text.")
    except RecursionError:
        return fail("the input is too deeply nested to read", "Simplify it (fewer nested parts) and try again.")


def done(code: int) -> int:
    """A command that did its work says so (exit 0) even when its log lines could not be written:
    on PostgreSQL the change is committed before the log file is closed, and "failed" would send
    the person to do it again (a second patient, the email queued twice). One more line says the
    log has a gap, so whoever reads the log later knows why this change is missing from it."""
    from engine.service.app import lost_lines

    count, reason = lost_lines()
    if code == 0 and count:
        message, _ = os_words(reason)
        note(f"done, but the log could not be written ({message.format(name='the log file')})",
             "What the command did is stored; only its lines are missing from the log. Free some space on the "
             "disk that holds the data folder.")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
