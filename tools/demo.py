"""`practicemail demo`: the kiosk on a fresh demo practice, with the bundled fake servers
started and configured, and a morning's mail waiting on them.

The demo joins the three rings (the engine's demo practice, the fake servers, the kiosk), so
it lives outside `engine/` and is added to the command line through the `practicemail.commands`
entry point. What it needs is imported only when it runs, so the other commands start without
Qt or the servers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import datetime, timezone
from typing import Any

VIEWS = ("inbox", "outbox", "patients", "appointments", "deleted", "compose", "wizard", "templates", "patient", "admin")


def run(args: argparse.Namespace) -> int:
    from engine.service.demo import (configure_for_fakemail, demo_inbox, prepare_demo_folder, stage_answered,
                                     stage_outbox)
    from engine.service.app import SUPER
    from engine.service.practice import Practice
    from kiosk.app import run_kiosk  # before the folder is made: without Qt, one line and nothing left behind
    from tools.fakemail import FakeMail

    folder = prepare_demo_folder(args.data if args.data_given else None)
    print(f"demo data folder: {folder}", file=sys.stderr)
    try:
        with FakeMail(spool=folder / "fakemail-spool") as fm:
            with Practice(folder, writer=True, command="practicemail demo") as practice:
                configure_for_fakemail(practice, fm.info())
                now = datetime.now(timezone.utc)
                stage_outbox(practice, now)
                answered = stage_answered(practice, now)  # filed to the younger child by its thread
            fm.faults.add("smtp", "rcpt", "reply", code=550, times=1, text="5.1.1 mailbox unknown")  # the first one
            for sample in [*demo_inbox(now), answered]:  # overnight replies waiting on the server
                fm.deliver(fm.user().username, sample)
            print(f"fake mail servers: {json.dumps(fm.info())}", file=sys.stderr)
            # Setup is the super user's: the demo signs in as them (a fresh install's, no PIN yet)
            return run_kiosk(folder, screenshot=args.screenshot, view=args.view, first_pass=True,
                             sign_in_as=SUPER if args.view == "wizard" else "")
    finally:
        if not args.data_given:  # a folder of our own making goes with the demo (--data keeps it)
            shutil.rmtree(folder, ignore_errors=True)


def register(subparsers: Any) -> None:
    what = "the kiosk on a fresh demo practice with the bundled servers"
    p = subparsers.add_parser("demo", help=what, description=what)
    p.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")
    p.add_argument("--view", default="inbox", choices=VIEWS)
    p.set_defaults(handler=run)
