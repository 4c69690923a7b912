"""`practicemail sms send|test|unlock|status|replies|templates`: text messages."""

from __future__ import annotations

import argparse

from engine.cli.base import Commands, emit, now, open_app, open_app_writer_if_free, table
from engine.core.outbox_item import SMS


def cmd_sms_send(args: argparse.Namespace) -> int:
    from engine.core.sms import segments

    with open_app(args, writer=True) as app:
        text = app.text_from_template(args.template, args.patient) if args.template else args.text
        rid = app.send_text(args.patient, text, even_in_quiet_hours=args.even_in_quiet_hours)
    seg = segments(text)
    emit(args, {"id": rid, "parts": seg.parts, "encoding": seg.encoding},
         f"text {rid} queued ({seg.describe()}); it goes at the next send")
    return 0


def cmd_sms_test(args: argparse.Namespace) -> int:
    with open_app_writer_if_free(args) as app:
        # beside a running service this is a reader: the balance only, the lock is the service's to record
        balance = app.test_sms() if app.writer else app.texts.provider().balance()
        provider, locked = app.settings.get("sms.provider"), app.sms_account_locked()
    doc = {"ok": True, "provider": provider, "balance": balance.amount, "currency": balance.currency,
           "account_locked": locked}
    emit(args, doc, f"the SMS provider answered: balance {balance.amount} {balance.currency}"
         + ("; the practice ID is locked (`sms unlock` to change it)" if locked else ""))
    return 0


def cmd_sms_unlock(args: argparse.Namespace) -> int:
    """A super user's action, as in the kiosk: the user named by --user signs in with their PIN
    (asked at a prompt that does not echo, or one line of standard input; never on argv) and the
    App's door checks that their group may unlock it."""
    from engine.cli.input import hidden_line
    from engine.errors import InputInvalid
    from engine.service.app import App

    if not args.yes:
        raise InputInvalid("the practice ID was not unlocked: " + App.SMS_UNLOCK_WARNING,
                           hint="Run it again with --yes --user NAME (a super user; the PIN is asked for) to unlock it.")
    if not args.user:
        raise InputInvalid("only a super user may unlock the SMS practice ID; nothing was changed",
                           hint="Run it again with --user NAME (a user of the super user group; the PIN is asked for).")
    with open_app(args, writer=True) as app:
        pin = ""
        if app.roles.has_pin(args.user):
            pin = hidden_line(f"PIN for {args.user} (not shown): ")
            if not pin:
                raise InputInvalid("no PIN was given; nothing was changed",
                                   hint="Type it at the prompt, or give it as one line on standard input.")
        who = app.roles.sign_in(args.user, pin)
        warning = app.unlock_sms_account(who)
    emit(args, {"unlocked": True, "by": who.user, "warning": warning},
         f"the practice ID is unlocked (by {who.user}). {warning}")
    return 0


def cmd_sms_templates_list(args: argparse.Namespace) -> int:
    from engine.core.templates import SMS

    with open_app(args, writer=False) as app:
        items = [{"code": t.code, "description": t.description, "category": t.category, "text": t.body}
                 for t in app.templates.list() if t.kind == SMS]
    emit(args, items, table([(t["code"], t["description"], t["text"][:50]) for t in items],
                            ("code", "description", "text")))
    return 0


def cmd_sms_templates_add(args: argparse.Namespace) -> int:
    from engine.core.templates import SMS
    from engine.errors import InputInvalid
    from engine.service.app import Template

    with open_app(args, writer=True) as app:
        if app.templates.exists(args.code) and app.templates.get(args.code).kind != SMS:
            raise InputInvalid(f"{args.code} is an email template", hint="Choose another code for the text.")
        t = Template(args.code, args.description, args.category, body=args.text, kind=SMS)
        app.save_template(t, new=not args.replace)
        seg = app.text_segments(app.render_template(args.code, None)[1].body)
    emit(args, {"code": t.code, "parts": seg.parts}, f"text template {t.code} saved ({seg.describe()} "
         "with the sample patient)")
    return 0


def cmd_sms_templates_delete(args: argparse.Namespace) -> int:
    from engine.core.templates import SMS
    from engine.errors import InputInvalid

    with open_app(args, writer=True) as app:
        if app.templates.exists(args.code) and app.templates.get(args.code).kind != SMS:
            raise InputInvalid(f"{args.code} is an email template, not a text", hint="`sms templates list` shows "
                               "the text templates.")
        app.delete_template(args.code)
    emit(args, {"deleted": args.code}, f"text template {args.code} deleted")
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
    words = p.add_mutually_exclusive_group(required=True)
    words.add_argument("--text")
    words.add_argument("--template", metavar="CODE", help="a text template filled in for the patient")
    p.add_argument("--even-in-quiet-hours", action="store_true", help="send inside sms.quiet_hours (asked first)")
    commands.add("test", cmd_sms_test, "ask the SMS provider for the balance (sends nothing); once it answers, the "
                 "practice ID (sms.account) is locked", as_json, into=sms)
    p = commands.add("unlock", cmd_sms_unlock, "let the practice ID (sms.account) be changed again (with a warning)",
                     as_json, into=sms)
    p.add_argument("--yes", action="store_true", help="unlock it (without: only the warning)")
    p.add_argument("--user", metavar="NAME", help="who unlocks it: a user whose group may (the super user group by "
                   "default); their PIN is asked for, or read as one line of standard input")
    p = commands.add("status", cmd_sms_status, "texts in the outbox and their delivery status", as_json, into=sms)
    p.add_argument("--poll", action="store_true", help="first ask the provider about texts not yet delivered")
    p = commands.add("replies", cmd_sms_replies, "text replies, filed by number", as_json, into=sms)
    p.add_argument("--fetch", action="store_true", help="first fetch new replies from the provider")
    tpls = commands.group("templates", "text-message templates", into=sms, dest="sms_templates_action")
    commands.add("list", cmd_sms_templates_list, "the text templates", as_json, into=tpls)
    p = commands.add("add", cmd_sms_templates_add, "add a text template (checked like an email template, and "
                     "counted against sms.max_segments)", as_json, into=tpls)
    p.add_argument("code")
    p.add_argument("--text", required=True, help="the words, with merge fields such as {{ patient.first_name }}")
    p.add_argument("--description", default="")
    p.add_argument("--category", default="")
    p.add_argument("--replace", action="store_true", help="replace the text template of that code")
    p = commands.add("delete", cmd_sms_templates_delete, "delete a text template (refused while a rule or a "
                     "setting names it)", as_json, into=tpls)
    p.add_argument("code")
