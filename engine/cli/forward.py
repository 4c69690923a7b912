"""`inbox forward` and `outbox forward`, and the `--confirm-outside PID` they and `compose`
take: a patient's mail going to an address that is no patient, provider or specialist must
name the patient whose mail it is."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from engine.cli.base import emit, open_app
from engine.errors import InputInvalid


def confirm_option() -> argparse.ArgumentParser:
    """The `--confirm-outside PID` option, as a parent parser for the commands that take it."""
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument("--confirm-outside", metavar="PID",
                         help="confirm that this patient's mail or documents may go to an address that is no patient, "
                              "provider or specialist (recorded in the contact history)")
    return confirm


def record_id_of(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise InputInvalid(f"{text!r} is not {what} id", hint="Give the number shown in the list.")
    return int(text)


def confirm_outside(named: str | None, patient_ids: Sequence[str]) -> bool:
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
    with open_app(args, writer=True) as app:
        if args.command == "inbox":
            mid = record_id_of(args.id, "a message")
            patients = app.composer.message_patients(app.inbox.get(mid))
            rid = app.forward(mid, args.to, confirmed_outside=confirm_outside(args.confirm_outside, patients))
        else:
            item_id = record_id_of(args.id, "an outbox item")
            patients = app.composer.item_patients(app.outbox.get(item_id))
            rid = app.forward_sent(item_id, args.to, confirmed_outside=confirm_outside(args.confirm_outside, patients))
    emit(args, {"id": rid}, str(rid))
    return 0
