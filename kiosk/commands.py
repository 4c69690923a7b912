"""`practicemail kiosk`, added to the command line through the `practicemail.commands` entry
point (the engine's command line does not import the kiosk). Qt is imported only when the
command runs, so every other command starts without it, and works where PyQt6 is missing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    from kiosk.app import run_kiosk

    return run_kiosk(Path(args.data), database=getattr(args, "database", None))


def register(subparsers: Any) -> None:
    what = "the kiosk on an existing data folder"
    p = subparsers.add_parser("kiosk", help=what, description=what)
    p.set_defaults(handler=run)
    if "--database" in p._option_string_actions:  # the command line's own, shared by every command
        return
    p.add_argument("--database", metavar="URL", default=None,
                   help="postgresql://server/database, without a password (default: $PRACTICEMAIL_DATABASE); "
                        "while the email service runs elsewhere this desk asks it through the database")
