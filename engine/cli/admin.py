"""`practicemail admin list|run` (the runbooks, headless) and `export-diagnostics` (the
support bundle)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.base import Commands, emit, open_app, table
from engine.cli.input import whole_number
from engine.errors import InputInvalid


def cmd_admin_list(args: argparse.Namespace) -> int:
    from engine.admin.runner import available, parse

    books = []
    for name, path in available().items():
        cells = parse(path.read_text("utf-8"))
        title = next((c.source.splitlines()[0].lstrip("# ") for c in cells if c.kind == "markdown"), name)
        books.append({"name": name, "title": title, "cells": len(cells),
                      "actions": sum(1 for c in cells if c.action)})
    emit(args, books, table([(b["name"], b["title"], b["cells"], b["actions"]) for b in books],
                            ("name", "title", "cells", "actions")))
    return 0


def cmd_admin_run(args: argparse.Namespace) -> int:
    from engine.admin.diagnostics import run_runbook
    from engine.admin.facade import Admin
    from engine.admin.runner import available

    if args.runbook not in available():
        raise InputInvalid(f"no runbook {args.runbook!r}", hint="`practicemail admin list` shows them.")
    if args.cell is not None:
        from engine.admin.runner import parse

        count = len(parse(available()[args.runbook].read_text("utf-8")))
        if not 1 <= args.cell <= count:
            raise InputInvalid(f"the runbook {args.runbook} has {count} cells, so there is no cell {args.cell}",
                               hint=f"Give --cell from 1 to {count} (the HTML page numbers them).")
    with open_app(args, writer=False) as app:
        page, results = run_runbook(Admin(app), args.runbook, role="reception",
                                    only=None if args.cell is None else args.cell - 1)
    if args.html:
        Path(args.html).write_text(page, "utf-8")
    for res in results:
        for out in res.outputs:
            data = out.data
            if out.kind == "table":
                text = table([[r.get(c, "") for c in data[0]] for r in data], list(data[0])) if data else ""
            elif out.kind in ("kv", "status"):
                text = "\n".join(f"{k}: {v}" for k, v in data.items())
            else:
                text = str(data)
            print(text, "\n")
    return 1 if any(r.state in ("error", "timeout") for r in results) else 0


def cmd_export_diagnostics(args: argparse.Namespace) -> int:
    from engine.admin.diagnostics import export
    from engine.admin.facade import Admin

    with open_app(args, writer=False) as app:
        path = export(Admin(app), Path(args.output), include_patient_data=args.include_patient_data)
    emit(args, {"file": str(path)}, f"diagnostics written to {path}"
         + ("" if args.include_patient_data else " (no patient data)"))
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    adm = commands.group("admin", "admin runbooks")
    commands.add("list", cmd_admin_list, "the shipped runbooks", as_json, into=adm)
    p = commands.add("run", cmd_admin_run, "run a runbook headless (action cells are not run)", into=adm)
    p.add_argument("runbook")
    p.add_argument("--html", metavar="FILE", help="also write the run as one self-contained HTML file")
    p.add_argument("--cell", type=whole_number(-2**31, 2**31, "a cell number"), metavar="N",
                   help="run only cell N (numbered from 1, as the HTML page shows them)")
    p = commands.add("export-diagnostics", cmd_export_diagnostics, "the support bundle (a zip)", as_json)
    p.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    p.add_argument("--include-patient-data", action="store_true",
                   help="include names, addresses and subjects (only when the practice agrees)")
