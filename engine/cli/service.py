"""`practicemail test-credentials`, `status` and `serve`: the email service, its setup test
and its heartbeat."""

from __future__ import annotations

import argparse
import sys

from engine.cli import signin
from engine.cli.base import Commands, database, emit, open_app, open_app_writer_if_free


def cmd_test_credentials(args: argparse.Namespace) -> int:
    """The setup test. Exit 0 when every server step passed, whether or not the service
    runs (that is shown apart, as information). Opened as the writer when the folder is
    free, so a test that passed counts as "tested" for the light; when the service holds
    the folder, its own next pass proves the account instead."""
    with open_app_writer_if_free(args) as app:
        result = app.test_credentials()
    lines = [f"{'ok  ' if st['ok'] else 'FAIL'} {st['name']:<28} {st['seconds']:6.2f}s  {st['message']}"
             + (f"\n     {st['hint']}" if not st["ok"] and st["hint"] else "") for st in result["steps"]]
    lines.append("passed: every step worked" if result["ok"] else f"failed: {result['message']}")
    service = result["service"]
    lines.append(f"info {service['message']}" + (f"\n     {service['hint']}" if service["hint"] else ""))
    emit(args, result, "\n".join(lines))
    return 0 if result["ok"] else 1


def cmd_status(args: argparse.Namespace) -> int:
    """States: not_set_up, running, failing, stopped (docs/status.md)."""
    with open_app(args, writer=False) as app:
        st = app.status()
        signed_in = signin.status_extra(app, st)
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
    """On PostgreSQL a second `serve` waits as a standby while another holds the writer's lock
    (engine/service/standby.py) and takes over when it stops; SIGTERM ends the wait. On TinyDB a
    second one is refused with the store-locked line, as before."""
    import signal

    from engine.errors import StoreLocked
    from engine.service.app import App, Standby

    standby = Standby()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: standby.stop.set())
    try:
        app = App.open(args.data, writer=True, command=f"practicemail {args.command}", wait=standby,
                       database=database(args))
    except StoreLocked:
        if standby.stop.is_set():  # stopped while a standby: nothing was running here
            return 0
        raise
    with app:
        app.start()
        taken = "took over; " if standby.waited else ""
        print(f"email service {taken}running on {app.where}; Ctrl-C stops", file=sys.stderr, flush=True)
        kept = app.hold(standby)
        app.stop()
    if not kept:
        print("stopped: this service lost the database's writer's lock (the connection ended); "
              "another desk's standby may run the service now", file=sys.stderr, flush=True)
        return 1  # the unit restarts on failure: this process then waits as the standby
    return 0


def register(commands: Commands) -> None:
    as_json = commands.as_json
    commands.add("test-credentials", cmd_test_credentials, "the setup test, step by step (sends no email)", as_json)
    commands.add("status", cmd_status, "the email service's state from its heartbeat", as_json)
    commands.add("serve", cmd_serve, "run the email service headless until SIGINT/SIGTERM")
