"""`practicemail service install|uninstall|status|windows-task`: run the email service by itself.

Each prints one line (the file written or removed, and what the service manager said) and exits 1
with a hint when the manager refused or is not running, so an IT person knows what to run by hand.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.cli.base import Commands, emit
from engine.core import service_unit


def _report(args: argparse.Namespace, report: Any) -> int:
    data = {"ok": report.ok, "unit_file": str(report.unit_file), "said": report.said, "hint": report.hint}
    emit(args, data, f"{report.unit_file}: {report.said}")
    if not report.ok and report.hint:
        print(f"  {report.hint}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_install(args: argparse.Namespace) -> int:
    from engine.service.app import App

    if args.print:
        spec = App.service_spec(args.data, args.system, args.user or "")
        print(service_unit.systemd_unit(spec), end="")
        return 0
    return _report(args, App.install_service(args.data, args.system, args.user or "", start=not args.no_start))


def cmd_uninstall(args: argparse.Namespace) -> int:
    from engine.service.app import App

    return _report(args, App.uninstall_service(args.system))


def cmd_status(args: argparse.Namespace) -> int:
    from engine.service.app import App

    return _report(args, App.service_status(args.system))


def cmd_windows_task(args: argparse.Namespace) -> int:
    from engine.service.app import App

    spec = App.service_spec(args.data, True)
    print(service_unit.subprocess_line(service_unit.windows_task(spec)))
    return 0


def register(commands: Commands) -> None:
    service = commands.group("service", "the email service as this computer's own service")
    p = commands.add("install", cmd_install, "write and start the service (systemd, launchd)", commands.as_json,
                     into=service)
    p.add_argument("--system", action="store_true", help="for every user (the practice server), not just you")
    p.add_argument("--user", help="with --system: the account the service runs as")
    p.add_argument("--no-start", action="store_true", help="write the file only")
    p.add_argument("--print", action="store_true", help="print the systemd unit instead of writing it")
    for name, handler, help_ in (("uninstall", cmd_uninstall, "stop and remove the service"),
                                 ("status", cmd_status, "whether the computer's service manager runs it")):
        commands.add(name, handler, help_, commands.as_json, into=service).add_argument("--system", action="store_true")
    commands.add("windows-task", cmd_windows_task, "print the Windows start-up task command", into=service)
