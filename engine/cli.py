"""The `practicemail` command (also `python -m engine`). See CONTRACT.md.

Every command takes `--data DIR`. A failure prints one line (what, then what to
do) on stderr and exits non-zero. `--json` prints exactly one JSON document on
stdout; anything else goes to stderr. Bad input is caught where it enters:
argument types that validate (`_whole_number`, `record_id`), arguments that are
not text refused before parsing, and one translation in `main` of what the
operating system says (a missing file, a folder given for a file, a full disk)
into the same one line. A usage error (argparse) exits 2, any other failure 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import cli_signin
from engine.cli_input import (OneLineParser, fail, not_text, os_error, read_text_file, record_id, secret_value,
                              whole_number)
from engine.core import directory as directory_rules
from engine.core import settings as catalogue
from engine.core.names import shown_name
from engine.errors import InputInvalid, PracticeMailError
from engine.service.practice import Practice, default_data_folder

Handler = Callable[[argparse.Namespace], int]


def emit(args: argparse.Namespace, document: Any, text: str) -> None:
    """One JSON document with --json, else human text."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))


def _cell(value: Any) -> str:
    """A listing's cell: hidden bidi and control characters written out (`\\u202e`), so a
    name reads as what it is (engine/core/names.py); --json keeps the value exactly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown_name(str(value))


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def open_practice(args: argparse.Namespace, writer: bool) -> Practice:
    return Practice(args.data, writer=writer, command=f"practicemail {args.command}")


# --- config -----------------------------------------------------------------


def cmd_config_show(args: argparse.Namespace) -> int:
    with open_practice(args, writer=False) as p:
        values = p.settings.values()
        if args.json:
            emit(args, values, "")
        else:
            rows = [(k, "" if v is None else v, "" if p.settings.is_default(k) else "set")
                    for k, v in values.items()]
            emit(args, None, table(rows, ("key", "value", "")))
    return 0


def cmd_config_set(args: argparse.Namespace) -> int:
    if catalogue.setting(args.key).secret:
        args.value = secret_value(args.key, args.value)
    with open_practice(args, writer=True) as p:
        value = p.settings.set(args.key, args.value)
        shown = "***" if catalogue.setting(args.key).secret and value else _cell(value)
        emit(args, {args.key: shown}, f"{args.key} = {shown}")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from engine.adapters import private

    with open_practice(args, writer=False) as p:
        fixed = private.tighten(p.folder) if args.fix else []
        problems = p.settings.check() + [loose.problem() for loose in private.loose_modes(p.folder)]
    doc = {"ok": not problems, "problems": [{"key": pr.column, "message": pr.message} for pr in problems],
           "fixed": [str(f.path) for f in fixed]}
    text = "settings are complete" if not problems else "\n".join(f"{pr.column}: {pr.message}" for pr in problems)
    if fixed:
        text = f"made {len(fixed)} file(s) and folder(s) readable by this user only\n" + text
    emit(args, doc, text)
    return 1 if problems else 0


# --- directory ----------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    with open_practice(args, writer=True) as p:
        n = p.directory.import_csv(args.kind, Path(args.file))
    emit(args, {"imported": n, "kind": args.kind}, f"imported {n} {args.kind}")
    return 0


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if not k.startswith("_") and k != "source"}


def cmd_patients_list(args: argparse.Namespace) -> int:
    with open_practice(args, writer=False) as p:
        patients = sorted((_public(r) for r in p.directory.list("patients")), key=lambda r: r["id"])
    rows = [(r["id"], directory_rules.person_name(r), r.get("email", ""), r.get("family_id", "")) for r in patients]
    emit(args, patients, table(rows, ("id", "name", "email", "family")))
    return 0


def cmd_patients_add(args: argparse.Namespace) -> int:
    fields = {
        "id": args.id, "first_name": args.first_name, "last_name": args.last_name, "title": args.title or "",
        "email": args.email or "", "family_id": args.family_id or "", "usual_provider_id": args.usual_provider or "",
        "preferred_location": args.preferred_location or "", "mobile": args.mobile or "",
        "date_of_birth": args.date_of_birth or "", "shared_address": "yes" if args.shared_address else "",
    }
    from engine.service.outbox import Outbox
    from engine.service.reminders import Reminders

    with open_practice(args, writer=True) as p:
        reminders = Reminders(p, Outbox(p.store))
        welcomed: list[int | None] = []
        p.directory.on_patient_created(lambda rec: welcomed.append(reminders.welcome(rec, _now())))
        rec = p.directory.add_patient(fields)
    note = " (welcome email queued)" if welcomed and welcomed[0] else ""
    emit(args, {"id": rec["id"], "welcome": welcomed[0] if welcomed else None}, f"added patient {rec['id']}{note}")
    return 0


# --- kiosk and demo -------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.service.demo import prepare_demo_folder

    from engine.service.demo import FIXTURES, configure_for_fakemail, stage_outbox
    from tools.fakemail import FakeMail

    folder = prepare_demo_folder(args.data if args.data_given else None)
    print(f"demo data folder: {folder}", file=sys.stderr)
    from kiosk.app import run_kiosk

    try:
        with FakeMail(spool=folder / "fakemail-spool") as fm:
            with Practice(folder, writer=True, command="practicemail demo") as practice:
                configure_for_fakemail(practice, fm.info())
                stage_outbox(practice, datetime.now(timezone.utc))
            fm.faults.add("smtp", "rcpt", "reply", code=550, times=1, text="5.1.1 mailbox unknown")  # the first one
            for sample in sorted((FIXTURES / "inbox").glob("*.eml")):  # overnight replies waiting on the server
                fm.deliver(fm.user().username, sample.read_bytes())
            print(f"fake mail servers: {json.dumps(fm.info())}", file=sys.stderr)
            return run_kiosk(folder, screenshot=args.screenshot, view=args.view, first_pass=True)
    finally:
        if not args.data_given:  # a folder of our own making goes with the demo (--data keeps it)
            shutil.rmtree(folder, ignore_errors=True)


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.app import run_kiosk

    return run_kiosk(Path(args.data))


def cmd_fakemail(args: argparse.Namespace) -> int:
    """The bundled fake servers until interrupted; the first stdout line is their JSON."""
    import signal
    import threading

    from tools.fakemail import FakeMail

    spool = Path(args.spool) if args.spool else None
    with FakeMail(spool=spool) as fm:
        info = fm.info()
        sys.stdout.write(json.dumps(info) + "\n")  # the contract's first line, with or without --json
        if not args.json:
            print(f"fakemail on {info['host']}: SMTP submission {info['smtp']['submission']}, smtps "
                  f"{info['smtp']['smtps']}; IMAPS {info['imap']['imaps']}; POP3S {info['pop3']['pop3s']}; "
                  f"control http://{info['host']}:{info['http']}/faults. Ctrl-C stops.", file=sys.stderr)
        sys.stdout.flush()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    return 0


# --- outbox, sending, the service ---------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_when(text: str, tz_name: str) -> datetime:
    from zoneinfo import ZoneInfo

    from engine.errors import InputInvalid

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputInvalid(f"{text!r} is not a date and time", hint="Use ISO 8601, like 2026-12-01T09:30.") from None
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz_name))


OUTBOX_FIELDS = ("id", "status", "to", "subject", "created", "deliver_after", "attempts", "last_error")


def _outbox_row(rec: dict[str, Any]) -> dict[str, Any]:
    from engine.adapters.store import RID

    return {"id": rec[RID], "status": rec["status"], "to": rec["to"], "cc": rec.get("cc", []),
            "subject": rec["subject"], "created": rec["created"], "deliver_after": rec["deliver_after"],
            "attempts": rec["attempts"], "last_error": rec.get("last_error", ""), "hint": rec.get("last_hint", ""),
            "patient_id": rec.get("patient_id", ""), "message_id": rec.get("message_id", "")}


def cmd_outbox_add(args: argparse.Namespace) -> int:
    from engine.core.message import Draft, recipients_of
    from engine.errors import InputInvalid
    from engine.service.outbox import Outbox

    body = ""
    if args.body_file:
        try:
            body = Path(args.body_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputInvalid(f"cannot read {args.body_file}: {exc}", hint="Give a UTF-8 text file.") from None
    with open_practice(args, writer=True) as p:
        practice_email = p.settings.get("practice.email")
        if not practice_email:
            raise InputInvalid("the practice has no email address", hint="Set practice.email first.")
        if args.patient:
            p.directory.require("patients", args.patient)
        draft = Draft(from_address=practice_email, from_name=p.settings.get("practice.name"),
                      to=recipients_of(args.to), cc=recipients_of(args.cc or []), subject=args.subject or "",
                      text=body)
        deliver_after = _parse_when(args.deliver_after, p.settings.get("practice.timezone")) \
            if args.deliver_after else None
        rid = Outbox(p.store).add_draft(draft, _now(), as_draft=args.draft, deliver_after=deliver_after,
                                        patient_id=args.patient)
    emit(args, {"id": rid}, str(rid))
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from engine.service.outbox import Outbox

    with open_practice(args, writer=False) as p:
        rows = [_outbox_row(r) for r in Outbox(p.store).list(args.status)]
    text = table([(r["id"], r["status"], ", ".join(r["to"]), r["subject"][:40], r["deliver_after"][:16],
                   r["attempts"], r["last_error"][:60]) for r in rows],
                 ("id", "status", "to", "subject", "deliver after", "tries", "last error"))
    emit(args, rows, text)
    return 0


def cmd_outbox_reset_failed(args: argparse.Namespace) -> int:
    from engine.service.outbox import Outbox

    with open_practice(args, writer=True) as p:
        done = Outbox(p.store).reset_failed([int(i) for i in args.ids], _now())
    emit(args, {"reset": done}, f"{len(done)} failed item(s) back to ready")
    return 0


def cmd_send_receive(args: argparse.Namespace) -> int:
    from engine.service.engine import Engine

    with open_practice(args, writer=True) as p:
        engine = Engine(p)
        engine.outbox.recover(_now())
        report = engine.send_receive_now()
        engine.outbox.close()
    lines = [f"sent {report['sent']}, failed {report['failed']}, received {report['received']}, "
             f"filed {report['filed']}"]
    lines += [f"  {'item ' + str(e['id']) if e['id'] else 'account'}: {e['error']} ({e['hint']})"
              for e in report["errors"]]
    emit(args, report, "\n".join(lines))
    return 1 if any(e["id"] is None for e in report["errors"]) else 0


def _inbox(p: Practice):  # noqa: ANN202 - engine.service.inbox.Inbox
    from engine.service.inbox import Inbox

    return Inbox.for_practice(p)


def _inbox_row(r: dict[str, Any]) -> dict[str, Any]:
    from engine.adapters.store import RID

    return {"id": r[RID], "from": r["from"], "from_name": r.get("from_name", ""), "subject": r["subject"],
            "received": r["received"], "patient_id": r.get("patient_id", ""),
            "specialist_id": r.get("specialist_id", ""), "tags": r.get("tags", []), "read": r.get("read", False),
            "actioned": r.get("actioned", False), "candidates": r.get("candidates", []),
            "unreadable": r.get("unreadable", False)}


def cmd_inbox_list(args: argparse.Namespace) -> int:
    with open_practice(args, writer=False) as p:
        rows = [_inbox_row(r) for r in _inbox(p).list(show_all=args.all)]
    text = table([(r["id"], "" if r["read"] else "*", r["received"][:16], r["from"], r["subject"][:40],
                   r["patient_id"] or ("?" + "/".join(r["candidates"]) if r["candidates"] else ""),
                   r["specialist_id"], ",".join(r["tags"])) for r in rows],
                 ("id", "new", "received", "from", "subject", "patient", "specialist", "tags"))
    emit(args, rows, text)
    return 0


def cmd_inbox_file(args: argparse.Namespace) -> int:
    with open_practice(args, writer=True) as p:
        rec = _inbox(p).file(int(args.id), _now(), patient_id=args.patient or "", specialist_id=args.specialist or "")
    emit(args, _inbox_row(rec), f"message {args.id} filed to {args.patient or args.specialist}")
    return 0


def _record_id(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise InputInvalid(f"{text!r} is not {what} id", hint="Give the number shown in the list.")
    return int(text)


def _confirm_outside(named: str | None, patient_ids: Sequence[str]) -> bool:
    """`--confirm-outside PID`: the confirmation must name the patient whose mail it is."""
    if not named:
        return False
    if named not in patient_ids:
        whose = ", ".join(patient_ids) or "no patient's"
        raise InputInvalid(f"--confirm-outside names {named}, but this is {whose} mail",
                           hint="Name the patient whose mail is being forwarded.")
    return True


def cmd_forward(args: argparse.Namespace) -> int:
    """`inbox forward` and `outbox forward`: the original attached, through the confidentiality gate."""
    from engine.service.compose import Composer
    from engine.service.inbox import Inbox
    from engine.service.outbox import Outbox

    with open_practice(args, writer=True) as p:
        outbox = Outbox(p.store)
        composer = Composer(p, outbox, Inbox.for_practice(p, outbox))
        if args.command == "inbox":
            mid = _record_id(args.id, "a message")
            patients = composer.message_patients(composer.inbox.get(mid))
            rid = composer.forward(mid, args.to, _now(), confirmed_outside=_confirm_outside(args.confirm_outside,
                                                                                              patients))
        else:
            item_id = _record_id(args.id, "an outbox item")
            patients = composer.item_patients(composer.outbox.get(item_id))
            rid = composer.forward_sent(item_id, args.to, _now(),
                                        confirmed_outside=_confirm_outside(args.confirm_outside, patients))
    emit(args, {"id": rid}, str(rid))
    return 0


def cmd_templates_list(args: argparse.Namespace) -> int:
    from engine.service.templates import Templates

    with open_practice(args, writer=False) as p:
        items = [t.as_dict() for t in Templates(p.store).list()]
    emit(args, items, table([(t["code"], t["category"], t["description"]) for t in items],
                            ("code", "category", "description")))
    return 0


def cmd_templates_show(args: argparse.Namespace) -> int:
    from engine.core import templates as tpl
    from engine.service.compose import merge_context
    from engine.service.templates import Templates

    with open_practice(args, writer=False) as p:
        t = Templates(p.store).get(args.code)
        if args.patient:
            patient = p.directory.require("patients", args.patient)
            ctx = merge_context(p, patient)
        else:
            ctx = tpl.sample_context()
        r = tpl.render(t, ctx)
    doc = {**t.as_dict(), "preview": {"subject": r.subject, "body": r.body, "html": r.html, "empty_fields": r.missing}}
    emit(args, doc, f"{t.code}: {t.description} [{t.category}]\nSubject: {r.subject}\n\n{r.body}"
         + (f"\n(empty in this preview: {', '.join(r.missing)})" if r.missing else ""))
    return 0


def cmd_templates_add(args: argparse.Namespace) -> int:
    from engine.service.templates import Templates

    with open_practice(args, writer=True) as p:
        t = Templates(p.store).add_file(Path(args.file))
    emit(args, {"code": t.code}, f"template {t.code} saved")
    return 0


def cmd_templates_check(args: argparse.Namespace) -> int:
    from engine.service.templates import Templates

    with open_practice(args, writer=False) as p:
        results = Templates(p.store).check_all()
    doc = {code: [{"part": pr.column, "line": pr.row, "message": pr.message} for pr in problems]
           for code, problems in results.items()}
    bad = {c: v for c, v in doc.items() if v}
    text = "every template is fine" if not bad else "\n".join(
        f"{c}: {x['part']} line {x['line']}: {x['message']}" for c, v in bad.items() for x in v)
    emit(args, doc, text)
    return 1 if bad else 0


def cmd_compose(args: argparse.Namespace) -> int:
    from engine.service.compose import Composer
    from engine.service.inbox import Inbox
    from engine.service.outbox import Outbox

    with open_practice(args, writer=True) as p:
        outbox = Outbox(p.store)
        composer = Composer(p, outbox, Inbox.for_practice(p, outbox))
        if args.all or args.patients_file:
            if not args.template:
                raise InputInvalid("mass email needs --template", hint="Give the template's code.")
            if args.all:
                ids = [r["id"] for r in p.directory.list("patients")]
            else:
                try:
                    ids = [line.strip() for line in Path(args.patients_file).read_text("utf-8").splitlines()
                           if line.strip() and not line.startswith("#")]
                except (OSError, UnicodeDecodeError) as exc:
                    raise InputInvalid(f"cannot read {args.patients_file}: {exc}",
                                       hint="Give a UTF-8 text file with one patient id per line.") from None
            result = composer.mass(args.template, ids, _now())
            text = f"queued {result.queued} email(s)"
            if result.no_address:
                text += f"; no address for {len(result.no_address)}: {', '.join(result.no_address)}"
            emit(args, {"queued": result.queued, "ids": result.ids, "no_address": result.no_address}, text)
            return 0
        if not args.patient:
            raise InputInvalid("say who the email is for", hint="Give --patient PID, or --all / --patients-file.")
        files = [Path(f) for f in args.attach or []]
        total = sum(f.stat().st_size for f in files if f.exists())
        limit_mb = p.settings.get("attachments.warn_megabytes")
        if total > limit_mb * 1024 * 1024:
            print(f"practicemail: warning: attachments total {total / 1e6:.1f} MB, over the {limit_mb} MB the practice "
                  "set; the provider may refuse it (--scale-images makes photos smaller)", file=sys.stderr)
        body = read_text_file(args.body_file, "Give a UTF-8 text file for the body.") if args.body_file else ""
        outside = _confirm_outside(args.confirm_outside, [args.patient])
        rid = composer.from_patient(args.patient, _now(), template=args.template, provider_id=args.provider,
                                    confirmed_outside=outside,
                                    specialist_id=args.specialist, cc_specialist=args.cc_specialist,
                                    signature=args.signature, attachments=files, subject=args.subject or "",
                                    text=body, extra_cc=args.cc or [], as_draft=args.draft,
                                    scale_images_to=p.settings.get("attachments.image_max_pixels")
                                    if args.scale_images else None)
    emit(args, {"id": rid}, str(rid))
    return 0


def _reminders(p: Practice):  # noqa: ANN202 - engine.service.reminders.Reminders
    from engine.service.outbox import Outbox
    from engine.service.reminders import Reminders

    return Reminders(p, Outbox(p.store))


def cmd_appointments_book(args: argparse.Namespace) -> int:
    with open_practice(args, writer=True) as p:
        aid = _reminders(p).book(args.patient, args.start, args.minutes, _now(), provider_id=args.provider or "",
                                 location=args.location or "", aid=args.id)
    emit(args, {"id": aid}, aid)
    return 0


def cmd_appointments_move(args: argparse.Namespace) -> int:
    with open_practice(args, writer=True) as p:
        _reminders(p).move(args.aid, args.start, _now(), minutes=args.minutes)
    emit(args, {"id": args.aid}, f"appointment {args.aid} moved")
    return 0


def cmd_appointments_cancel(args: argparse.Namespace) -> int:
    with open_practice(args, writer=True) as p:
        _reminders(p).cancel(args.aid, _now())
    emit(args, {"id": args.aid}, f"appointment {args.aid} cancelled")
    return 0


def cmd_reminders_preview(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    with open_practice(args, writer=False) as p:
        lines = _reminders(p).preview(_now(), args.hours)
        tz = ZoneInfo(p.settings.get("practice.timezone"))
    emit(args, [x.as_dict() for x in lines],
         "\n".join(f"{x.at.astimezone(tz):%a %d %b %H:%M}  {x.what:<24} {x.detail}" for x in lines)
         or f"nothing planned in the next {args.hours} hours")
    return 0


def cmd_test_credentials(args: argparse.Namespace) -> int:
    """The setup test. Exit 0 when every server step passed, whether or not the service
    runs (that is shown apart, as information). Opened as the writer when the folder is
    free, so a test that passed counts as "tested" for the light; when the service holds
    the folder, its own next pass proves the account instead."""
    from engine.service.engine import Engine

    with _open_for_test(args) as p:
        result = Engine(p).test_credentials()
    lines = [f"{'ok  ' if st['ok'] else 'FAIL'} {st['name']:<28} {st['seconds']:6.2f}s  {st['message']}"
             + (f"\n     {st['hint']}" if not st["ok"] and st["hint"] else "") for st in result["steps"]]
    lines.append("passed: every step worked" if result["ok"] else f"failed: {result['message']}")
    service = result["service"]
    lines.append(f"info {service['message']}" + (f"\n     {service['hint']}" if service["hint"] else ""))
    emit(args, result, "\n".join(lines))
    return 0 if result["ok"] else 1


def _open_for_test(args: argparse.Namespace) -> Practice:
    from engine.errors import StoreLocked

    if Path(args.data).is_dir():
        try:
            return open_practice(args, writer=True)
        except StoreLocked:
            pass
    return open_practice(args, writer=False)


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
    with open_practice(args, writer=False) as p:
        page, results = run_runbook(Admin(p), args.runbook, role="reception",
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

    with open_practice(args, writer=False) as p:
        path = export(Admin(p), Path(args.output), include_patient_data=args.include_patient_data)
    emit(args, {"file": str(path)}, f"diagnostics written to {path}"
         + ("" if args.include_patient_data else " (no patient data)"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """States: not_set_up, running, failing, stopped (docs/status.md)."""
    from engine.service.heartbeat import Heartbeat

    with open_practice(args, writer=False) as p:
        st = Heartbeat(p.store, p.settings).status(_now())
        signed_in = cli_signin.status_extra(p, st)
    text = st["state"].replace("_", " ") + (f": {st['reason']}" if st.get("reason") else "")
    if st.get("hint"):
        text += f"\n  {st['hint']}"
    text += signed_in
    for key in ("last_send", "last_receive"):
        if st.get(key):
            text += f"\n  {key.replace('_', ' ')}: {st[key]['at'][:19]}"
    emit(args, st, text)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from engine.service.engine import Engine

    with open_practice(args, writer=True) as p:
        engine = Engine(p)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        engine.start()
        print(f"email service running on {p.folder}; Ctrl-C stops", file=sys.stderr)
        stop.wait()
        engine.stop()
    return 0


# --- the parser -------------------------------------------------------------


class _DataAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any, option: str | None = None) -> None:
        setattr(ns, self.dest, Path(values))
        ns.data_given = True


def build_parser() -> argparse.ArgumentParser:
    common = OneLineParser(add_help=False)
    common.add_argument("--data", action=_DataAction, default=argparse.SUPPRESS, metavar="DIR",
                        help="data folder (default: $PRACTICEMAIL_DATA or the user data folder)")
    as_json = OneLineParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON document")

    parser = OneLineParser(prog="practicemail", parents=[common],
                                     description="Patient email for a dental practice.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str, *parents: argparse.ArgumentParser,
            into: Any = sub) -> argparse.ArgumentParser:
        p = into.add_parser(name, parents=[common, *parents], help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    p = add("demo", cmd_demo, "the kiosk on a fresh demo practice with the bundled servers")
    p.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")
    p.add_argument("--view", default="inbox",
                   choices=("inbox", "outbox", "compose", "wizard", "templates", "patient", "admin"))
    add("kiosk", cmd_kiosk, "the kiosk on an existing data folder")

    p = add("fakemail", cmd_fakemail, "the bundled fake SMTP, IMAP and POP3 servers, until interrupted", as_json)
    p.add_argument("--spool", metavar="DIR", help="Maildir spool (default: a temporary folder, removed at exit)")

    outbox = sub.add_parser("outbox", help="outgoing email").add_subparsers(dest="action", required=True,
                                                                            metavar="ACTION")
    p = add("add", cmd_outbox_add, "queue one email; prints its id", as_json, into=outbox)
    p.add_argument("--to", action="append", required=True, metavar="ADDR")
    p.add_argument("--cc", action="append", metavar="ADDR")
    p.add_argument("--subject", default="")
    p.add_argument("--body-file", metavar="FILE")
    p.add_argument("--patient", metavar="ID")
    p.add_argument("--draft", action="store_true", help="keep as a draft: never sent automatically")
    p.add_argument("--deliver-after", metavar="ISO8601")
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument("--confirm-outside", metavar="PID",
                         help="confirm that this patient's mail or documents may go to an address that is no patient, "
                              "provider or specialist (recorded in the contact history)")
    p = add("forward", cmd_forward, "forward an outbox item (the original attached); prints the new item's id",
            as_json, confirm, into=outbox)
    p.add_argument("id")
    p.add_argument("--to", required=True, metavar="ADDR")
    p = add("list", cmd_outbox_list, "outbox items", as_json, into=outbox)
    p.add_argument("--status")
    p = add("reset-failed", cmd_outbox_reset_failed, "failed items back to ready, attempts to zero", as_json,
            into=outbox)
    p.add_argument("ids", nargs="*", metavar="ID", type=record_id)
    inbox = sub.add_parser("inbox", help="incoming email").add_subparsers(dest="action", required=True,
                                                                          metavar="ACTION")
    p = add("list", cmd_inbox_list, "messages (default: the kiosk's view: untagged, not actioned)", as_json,
            into=inbox)
    p.add_argument("--all", action="store_true", help="every message not deleted, filed and actioned included")
    p = add("file", cmd_inbox_file, "file a message to a patient or a specialist", as_json, into=inbox)
    p.add_argument("id", type=record_id)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="PID")
    who.add_argument("--specialist", metavar="SID")
    p = add("forward", cmd_forward, "forward a message (the original attached); prints the new outbox item's id",
            as_json, confirm, into=inbox)
    p.add_argument("id")
    p.add_argument("--to", required=True, metavar="ADDR")
    add("send-receive", cmd_send_receive, "one manual pass: send everything ready (no pacing), then receive",
        as_json)
    templates = sub.add_parser("templates", help="email templates").add_subparsers(dest="action", required=True,
                                                                                  metavar="ACTION")
    add("list", cmd_templates_list, "templates by category", as_json, into=templates)
    p = add("show", cmd_templates_show, "a template and its preview (sample data, or a patient's)", as_json,
            into=templates)
    p.add_argument("code")
    p.add_argument("--patient", metavar="PID", help="preview with this patient's details")
    p = add("add", cmd_templates_add, "add or replace a template from a TOML file (checked first)", as_json,
            into=templates)
    p.add_argument("file")
    add("check", cmd_templates_check, "check every stored template", as_json, into=templates)
    p = add("compose", cmd_compose, "build and queue an email from a patient's file, or a mass email", as_json,
            confirm)
    p.add_argument("--patient", metavar="PID")
    p.add_argument("--template", metavar="CODE")
    p.add_argument("--provider", metavar="ID")
    p.add_argument("--specialist", metavar="ID")
    p.add_argument("--cc-specialist", action="store_true")
    p.add_argument("--cc", action="append", metavar="ADDR")
    p.add_argument("--signature", action="store_true")
    p.add_argument("--attach", action="append", metavar="FILE")
    p.add_argument("--scale-images", action="store_true",
                   help="scale attached images down to attachments.image_max_pixels (never up)")
    p.add_argument("--subject")
    p.add_argument("--body-file", metavar="FILE")
    p.add_argument("--draft", action="store_true")
    p.add_argument("--patients-file", metavar="FILE")
    p.add_argument("--all", action="store_true", help="every patient")
    appts = sub.add_parser("appointments", help="book, move and cancel (they drive confirmations)").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = add("book", cmd_appointments_book, "book an appointment; prints its id", as_json, into=appts)
    p.add_argument("--patient", required=True, metavar="PID")
    p.add_argument("--start", required=True, metavar="ISO8601")
    p.add_argument("--minutes", required=True, type=int)
    p.add_argument("--provider", metavar="ID")
    p.add_argument("--location", metavar="NAME")
    p.add_argument("--id", metavar="AID")
    p = add("move", cmd_appointments_move, "move an appointment", as_json, into=appts)
    p.add_argument("aid")
    p.add_argument("--start", required=True, metavar="ISO8601")
    p.add_argument("--minutes", type=int)
    p = add("cancel", cmd_appointments_cancel, "cancel an appointment", as_json, into=appts)
    p.add_argument("aid")
    rem = sub.add_parser("reminders", help="automatic mail").add_subparsers(dest="action", required=True,
                                                                            metavar="ACTION")
    p = add("preview", cmd_reminders_preview, "what automatic work will happen when", as_json, into=rem)
    p.add_argument("--hours", type=whole_number(1, 24 * 31, "hours"), default=24,
                   help="how far ahead, up to a month (744 hours)")
    from engine import cli_messaging  # reminder rules, recalls, text messages

    cli_messaging.register(sub, rem, add, as_json)
    adm = sub.add_parser("admin", help="admin runbooks").add_subparsers(dest="action", required=True, metavar="ACTION")
    add("list", cmd_admin_list, "the shipped runbooks", as_json, into=adm)
    p = add("run", cmd_admin_run, "run a runbook headless (action cells are not run)", into=adm)
    p.add_argument("runbook")
    p.add_argument("--html", metavar="FILE", help="also write the run as one self-contained HTML file")
    p.add_argument("--cell", type=whole_number(-2**31, 2**31, "a cell number"), metavar="N",
                   help="run only cell N (numbered from 1, as the HTML page shows them)")
    p = add("export-diagnostics", cmd_export_diagnostics, "the support bundle (a zip)", as_json)
    p.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    p.add_argument("--include-patient-data", action="store_true",
                   help="include names, addresses and subjects (only when the practice agrees)")
    add("test-credentials", cmd_test_credentials, "the setup test, step by step (sends no email)", as_json)
    add("status", cmd_status, "the email service's state from its heartbeat", as_json)
    add("serve", cmd_serve, "run the email service headless until SIGINT/SIGTERM")
    cli_signin.register(add, as_json, emit)

    config = sub.add_parser("config", help="show, change or check settings").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    add("show", cmd_config_show, "every setting (secrets as ***)", as_json, into=config)
    p = add("set", cmd_config_set, "change one setting (validated); a secret such as account.password is "
            "given as - and read from a prompt or standard input, never typed on the command line", as_json,
            into=config)
    p.add_argument("key")
    p.add_argument("value", help="the value; for a secret: - (prompt, or one line of standard input)")
    p = add("check", cmd_config_check, "every problem in the settings, and files others could read", as_json,
            into=config)
    p.add_argument("--fix", action="store_true", help="first make every file 0600 and folder 0700 (owner only)")

    p = add("import", cmd_import, "import a CSV file: all rows or none", as_json)
    p.add_argument("kind", choices=directory_rules.KINDS)
    p.add_argument("file")

    patients = sub.add_parser("patients", help="the practice's patients").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    add("list", cmd_patients_list, "list patients", as_json, into=patients)
    p = add("add", cmd_patients_add, "add a new patient (sends the welcome email when set up)", as_json, into=patients)
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
    p.add_argument("--shared-address", action="store_true",
                   help="the address is knowingly shared with another family (else refused)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from engine.adapters.durable import make_private

    make_private()  # whatever this command creates (data, exports, logs) is the owner's alone
    argv = list(sys.argv[1:] if argv is None else argv)
    bad = not_text(argv)
    if bad is not None:
        return fail(f"an argument is not valid text: {ascii(bad)[:80]}",
                    "Type it again in ordinary characters (or rename the file it names).")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "data"):
        args.data = default_data_folder()
        args.data_given = False
    try:
        return int(args.handler(args) or 0)
    except PracticeMailError as exc:
        return fail(exc.message, exc.hint)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return os_error(exc)
    except UnicodeError as exc:
        return fail(f"some text could not be read or written as UTF-8 ({exc.reason})",
                    "Give files as UTF-8 text.")
    except RecursionError:
        return fail("the input is too deeply nested to read", "Simplify it (fewer nested parts) and try again.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
