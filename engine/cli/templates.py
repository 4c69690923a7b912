"""`practicemail templates list|show|add|check`: the practice's email templates."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.base import Commands, emit, open_app, table


def cmd_templates_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        items = [t.as_dict() for t in app.templates.list()]
    emit(args, items, table([(t["code"], t["category"], t["description"]) for t in items],
                            ("code", "category", "description")))
    return 0


def cmd_templates_show(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        t, r = app.render_template(args.code, args.patient or None)
    doc = {**t.as_dict(), "preview": {"subject": r.subject, "body": r.body, "html": r.html, "empty_fields": r.missing}}
    emit(args, doc, f"{t.code}: {t.description} [{t.category}]\nSubject: {r.subject}\n\n{r.body}"
         + (f"\n(empty in this preview: {', '.join(r.missing)})" if r.missing else ""))
    return 0


def cmd_templates_add(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        t = app.templates.add_file(Path(args.file))
    emit(args, {"code": t.code}, f"template {t.code} saved")
    return 0


def cmd_templates_check(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        results = app.templates.check_all()
    doc = {code: [{"part": pr.column, "line": pr.row, "message": pr.message} for pr in problems]
           for code, problems in results.items()}
    bad = {c: v for c, v in doc.items() if v}
    text = "every template is fine" if not bad else "\n".join(
        f"{c}: {x['part']} line {x['line']}: {x['message']}" for c, v in bad.items() for x in v)
    emit(args, doc, text)
    return 1 if bad else 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    templates = commands.group("templates", "email templates")
    commands.add("list", cmd_templates_list, "templates by category", as_json, into=templates)
    p = commands.add("show", cmd_templates_show, "a template and its preview (sample data, or a patient's)", as_json,
                     into=templates)
    p.add_argument("code")
    p.add_argument("--patient", metavar="PID", help="preview with this patient's details")
    p = commands.add("add", cmd_templates_add, "add or replace a template from a TOML file (checked first)", as_json,
                     into=templates)
    p.add_argument("file")
    commands.add("check", cmd_templates_check, "check every stored template", as_json, into=templates)
