"""`practicemail signin [--device]` and `practicemail signout`, and the sign-in lines of `status`.

The browser flow opens the system browser at the provider's consent page and waits for its
redirect to 127.0.0.1; the device flow prints the address and code to type on any device (a
phone will do) and waits. Neither prints a token: only who signed in and when.
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

from engine.cli.base import Commands, emit
from engine.errors import StoreLocked
from engine.service.practice import Practice


def _open(args: argparse.Namespace) -> Practice:
    """The writer when the folder is free; beside a running service, a reader (the sign-in
    file is written either way, and the service's keeper reads it at its next refresh)."""
    if Path(args.data).is_dir():
        try:
            return Practice(args.data, writer=True, command=f"practicemail {args.command}")
        except StoreLocked:
            pass
    return Practice(args.data, writer=False, command=f"practicemail {args.command}")


def _said(summary: dict[str, Any]) -> str:
    if not summary.get("signed_in"):
        return "not signed in"
    who = summary.get("account") or "the mail account"
    return f"signed in as {who} ({summary.get('provider')}); token last saved {summary.get('refreshed_at', '')[:19]}"


def _browser(url: str) -> bool:
    print(f"Opening the browser to sign in. If none opens, visit:\n{url}", file=sys.stderr)
    return webbrowser.open(url)


def cmd_signin(args: argparse.Namespace) -> int:
    from engine.service import signin

    with _open(args) as p:
        if args.device:
            device = signin.begin_device(p)
            print(f"On any device, visit {device.verification_uri} and enter the code {device.user_code}",
                  file=sys.stderr)
            stop = threading.Event()
            summary = signin.finish_device(p, device, lambda seconds: stop.wait(seconds))
        else:
            summary = signin.sign_in(p, open_browser=_browser, timeout=args.timeout)
    emit(args, summary, _said(summary))
    return 0


def cmd_signout(args: argparse.Namespace) -> int:
    from engine.service import signin

    with _open(args) as p:
        summary = signin.sign_out(p)
    emit(args, summary, "signed out: the sign-in is forgotten here (and revoked where the provider allows)")
    return 0


def status_extra(p: Practice, status: dict[str, Any]) -> str:
    """Adds `signin` to the status document when OAuth is in use; returns its line."""
    from engine.service import signin

    if not (signin.uses_oauth(p, "outgoing") or signin.uses_oauth(p, "incoming")):
        return ""
    status["signin"] = signin.summary(p)
    return "\n  " + _said(status["signin"])


def register(commands: Commands) -> None:
    p = commands.add("signin", cmd_signin,
                     "sign the mail account in with Microsoft, Google or the oauth.provider set (OAuth 2.0)",
                     commands.as_json)
    p.add_argument("--device", action="store_true",
                   help="show a code to enter on another device instead of opening a browser here")
    p.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    commands.add("signout", cmd_signout, "forget (and revoke) the mail account's sign-in", commands.as_json)
