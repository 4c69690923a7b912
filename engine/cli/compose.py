"""`practicemail compose`: an email from a patient's file, or a mass email from a template."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.base import Commands, emit, now, open_desk_app
from engine.cli.forward import confirm_option, confirm_outside
from engine.cli.input import read_text_file
from engine.errors import InputInvalid

if TYPE_CHECKING:
    from engine.service.app import App


def _mass(args: argparse.Namespace, app: App) -> int:
    """`compose --all` or `--patients-file`: one template to many patients."""
    if not args.template:
        raise InputInvalid("mass email needs --template", hint="Give the template's code.")
    if args.all:
        ids = [r["id"] for r in app.directory.list("patients")]
    else:
        try:
            ids = [line.strip() for line in Path(args.patients_file).read_text("utf-8").splitlines()
                   if line.strip() and not line.startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputInvalid(f"cannot read {args.patients_file}: {exc}",
                               hint="Give a UTF-8 text file with one patient id per line.") from None
    result = app.composer.mass(args.template, ids, now())
    text = f"queued {result.queued} email(s)"
    if result.no_address:
        text += f"; no address for {len(result.no_address)}: {', '.join(result.no_address)}"
    emit(args, {"queued": result.queued, "ids": result.ids, "no_address": result.no_address}, text)
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    from engine.service.app import NewEmail

    from engine.errors import ReadOnly

    with open_desk_app(args) as app:  # on another desk, one email is asked of the service
        if args.all or args.patients_file:
            if app.on_another_desk:
                raise ReadOnly("cannot queue a mass email from this desk: the email service runs on another computer",
                               hint="Queue it at the computer where the email service runs.")
            return _mass(args, app)
        if not args.patient:
            raise InputInvalid("say who the email is for", hint="Give --patient PID, or --all / --patients-file.")
        files = [Path(f) for f in args.attach or []]
        total = sum(f.stat().st_size for f in files if f.exists())
        limit_mb = app.settings.get("attachments.warn_megabytes")
        if total > limit_mb * 1024 * 1024:
            print(f"practicemail: warning: attachments total {total / 1e6:.1f} MB, over the {limit_mb} MB the practice "
                  "set; the provider may refuse it (--scale-images makes photos smaller)", file=sys.stderr)
        body = read_text_file(args.body_file, "Give a UTF-8 text file for the body.") if args.body_file else ""
        outside = confirm_outside(args.confirm_outside, [args.patient])
        rid = app.compose(NewEmail(
            args.patient, template=args.template, provider_id=args.provider, confirmed_outside=outside,
            specialist_id=args.specialist, cc_specialist=args.cc_specialist, signature=args.signature,
            attachments=tuple(files), subject=args.subject or "", text=body, extra_cc=tuple(args.cc or ()),
            as_draft=args.draft, category=args.category, description=args.description,
            scale_images_to=app.settings.get("attachments.image_max_pixels") if args.scale_images else None))
    emit(args, {"id": rid}, str(rid))
    return 0


def register(commands: Commands) -> None:
    p = commands.add("compose", cmd_compose, "build and queue an email from a patient's file, or a mass email",
                     commands.as_json, confirm_option())
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
    p.add_argument("--category", help="how the email is grouped in the contact history (default: the template's)")
    p.add_argument("--description", help="what the email is, one line (default: the template's)")
    p.add_argument("--patients-file", metavar="FILE")
    p.add_argument("--all", action="store_true", help="every patient")
