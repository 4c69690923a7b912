"""Every subcommand, driven with hostile arguments: one line or a usage error, never a
traceback, and a refused command leaves the data folder as it was (issue #13 finding 9).

The commands are found by walking `build_parser()`, so a new command is covered the day
it is added. Run in-process through `engine.cli.main` for speed. Commands that start
servers or windows (`demo`, `kiosk`, `serve`, `fakemail`) are left out.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import build_parser, main
from engine.service.demo import load_demo
from engine.service.practice import Practice

SKIP = {("demo",), ("kiosk",), ("serve",), ("fakemail",)}


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                          argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from leaves(child, (*path, name))


COMMANDS = sorted((path, p) for path, p in leaves(build_parser()) if path not in SKIP)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("fuzz")
    data = root / "data"
    with Practice(data, writer=True, command="test") as p:
        load_demo(p)
    (root / "a-folder").mkdir()
    (root / "latin1.txt").write_bytes("Caf\u00e9".encode("latin-1"))
    (root / "empty.txt").write_bytes(b"")
    (root / "patients.txt").write_text("P001\nP002\n", "utf-8")
    (root / "template.toml").write_text('code = "FUZZ"\nsubject = "Hi"\nbody = "Dear {{ patient.first_name }}"\n')
    scratch = root / "cwd"  # where a relative output name lands
    scratch.mkdir()
    old = os.getcwd()
    os.chdir(scratch)
    yield {"root": str(root), "data": str(data)}
    os.chdir(old)


def hostile(root: str) -> st.SearchStrategy[str]:
    fixed = ["", " ", "abc", "-1", "0", "1", "7", "99999999999999999999999999999", "1e400", "nan",
             "\udcff", "x\udcfey", "a\x00b", "a\r\nBcc: evil@x.test", "\u202egnp.exe", "\u2028",
             "=?utf-8?q?hi=0D=0ABcc:_evil@x.test?=", "2026-13-45T99:99", "9999-12-31T23:59", "0001-01-01T00:00",
             "2026-12-01T09:30", "P001", "DR1", "RECALL", "schedule", "practice.name", "pacing.per_minute",
             "account.password", "practice.timezone", "not-an-address", "pat@example.com", "-",
             f"{root}/a-folder", f"{root}/no-such-file", f"{root}/latin1.txt", f"{root}/empty.txt",
             f"{root}/patients.txt", f"{root}/template.toml", f"{root}/a-folder/x.zip", f"{root}/latin1.txt/x",
             "/dev/null", "x" * 5000]
    return st.one_of(st.sampled_from(fixed), st.text(max_size=12))


@st.composite
def command_lines(draw: st.DrawFn, root: str, data: str) -> list[str]:
    path, parser = draw(st.sampled_from(COMMANDS))
    value = hostile(root)
    argv = list(path)
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, argparse._HelpAction) or action.dest == "data":  # noqa: SLF001
            continue
        if not action.option_strings:  # positional
            count = draw(st.integers(0, 3)) if action.nargs in ("*", "+") else 1
            for _ in range(count):
                argv.append(draw(st.sampled_from(list(action.choices)) | value) if action.choices else draw(value))
            continue
        if not action.required and not draw(st.booleans()):
            continue
        option = action.option_strings[-1]
        if action.nargs == 0:  # a flag
            argv.append(option)
        else:
            argv += [option, draw(st.sampled_from(list(action.choices)) | value) if action.choices else draw(value)]
    where = draw(st.sampled_from([data] * 8 + [f"{root}/latin1.txt", f"{root}/a-folder/no/such", "/dev/null"]))
    return [*argv, "--data", where]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "logs" not in p.parts and p.name != "writer.lock"}


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("")  # a secret asked for on stdin finds nothing there
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
                rc = int(exc.code or 0)
    finally:
        sys.stdin = stdin
    return rc, out.getvalue(), err.getvalue()


def test_every_subcommand_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"outbox add", "inbox file", "compose", "config set", "admin run", "export-diagnostics"} <= names


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_arguments_get_one_line_and_change_nothing(place: dict[str, str], data: st.DataObject) -> None:
    argv = data.draw(command_lines(place["root"], place["data"]), label="argv")
    folder = Path(place["data"])
    before = snapshot(folder)
    rc, out, err = run(argv)
    assert "Traceback" not in err and "Logging error" not in err, err
    assert rc in (0, 1, 2), (rc, err)
    if rc != 0 and not out:  # refused (a command that ran and reports problems, such as
        # send-receive or config check, prints its report on stdout and exits 1)
        assert len(err.strip().splitlines()) == 1, err
        assert snapshot(folder) == before, err
    if any(not a.isprintable() and ("\udcff" in a or "\x00" in a or "\udcfe" in a) for a in argv):
        assert rc == 1, err  # not text: refused before anything is read
