"""`practicemail migrate --from DIR --to URL`: move a one-desk practice up to PostgreSQL.

The CLI's main catches PracticeMailError and prints its one line and hint. The work is
engine/service/migrate.run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from engine.cli.base import Commands
from engine.errors import InputInvalid


def register(commands: Commands) -> None:
    p = commands.subparsers.add_parser(
        "migrate", help="copy a data folder's practice into an empty PostgreSQL database (all or nothing)",
        description="Copies every record and stored file of a data folder into an empty PostgreSQL database "
                    "in one transaction, checks counts and SHA-256 hashes before it commits, and leaves the "
                    "folder as it was. Afterwards open the practice with the same data folder (it holds the "
                    "key for the stored passwords) and --database URL or PRACTICEMAIL_DATABASE.")
    p.set_defaults(handler=cmd_migrate)
    p.add_argument("--from", dest="from_dir", type=Path, default=None,
                   help="the data folder to copy (default: the usual data folder, or PRACTICEMAIL_DATA)")
    p.add_argument("--to", dest="to_url", default=None,
                   help="postgresql://server/database, without a password (put it in ~/.pgpass); "
                        "default: PRACTICEMAIL_DATABASE")


def cmd_migrate(args: argparse.Namespace) -> int:
    from engine.adapters.postgres import refuse_password
    from engine.service.migrate import run
    from engine.service.practice import default_data_folder, default_database

    if args.to_url:
        refuse_password(args.to_url)  # argv is readable by every user of the machine
    url = args.to_url or default_database()
    if not url:
        raise InputInvalid("no database to migrate to",
                           hint="Give --to postgresql://server/database, or set PRACTICEMAIL_DATABASE.")
    report = run(args.from_dir or default_data_folder(), url)
    print("\n".join(report.lines()))
    return 0
