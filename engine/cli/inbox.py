"""`practicemail inbox list|file|forward`, and `send-receive`, the manual pass that sends
what is ready and fills the inbox."""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli.base import Commands, emit, open_app, open_desk_app, table, wait_option
from engine.cli.forward import cmd_forward, confirm_option
from engine.cli.input import record_id


def _inbox_row(r: dict[str, Any]) -> dict[str, Any]:
    from engine.service.app import RID


    return {"id": r[RID], "from": r["from"], "from_name": r.get("from_name", ""), "subject": r["subject"],
            "received": r["received"], "patient_id": r.get("patient_id", ""),
            "specialist_id": r.get("specialist_id", ""), "tags": r.get("tags", []), "read": r.get("read", False),
            "actioned": r.get("actioned", False), "candidates": r.get("candidates", []),
            "unreadable": r.get("unreadable", False)}


def cmd_inbox_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        rows = [_inbox_row(r) for r in app.inbox.list(show_all=args.all)]
    text = table([(r["id"], "" if r["read"] else "*", r["received"][:16], r["from"], r["subject"][:40],
                   r["patient_id"] or ("?" + "/".join(r["candidates"]) if r["candidates"] else ""),
                   r["specialist_id"], ",".join(r["tags"])) for r in rows],
                 ("id", "new", "received", "from", "subject", "patient", "specialist", "tags"))
    emit(args, rows, text)
    return 0


def cmd_inbox_file(args: argparse.Namespace) -> int:
    from engine.service.app import RID

    with open_desk_app(args) as app:
        msg = app.file_message(int(args.id), patient_id=args.patient or "", specialist_id=args.specialist or "")
        rec = {**msg.record(), RID: msg.id}
    emit(args, _inbox_row(rec), f"message {args.id} filed to {args.patient or args.specialist}")
    return 0


def cmd_send_receive(args: argparse.Namespace) -> int:
    """On a desk where the service runs elsewhere, asked of it (App.open_desk): the line says
    which service did it, or that it did not take the request within --wait (withdrawn, exit 1),
    or took it and had not finished (it finishes there, exit 1)."""
    with open_desk_app(args) as app:
        if app.on_another_desk:
            report = app.send_receive_now(args.wait)
        else:
            app.outbox.recover(app.now())
            report = app.send_receive_now()
            app.outbox.close()
    done_by = f" (by the email service: {report['done_by']})" if report.get("done_by") else ""
    lines = [f"sent {report['sent']}, failed {report['failed']}, received {report['received']}, "
             f"filed {report['filed']}{done_by}"]
    lines += [f"  {'item ' + str(e['id']) if e['id'] else 'account'}: {e['error']} ({e['hint']})"
              for e in report["errors"]]
    emit(args, report, "\n".join(lines))
    return 1 if any(e["id"] is None for e in report["errors"]) else 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    inbox = commands.group("inbox", "incoming email")
    p = commands.add("list", cmd_inbox_list, "messages (default: the kiosk's view: untagged, not actioned)",
                     as_json, into=inbox)
    p.add_argument("--all", action="store_true", help="every message not deleted, filed and actioned included")
    p = commands.add("file", cmd_inbox_file, "file a message to a patient or a specialist", as_json, into=inbox)
    p.add_argument("id", type=record_id)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="PID")
    who.add_argument("--specialist", metavar="SID")
    p = commands.add("forward", cmd_forward, "forward a message (the original attached); prints the new outbox "
                     "item's id", as_json, confirm_option(), into=inbox)
    p.add_argument("id")
    p.add_argument("--to", required=True, metavar="ADDR")
    commands.add("send-receive", cmd_send_receive, "one manual pass: send everything ready (no pacing), then receive",
                 as_json, wait_option())
