"""`practicemail service install|uninstall|status|windows-task`: run the email service by itself.

Each prints one line (the file written or removed, and what the service manager said) and exits 1
with a hint when the manager refused or is not running, so an IT person knows what to run by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from engine.core import service_unit
from engine.service import system_service

Emit = Callable[[argparse.Namespace, Any, str], None]


def _report(args: argparse.Namespace, emit: Emit, report: Any) -> int:
    data = {"ok": report.ok, "unit_file": str(report.unit_file), "said": report.said, "hint": report.hint}
    emit(args, data, f"{report.unit_file}: {report.said}")
    if not report.ok and report.hint:
        print(f"  {report.hint}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_install(args: argparse.Namespace, emit: Emit) -> int:
    if args.print:
        spec = system_service.spec_for(args.data, args.system, args.user or "")
        print(service_unit.systemd_unit(spec), end="")
        return 0
    return _report(args, emit, system_service.install(args.data, args.system, args.user or "", start=not args.no_start))


def cmd_uninstall(args: argparse.Namespace, emit: Emit) -> int:
    return _report(args, emit, system_service.uninstall(args.system))


def cmd_status(args: argparse.Namespace, emit: Emit) -> int:
    return _report(args, emit, system_service.status(args.system))


def cmd_windows_task(args: argparse.Namespace, emit: Emit) -> int:
    spec = system_service.spec_for(args.data, True)
    print(service_unit.subprocess_line(service_unit.windows_task(spec)))
    return 0


def register(sub: Any, add: Callable[..., argparse.ArgumentParser], as_json: argparse.ArgumentParser, emit: Emit) -> None:
    """`add(name, handler, help, *parents, into=...)` as the main parser builds every command."""
    service = sub.add_parser("service", help="the email service as this computer's own service").add_subparsers(
        dest="action", required=True, metavar="ACTION")

    def handler(fn: Callable[[argparse.Namespace, Emit], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: fn(args, emit)

    p = add("install", handler(cmd_install), "write and start the service (systemd, launchd)", as_json, into=service)
    p.add_argument("--system", action="store_true", help="for every user (the practice server), not just you")
    p.add_argument("--user", help="with --system: the account the service runs as")
    p.add_argument("--no-start", action="store_true", help="write the file only")
    p.add_argument("--print", action="store_true", help="print the systemd unit instead of writing it")
    p = add("uninstall", handler(cmd_uninstall), "stop and remove the service", as_json, into=service)
    p.add_argument("--system", action="store_true")
    p = add("status", handler(cmd_status), "whether the computer's service manager runs it", as_json, into=service)
    p.add_argument("--system", action="store_true")
    add("windows-task", handler(cmd_windows_task), "print the Windows start-up task command", into=service)
