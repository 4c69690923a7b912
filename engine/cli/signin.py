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
from typing import TYPE_CHECKING, Any

from engine.cli.base import Commands, emit
from engine.cli.base import open_app_writer_if_free as _open  # the sign-in file is written either way

if TYPE_CHECKING:
    from engine.service.app import App


def _said(summary: dict[str, Any]) -> str:
    if not summary.get("signed_in"):
        return "not signed in"
    who = summary.get("account") or "the mail account"
    return f"signed in as {who} ({summary.get('provider')}); token last saved {summary.get('refreshed_at', '')[:19]}"


def _browser(url: str) -> bool:
    print(f"Opening the browser to sign in. If none opens, visit:\n{url}", file=sys.stderr)
    return webbrowser.open(url)


def cmd_signin(args: argparse.Namespace) -> int:
    def show(device: Any) -> None:
        print(f"On any device, visit {device.verification_uri} and enter the code {device.user_code}",
              file=sys.stderr)

    with _open(args) as app:
        if args.device:
            stop = threading.Event()
            summary = app.device_sign_in_beside_service(show, lambda seconds: stop.wait(seconds))
        else:
            summary = app.sign_in_beside_service(_browser, timeout=args.timeout)
    emit(args, summary, _said(summary))
    return 0


def cmd_signout(args: argparse.Namespace) -> int:
    with _open(args) as app:
        summary = app.sign_out()
    emit(args, summary, "signed out: the sign-in is forgotten here (and revoked where the provider allows)")
    return 0


def status_extra(app: App, status: dict[str, Any]) -> str:
    """Adds `signin` to the status document when OAuth is in use; returns its line."""
    summary = app.signin_summary()
    if summary is None:
        return ""
    status["signin"] = summary
    return "\n  " + _said(status["signin"])


def register(commands: Commands) -> None:
    p = commands.add("signin", cmd_signin,
                     "sign the mail account in with Microsoft, Google or the oauth.provider set (OAuth 2.0)",
                     commands.as_json)
    p.add_argument("--device", action="store_true",
                   help="show a code to enter on another device instead of opening a browser here")
    p.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    commands.add("signout", cmd_signout, "forget (and revoke) the mail account's sign-in", commands.as_json)
