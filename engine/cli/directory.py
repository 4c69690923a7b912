"""`practicemail import` and `practicemail patients list|add`: the practice's directory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.cli.base import Commands, emit, now, open_app, table
from engine.core import directory as directory_rules


def cmd_import(args: argparse.Namespace) -> int:
    with open_app(args, writer=True) as app:
        n = app.directory.import_csv(args.kind, Path(args.file))
    emit(args, {"imported": n, "kind": args.kind}, f"imported {n} {args.kind}")
    return 0


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if not k.startswith("_") and k != "source"}


def cmd_patients_list(args: argparse.Namespace) -> int:
    with open_app(args, writer=False) as app:
        patients = sorted((_public(r) for r in app.directory.list("patients")), key=lambda r: r["id"])
    rows = [(r["id"], directory_rules.person_name(r), r.get("email", ""), r.get("family_id", "")) for r in patients]
    emit(args, patients, table(rows, ("id", "name", "email", "family")))
    return 0


def cmd_patients_add(args: argparse.Namespace) -> int:
    fields = {
        "id": args.id, "first_name": args.first_name, "last_name": args.last_name, "title": args.title or "",
        "email": args.email or "", "family_id": args.family_id or "", "usual_provider_id": args.usual_provider or "",
        "preferred_location": args.preferred_location or "", "mobile": args.mobile or "",
        "date_of_birth": args.date_of_birth or "", "shared_address": "yes" if args.shared_address else "",
        "preference": args.preference or "",
    }
    with open_app(args, writer=True) as app:
        welcomed: list[int | None] = []
        app.directory.on_patient_created(lambda rec: welcomed.append(app.reminders.welcome(rec, now())))
        rec = app.directory.add_patient(fields)
    note = " (welcome email queued)" if welcomed and welcomed[0] else ""
    emit(args, {"id": rec["id"], "welcome": welcomed[0] if welcomed else None}, f"added patient {rec['id']}{note}")
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    p = commands.add("import", cmd_import, "import a CSV file: all rows or none", as_json)
    p.add_argument("kind", choices=directory_rules.KINDS)
    p.add_argument("file")

    patients = commands.group("patients", "the practice's patients")
    commands.add("list", cmd_patients_list, "list patients", as_json, into=patients)
    p = commands.add("add", cmd_patients_add, "add a new patient (sends the welcome email when set up)", as_json,
                     into=patients)
    p.add_argument("--id", required=True)
    p.add_argument("--first-name", required=True)
    p.add_argument("--last-name", required=True)
    p.add_argument("--title")
    p.add_argument("--email")
    p.add_argument("--mobile")
    p.add_argument("--date-of-birth")
    p.add_argument("--family-id")
    p.add_argument("--usual-provider")
    p.add_argument("--preferred-location")
    p.add_argument("--preference", choices=("email", "sms", "both", "none"),
                   help="how automatic messages reach the patient (default: email)")
    p.add_argument("--shared-address", action="store_true",
                   help="the address is knowingly shared with another family (else refused)")
