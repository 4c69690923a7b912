"""`practicemail recalls import|derive|list|run`: check-ups and hygiene visits due."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from engine.cli.base import Commands, emit, now, open_app, table
from engine.cli.input import whole_number


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date like 2027-01-31") from None


def cmd_recalls_import(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        n = app.recalls.import_csv(Path(args.file))
    emit(args, {"imported": n}, f"imported {n} recall(s)")
    return 0


def cmd_recalls_derive(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        n = app.recalls.derive(args.type, args.months)
    emit(args, {"derived": n}, f"{n} recall(s) from the last {args.type} appointment plus {args.months} months")
    return 0


def cmd_recalls_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        rows = [r.as_dict() for r in app.recalls.list(args.patient)]
    rows = [r for r in rows if not args.status or r["status"] == args.status]
    emit(args, rows, table([(r["patient_id"], r["type"], r["interval_months"], r["due"], r["status"])
                            for r in rows], ("patient", "type", "months", "due", "status")))
    return 0


def cmd_recalls_run(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        print(f"queued {done} of {total}", file=sys.stderr, flush=True)

    # a dry run opens the folder as a reader: it cannot change anything
    with open_app(args, writer=not args.dry_run) as app:
        result = app.recalls.run(args.due_before, now(), location=args.location or "",
                                 dry_run=args.dry_run, progress=progress)
    doc = result.as_dict()
    head = (f"would queue {len(result.messages)}" if args.dry_run else f"queued {len(result.queued)}") + \
        " recall message(s)"
    lines = [head] + [f"  {m['deliver_after'][:16]}  {m['to']}  ({', '.join(m['patients'])})"
                      for m in (result.messages if args.dry_run else [])]
    if result.no_address:
        lines.append(f"no address for {len(result.no_address)}: {', '.join(result.no_address)}")
    if result.opted_out:
        lines.append(f"opted out (preference none): {', '.join(result.opted_out)}")
    for r in result.refused:
        lines.append(f"not queued for {', '.join(r['patients'])}: {r['error']}")
    if result.already:
        lines.append(f"already queued by an earlier run: {len(result.already)}")
    emit(args, doc, "\n".join(lines))
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    recalls = commands.group("recalls", "recalls: check-ups and hygiene visits due")
    p = commands.add("import", cmd_recalls_import,
                     "import recalls from CSV (patient_id, type, interval_months, due_date)", as_json, into=recalls)
    p.add_argument("file")
    p = commands.add("derive", cmd_recalls_derive,
                     "recalls from each patient's last appointment of a type plus months", as_json, into=recalls)
    p.add_argument("--type", required=True)
    p.add_argument("--months", required=True, type=whole_number(1, 120, "months"))
    p = commands.add("list", cmd_recalls_list, "recalls, soonest due first", as_json, into=recalls)
    p.add_argument("--patient", metavar="PID")
    p.add_argument("--status", choices=("due", "sent", "booked"))
    p = commands.add("run", cmd_recalls_run, "queue one message per patient due, staggered (recalls.per_hour)",
                     as_json, into=recalls)
    p.add_argument("--due-before", required=True, type=_day, metavar="DATE", help="due on or before this day")
    p.add_argument("--location", metavar="NAME", help="only patients whose preferred location this is")
    p.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
