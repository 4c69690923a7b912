"""`practicemail appointments book|move|cancel` (they drive confirmations and reminders) and
`practicemail reminders preview|rules`: the automatic mail before an appointment."""

from __future__ import annotations

import argparse
import sys

from engine.cli.base import Commands, emit, now, open_app, table
from engine.cli.input import whole_number


def _tell_late(lines: list[str]) -> None:
    """Reminders that will not go for this booking, one line each on stderr (stdout stays the id)."""
    for line in lines:
        print(line, file=sys.stderr)


def cmd_appointments_book(args: argparse.Namespace) -> int:
    t = now()
    with open_app(args, writer=True) as app:
        aid = app.reminders.book(args.patient, args.start, args.minutes, t, provider_id=args.provider or "",
                                 location=args.location or "", aid=args.id, appointment_type=args.type or "")
        late = app.reminders.late_reminders(aid, t)
    emit(args, {"id": aid, "late_reminders": late}, aid)
    _tell_late(late)
    return 0


def cmd_appointments_move(args: argparse.Namespace) -> int:
    t = now()
    with open_app(args, writer=True) as app:
        app.reminders.move(args.aid, args.start, t, minutes=args.minutes)
        late = app.reminders.late_reminders(args.aid, t)
    emit(args, {"id": args.aid, "late_reminders": late}, f"appointment {args.aid} moved")
    _tell_late(late)
    return 0


def cmd_appointments_cancel(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        app.reminders.cancel(args.aid, now())
    emit(args, {"id": args.aid}, f"appointment {args.aid} cancelled")
    return 0


def cmd_reminders_preview(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        lines = app.reminders.preview(now(), args.hours)
        tz = app.zone()
    emit(args, [x.as_dict() for x in lines],
         "\n".join(f"{x.at.astimezone(tz):%a %d %b %H:%M}  {x.what:<24} {x.detail}" for x in lines)
         or f"nothing planned in the next {args.hours} hours")
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        rules = [r.as_dict() for r in app.reminder_rules.list()]
    emit(args, rules, table([(r["id"], r["describe"], r["template"]) for r in rules],
                            ("id", "rule", "template")) if rules else "no reminder rules")
    return 0


def cmd_rules_add(args: argparse.Namespace) -> int:
    fields = {"id": args.id or "", "channel": args.channel, "days": args.days, "hours": args.hours,
              "at": args.at or "", "template": args.template, "provider_id": args.provider or "",
              "location": args.location or "",
              "appointment_type": args.type or ""}
    with open_app(args, writer=True) as app:
        rule = app.reminder_rules.add(fields)
    emit(args, rule.as_dict(), f"reminder rule {rule.id} added: {rule.describe()}")
    return 0


def cmd_rules_delete(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        app.reminder_rules.delete(args.rule_id)
    emit(args, {"deleted": args.rule_id}, f"reminder rule {args.rule_id} deleted")
    return 0


def _register_appointments(commands: Commands) -> None:
    as_json = commands.as_json
    appts = commands.group("appointments", "book, move and cancel (they drive confirmations)")
    p = commands.add("book", cmd_appointments_book, "book an appointment; prints its id", as_json, into=appts)
    p.add_argument("--patient", required=True, metavar="PID")
    p.add_argument("--start", required=True, metavar="ISO8601")
    p.add_argument("--minutes", required=True, type=int)
    p.add_argument("--provider", metavar="ID")
    p.add_argument("--location", metavar="NAME")
    p.add_argument("--id", metavar="AID")
    p.add_argument("--type", metavar="TYPE", help="the appointment's type, e.g. checkup or hygiene")
    p = commands.add("move", cmd_appointments_move, "move an appointment", as_json, into=appts)
    p.add_argument("aid")
    p.add_argument("--start", required=True, metavar="ISO8601")
    p.add_argument("--minutes", type=int)
    p = commands.add("cancel", cmd_appointments_cancel, "cancel an appointment", as_json, into=appts)
    p.add_argument("aid")


def register(commands: Commands) -> None:
    _register_appointments(commands)
    as_json = commands.as_json
    rem = commands.group("reminders", "automatic mail")
    p = commands.add("preview", cmd_reminders_preview, "what automatic work will happen when", as_json, into=rem)
    p.add_argument("--hours", type=whole_number(1, 24 * 31, "hours"), default=24,
                   help="how far ahead, up to a month (744 hours)")
    rules = commands.group("rules", "reminder rules: when reminders go before an appointment", into=rem,
                           dest="rules_action")
    commands.add("list", cmd_rules_list, "the practice's reminder rules", as_json, into=rules)
    p = commands.add("add", cmd_rules_add, "add a rule, e.g. --channel sms --days 2 --at 10:00 --template APPTSMS",
                     as_json, into=rules)
    p.add_argument("--channel", required=True, choices=("email", "sms"))
    p.add_argument("--days", type=whole_number(0, 90, "days before"), default=0, help="days before (0-90)")
    p.add_argument("--hours", type=whole_number(0, 23, "hours before"), default=0,
                   help="hours before (without --at)")
    p.add_argument("--at", metavar="HH:MM", help="at this practice-local time on that day")
    p.add_argument("--template", required=True, metavar="CODE")
    p.add_argument("--provider", metavar="ID", help="only appointments with this provider")
    p.add_argument("--location", metavar="NAME", help="only appointments at this location")
    p.add_argument("--type", metavar="TYPE", help="only appointments of this type (e.g. hygiene)")
    p.add_argument("--id", metavar="ID", help="the rule's id (default R1, R2, ...)")
    p = commands.add("delete", cmd_rules_delete, "delete a rule (reminders already planned stay planned)", as_json,
                     into=rules)
    p.add_argument("rule_id", metavar="ID")
