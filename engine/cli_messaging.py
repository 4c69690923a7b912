"""`practicemail reminders rules ...` (and, as they come, `recalls ...` and `sms ...`).

Registered into engine/cli.py's parser by `register`, so the commands for reminders,
recalls and text messages live in one module beside the main command table.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from engine import cli as base
from engine.cli_input import whole_number


def _rules(p: Any) -> Any:  # engine.service.reminders.ReminderRules
    from engine.service.reminder_rules import ReminderRules

    return ReminderRules(p)


def cmd_rules_list(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=False) as p:
        rules = [r.as_dict() for r in _rules(p).list()]
    base.emit(args, rules, base.table([(r["id"], r["describe"], r["template"]) for r in rules],
                                      ("id", "rule", "template")) if rules else "no reminder rules")
    return 0


def cmd_rules_add(args: argparse.Namespace) -> int:
    fields = {"id": args.id or "", "channel": args.channel, "days": args.days, "hours": args.hours,
              "at": args.at or "", "template": args.template, "provider_id": args.provider or "",
              "location": args.location or ""}
    with base.open_practice(args, writer=True) as p:
        rule = _rules(p).add(fields)
    base.emit(args, rule.as_dict(), f"reminder rule {rule.id} added: {rule.describe()}")
    return 0


def cmd_rules_delete(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=True) as p:
        _rules(p).delete(args.rule_id)
    base.emit(args, {"deleted": args.rule_id}, f"reminder rule {args.rule_id} deleted")
    return 0


def _recalls(p: Any) -> Any:  # engine.service.recalls.Recalls
    from engine.service.outbox import Outbox
    from engine.service.recalls import Recalls

    return Recalls(p, Outbox(p.store))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date like 2027-01-31") from None


def cmd_recalls_import(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=True) as p:
        n = _recalls(p).import_csv(Path(args.file))
    base.emit(args, {"imported": n}, f"imported {n} recall(s)")
    return 0


def cmd_recalls_derive(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=True) as p:
        n = _recalls(p).derive(args.type, args.months)
    base.emit(args, {"derived": n}, f"{n} recall(s) from the last {args.type} appointment plus {args.months} months")
    return 0


def cmd_recalls_list(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=False) as p:
        rows = [r.as_dict() for r in _recalls(p).list(args.patient)]
    rows = [r for r in rows if not args.status or r["status"] == args.status]
    base.emit(args, rows, base.table([(r["patient_id"], r["type"], r["interval_months"], r["due"], r["status"])
                                      for r in rows], ("patient", "type", "months", "due", "status")))
    return 0


def cmd_recalls_run(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        print(f"queued {done} of {total}", file=sys.stderr, flush=True)

    # a dry run opens the folder as a reader: it cannot change anything
    with base.open_practice(args, writer=not args.dry_run) as p:
        result = _recalls(p).run(args.due_before, base._now(), location=args.location or "",
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
    base.emit(args, doc, "\n".join(lines))
    return 0


def _texts(p: Any) -> Any:  # engine.service.sms.Texts
    from engine.service.outbox import Outbox
    from engine.service.sms import Texts

    return Texts(p, Outbox(p.store))


def cmd_sms_send(args: argparse.Namespace) -> int:
    from engine.core.sms import segments

    with base.open_practice(args, writer=True) as p:
        rid = _texts(p).queue(args.patient, args.text, base._now(), even_in_quiet_hours=args.even_in_quiet_hours)
    seg = segments(args.text)
    base.emit(args, {"id": rid, "parts": seg.parts, "encoding": seg.encoding},
              f"text {rid} queued ({seg.describe()}); it goes at the next send")
    return 0


def cmd_sms_test(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=False) as p:
        texts = _texts(p)
        try:
            balance = texts.provider().balance()
        finally:
            texts.close()
    doc = {"ok": True, "provider": p.settings.get("sms.provider"), "balance": balance.amount,
           "currency": balance.currency}
    base.emit(args, doc, f"the SMS provider answered: balance {balance.amount} {balance.currency}")
    return 0


def cmd_sms_status(args: argparse.Namespace) -> int:
    from engine.adapters.store import RID
    from engine.service.outbox import SMS

    with base.open_practice(args, writer=True) as p:
        texts = _texts(p)
        try:
            changed = texts.poll_statuses(base._now()) if args.poll else 0
        finally:
            texts.close()
        rows = [{"id": r[RID], "status": r["status"], "to": r["to"][0],
                 "delivery": r.get("provider_status", ""), "reason": r.get("provider_reason", "") or r.get("last_error", ""),
                 "parts": r.get("parts"), "deliver_after": r["deliver_after"], "patient_id": r.get("patient_id", "")}
                for r in texts.outbox.list() if r.get("kind") == SMS]
    base.emit(args, {"changed": changed, "texts": rows},
              base.table([(r["to"], r["status"], r["delivery"], r["reason"][:60], r["deliver_after"][:16]) for r in rows],
                         ("to", "status", "delivery", "reason", "deliver after")))
    return 0


def cmd_sms_replies(args: argparse.Namespace) -> int:
    with base.open_practice(args, writer=args.fetch) as p:
        texts = _texts(p)
        try:
            report = texts.fetch_replies(base._now()) if args.fetch else None
        finally:
            texts.close()
        rows = texts.list_replies()
    doc = {"fetched": report.fetched if report else 0, "opted_out": report.opted_out if report else [],
           "confirmed": report.confirmed if report else [], "replies": rows}
    base.emit(args, doc, base.table([(r["received"][:16], r["from"], r["patient_id"] or "?", ",".join(r["tags"]),
                                      r["body"][:50]) for r in rows], ("received", "from", "patient", "tags", "text")))
    return 0


def register(sub: Any, reminders: Any, add: Any, as_json: argparse.ArgumentParser) -> None:
    """Add this module's commands: `reminders rules` under the existing `reminders` group,
    and `recalls`."""
    recalls = sub.add_parser("recalls", help="recalls: check-ups and hygiene visits due").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = add("import", cmd_recalls_import, "import recalls from CSV (patient_id, type, interval_months, due_date)",
            as_json, into=recalls)
    p.add_argument("file")
    p = add("derive", cmd_recalls_derive, "recalls from each patient's last appointment of a type plus months",
            as_json, into=recalls)
    p.add_argument("--type", required=True)
    p.add_argument("--months", required=True, type=whole_number(1, 120, "months"))
    p = add("list", cmd_recalls_list, "recalls, soonest due first", as_json, into=recalls)
    p.add_argument("--patient", metavar="PID")
    p.add_argument("--status", choices=("due", "sent", "booked"))
    p = add("run", cmd_recalls_run, "queue one message per patient due, staggered (recalls.per_hour)", as_json,
            into=recalls)
    p.add_argument("--due-before", required=True, type=_day, metavar="DATE", help="due on or before this day")
    p.add_argument("--location", metavar="NAME", help="only patients whose preferred location this is")
    p.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")

    sms = sub.add_parser("sms", help="text messages").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = add("send", cmd_sms_send, "queue a text to a patient's mobile (it goes at the next send)", as_json, into=sms)
    p.add_argument("--patient", required=True, metavar="PID")
    p.add_argument("--text", required=True)
    p.add_argument("--even-in-quiet-hours", action="store_true", help="send inside sms.quiet_hours (asked first)")
    add("test", cmd_sms_test, "ask the SMS provider for the balance (sends nothing)", as_json, into=sms)
    p = add("status", cmd_sms_status, "texts in the outbox and their delivery status", as_json, into=sms)
    p.add_argument("--poll", action="store_true", help="first ask the provider about texts not yet delivered")
    p = add("replies", cmd_sms_replies, "text replies, filed by number", as_json, into=sms)
    p.add_argument("--fetch", action="store_true", help="first fetch new replies from the provider")
    rules = reminders.add_parser("rules", help="reminder rules: when reminders go before an appointment") \
        .add_subparsers(dest="rules_action", required=True, metavar="ACTION")
    add("list", cmd_rules_list, "the practice's reminder rules", as_json, into=rules)
    p = add("add", cmd_rules_add, "add a rule, e.g. --channel sms --days 2 --at 10:00 --template APPTREM", as_json,
            into=rules)
    p.add_argument("--channel", required=True, choices=("email", "sms"))
    p.add_argument("--days", type=whole_number(0, 90, "days before"), default=0, help="days before (0-90)")
    p.add_argument("--hours", type=whole_number(0, 23, "hours before"), default=0,
                   help="hours before (without --at)")
    p.add_argument("--at", metavar="HH:MM", help="at this practice-local time on that day")
    p.add_argument("--template", required=True, metavar="CODE")
    p.add_argument("--provider", metavar="ID", help="only appointments with this provider")
    p.add_argument("--location", metavar="NAME", help="only appointments at this location")
    p.add_argument("--id", metavar="ID", help="the rule's id (default R1, R2, ...)")
    p = add("delete", cmd_rules_delete, "delete a rule (reminders already planned stay planned)", as_json,
            into=rules)
    p.add_argument("rule_id", metavar="ID")
