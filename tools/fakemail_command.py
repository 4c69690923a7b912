"""`practicemail fakemail`: the bundled fake servers until interrupted; the first stdout line
is their JSON. Added to the command line through the `practicemail.commands` entry point,
and outside `tools/fakemail/` so that loading it does not start the servers' imports (which
cost a fifth of a second on every command); like the servers, it imports nothing of the engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    """The bundled fake servers until interrupted; the first stdout line is their JSON."""
    import signal
    import threading

    from tools.fakemail import FakeMail

    spool = Path(args.spool) if args.spool else None
    with FakeMail(spool=spool) as fm:
        info = fm.info()
        sys.stdout.write(json.dumps(info) + "\n")  # the contract's first line, with or without --json
        if not args.json:
            print(f"fakemail on {info['host']}: SMTP submission {info['smtp']['submission']}, smtps "
                  f"{info['smtp']['smtps']}; IMAPS {info['imap']['imaps']}; POP3S {info['pop3']['pop3s']}; "
                  f"control http://{info['host']}:{info['http']}/faults. Ctrl-C stops.", file=sys.stderr)
        sys.stdout.flush()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    return 0


def register(subparsers: Any) -> None:
    what = "the bundled fake SMTP, IMAP and POP3 servers, until interrupted"
    p = subparsers.add_parser("fakemail", help=what, description=what)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--spool", metavar="DIR", help="Maildir spool (default: a temporary folder, removed at exit)")
    p.set_defaults(handler=run)
