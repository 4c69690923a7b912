"""`practicemail sms send|test|status|replies`: text messages."""

from __future__ import annotations

import argparse

from engine.cli.base import Commands, emit, now, open_app, table
from engine.core.outbox_item import SMS


def cmd_sms_send(args: argparse.Namespace) -> int:
    from engine.core.sms import segments

    with open_app(args, writer=True) as app:
        rid = app.texts.queue(args.patient, args.text, now(), even_in_quiet_hours=args.even_in_quiet_hours)
    seg = segments(args.text)
    emit(args, {"id": rid, "parts": seg.parts, "encoding": seg.encoding},
         f"text {rid} queued ({seg.describe()}); it goes at the next send")
    return 0


def cmd_sms_test(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        balance = app.texts.provider().balance()
        provider = app.settings.get("sms.provider")
    doc = {"ok": True, "provider": provider, "balance": balance.amount,
           "currency": balance.currency}
    emit(args, doc, f"the SMS provider answered: balance {balance.amount} {balance.currency}")
    return 0


def cmd_sms_status(args: argparse.Namespace) -> int:
    from engine.service.app import RID

    with open_app(args, writer=True) as app:
        texts = app.texts
        changed = texts.poll_statuses(now()) if args.poll else 0
        rows = [{"id": r[RID], "status": r["status"], "to": r["to"][0],
                 "delivery": r.get("provider_status", ""),
                 "reason": r.get("provider_reason", "") or r.get("last_error", ""),
                 "parts": r.get("parts"), "deliver_after": r["deliver_after"], "patient_id": r.get("patient_id", "")}
                for r in app.outbox.list() if r.get("kind") == SMS]
    emit(args, {"changed": changed, "texts": rows},
         table([(r["to"], r["status"], r["delivery"], r["reason"][:60], r["deliver_after"][:16]) for r in rows],
               ("to", "status", "delivery", "reason", "deliver after")))
    return 0


def cmd_sms_replies(args: argparse.Namespace) -> int:
    with open_app(args, writer=args.fetch) as app:
        report = app.texts.fetch_replies(now()) if args.fetch else None
        rows = app.texts.list_replies()
    doc = {"fetched": report.fetched if report else 0, "opted_out": report.opted_out if report else [],
           "confirmed": report.confirmed if report else [], "replies": rows}
    emit(args, doc, table([(r["received"][:16], r["from"], r["patient_id"] or "?", ",".join(r["tags"]),
                            r["body"][:50]) for r in rows], ("received", "from", "patient", "tags", "text")))
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    sms = commands.group("sms", "text messages")
    p = commands.add("send", cmd_sms_send, "queue a text to a patient's mobile (it goes at the next send)", as_json,
                     into=sms)
    p.add_argument("--patient", required=True, metavar="PID")
    p.add_argument("--text", required=True)
    p.add_argument("--even-in-quiet-hours", action="store_true", help="send inside sms.quiet_hours (asked first)")
    commands.add("test", cmd_sms_test, "ask the SMS provider for the balance (sends nothing)", as_json, into=sms)
    p = commands.add("status", cmd_sms_status, "texts in the outbox and their delivery status", as_json, into=sms)
    p.add_argument("--poll", action="store_true", help="first ask the provider about texts not yet delivered")
    p = commands.add("replies", cmd_sms_replies, "text replies, filed by number", as_json, into=sms)
    p.add_argument("--fetch", action="store_true", help="first fetch new replies from the provider")
