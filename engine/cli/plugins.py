"""Commands that other packages add: the `practicemail.commands` entry points.

The engine's command line knows the engine's commands only. The kiosk (`kiosk`), the demo
(`demo`) and the fake servers (`fakemail`) live outside `engine/` and depend on it, never the
other way round, so they register themselves: each entry point names a `register(subparsers)`
function, which adds its commands with `subparsers.add_parser(...)` and sets a `handler`
default (a function of the parsed arguments that returns the exit code).

A package that cannot be loaded (PyQt6 not installed, say) must not take the rest of the
command line with it: its command still exists, and says in one line what is missing. The
same holds when what is missing is only imported once the command runs.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

from engine.cli.base import Commands, Handler
from engine.cli.input import fail, one_line

GROUP = "practicemail.commands"
INSTALL_HINT = ("Install it (`make .venv/.installed`, or `pip install practicemail`, installs everything); "
                "the other commands work without it.")


@functools.cache
def discovered() -> tuple[EntryPoint, ...]:
    """The installed entry points of the group, one per name, in the order they are declared."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return tuple(found.values())


def _missing(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"the module {exc.name} is not installed"
    return one_line(f"{type(exc).__name__}: {exc}")[:200]


def _unavailable(commands: Commands, name: str, exc: BaseException) -> None:
    """A stand-in for a command whose package failed to load: any arguments, one line, exit 1."""
    what = _missing(exc)
    p = commands.add_parser(name, help=f"(not available: {what})", description=f"not available: {what}")
    p.set_defaults(handler=lambda _args: fail(f"the {name} command is not available: {what}", INSTALL_HINT),
                   any_arguments=True)


def _guarded(name: str, handler: Handler) -> Handler:
    """A plugin's handler whose missing module (imported only when it runs) is one line."""
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ModuleNotFoundError as exc:
            return fail(f"the {name} command is not available: {_missing(exc)}", INSTALL_HINT)

    return run


def register_all(commands: Commands, found: Iterable[EntryPoint]) -> None:
    """Each entry point's commands, added before the engine's (the `--help` list opens with
    them); an entry point must not take a name the engine's commands use."""
    for ep in found:
        if ep.name in commands.subparsers.choices:
            continue  # an earlier entry point of the same name
        before = set(commands.subparsers.choices)
        try:
            register: Callable[[Commands], None] = ep.load()
            register(commands)
        except Exception as exc:  # noqa: BLE001 - whatever broke the package, the rest of the CLI works
            if ep.name not in commands.subparsers.choices:
                _unavailable(commands, ep.name, exc)
            continue
        for name in set(commands.subparsers.choices) - before:
            parser = commands.subparsers.choices[name]
            handler = parser.get_default("handler")
            if handler is not None:
                parser.set_defaults(handler=_guarded(name, handler))
