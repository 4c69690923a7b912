"""`practicemail reminders rules ...` (and, as they come, `recalls ...` and `sms ...`).

Registered into engine/cli.py's parser by `register`, so the commands for reminders,
recalls and text messages live in one module beside the main command table.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine import cli as base
from engine.cli_input import whole_number


def _rules(p: Any) -> Any:  # engine.service.reminders.ReminderRules
    from engine.service.reminders import ReminderRules

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


def register(sub: Any, reminders: Any, add: Any, as_json: argparse.ArgumentParser) -> None:
    """Add this module's commands: `reminders rules` under the existing `reminders` group."""
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
