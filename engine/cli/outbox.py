"""`practicemail outbox add|forward|list|reset-failed`: outgoing email."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.cli.base import (Commands, by_the_service, emit, now, open_app, open_desk_app, parse_when, table,
                             wait_option)
from engine.cli.forward import cmd_forward, confirm_option
from engine.cli.input import record_id

OUTBOX_FIELDS = ("id", "status", "to", "subject", "created", "deliver_after", "attempts", "last_error")


def _outbox_row(rec: dict[str, Any]) -> dict[str, Any]:
    from engine.service.app import RID

    kind = rec.get("kind") or "email"
    return {"id": rec[RID], "type": "sms" if kind == "sms" else "email", "kind": kind, "status": rec["status"],
            "to": rec["to"], "cc": rec.get("cc", []),
            "subject": rec["subject"], "created": rec["created"], "deliver_after": rec["deliver_after"],
            "attempts": rec["attempts"], "last_error": rec.get("last_error", ""), "hint": rec.get("last_hint", ""),
            "patient_id": rec.get("patient_id", ""), "message_id": rec.get("message_id", ""),
            "category": rec.get("category", ""), "description": rec.get("description", "")}


def cmd_outbox_add(args: argparse.Namespace) -> int:
    from engine.core.message import Draft, recipients_of
    from engine.errors import InputInvalid
    body = ""
    if args.body_file:
        try:
            body = Path(args.body_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputInvalid(f"cannot read {args.body_file}: {exc}", hint="Give a UTF-8 text file.") from None
    with open_app(args, writer=True) as app:
        practice_email = app.settings.get("practice.email")
        if not practice_email:
            raise InputInvalid("the practice has no email address", hint="Set practice.email first.")
        if args.patient:
            app.directory.require("patients", args.patient)
        draft = Draft(from_address=practice_email, from_name=app.settings.get("practice.name"),
                      to=recipients_of(args.to), cc=recipients_of(args.cc or []), subject=args.subject or "",
                      text=body)
        deliver_after = parse_when(args.deliver_after, app.settings.get("practice.timezone")) \
            if args.deliver_after else None
        rid = app.outbox.add_draft(draft, now(), as_draft=args.draft, deliver_after=deliver_after,
                                   patient_id=args.patient)
    emit(args, {"id": rid}, str(rid))
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        rows = [_outbox_row(r) for r in app.outbox.list(args.status)]
    # one outbox for email and texts: the type first, as the kiosk's Type column shows it
    text = table([(r["id"], r["type"].upper() if r["type"] == "sms" else "Email", r["status"], ", ".join(r["to"]),
                   r["subject"][:40], r["deliver_after"][:16], r["attempts"], r["last_error"][:60]) for r in rows],
                 ("id", "type", "status", "to", "subject", "deliver after", "tries", "last error"))
    emit(args, rows, text)
    return 0


def cmd_outbox_reset_failed(args: argparse.Namespace) -> int:
    with open_desk_app(args) as app:
        done = app.reset_failed([int(i) for i in args.ids], timeout=args.wait)
        by = by_the_service(app)
    emit(args, {"reset": done}, f"{len(done)} failed item(s) back to ready{by}")
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    outbox = commands.group("outbox", "outgoing email")
    p = commands.add("add", cmd_outbox_add, "queue one email; prints its id", as_json, into=outbox)
    p.add_argument("--to", action="append", required=True, metavar="ADDR")
    p.add_argument("--cc", action="append", metavar="ADDR")
    p.add_argument("--subject", default="")
    p.add_argument("--body-file", metavar="FILE")
    p.add_argument("--patient", metavar="ID")
    p.add_argument("--draft", action="store_true", help="keep as a draft: never sent automatically")
    p.add_argument("--deliver-after", metavar="ISO8601")
    p = commands.add("forward", cmd_forward, "forward an outbox item (the original attached); prints the new item's "
                     "id", as_json, confirm_option(), into=outbox)
    p.add_argument("id")
    p.add_argument("--to", required=True, metavar="ADDR")
    p = commands.add("list", cmd_outbox_list, "outbox items", as_json, into=outbox)
    p.add_argument("--status")
    p = commands.add("reset-failed", cmd_outbox_reset_failed, "failed items back to ready, attempts to zero",
                     as_json, wait_option(), into=outbox)
    p.add_argument("ids", nargs="*", metavar="ID", type=record_id)
