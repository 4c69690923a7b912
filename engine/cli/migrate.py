"""`practicemail migrate --from DIR --to URL`: move a one-desk practice up to PostgreSQL.

The CLI's main catches PracticeMailError and prints its one line and hint. The work is
engine/service/migrate.run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from engine.cli.base import Commands


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
    from engine.service.app import migrate_practice

    report = migrate_practice(args.from_dir, args.to_url, url_typed=bool(args.to_url))
    print("\n".join(report.lines()))
    return 0
