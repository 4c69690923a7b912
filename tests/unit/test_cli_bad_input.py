"""Issue #13 finding 9: every command answers bad input with one line, never a traceback.

Run in-process through `engine.cli.main` (the same code the console script runs);
the surrogate case also as a real process, since that is where such bytes come from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.service.demo import load_demo
from engine.service.practice import Practice
from tests.conftest import ROOT


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo") / "data"
    with Practice(data, writer=True, command="test") as p:
        load_demo(p)
    return data


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    return {"folder": str(folder), "missing": str(tmp_path / "no-such-file.txt"), "latin": str(latin),
            "unwritable": str(latin / "under-a-file.zip")}


@pytest.mark.parametrize("argv, rc, words", [
    (["outbox", "reset-failed", "abc"], 2, "not an id"),
    (["inbox", "file", "abc", "--patient", "P001"], 2, "not an id"),
    (["compose", "--patient", "P001", "--body-file", "{missing}"], 1, "does not exist"),
    (["compose", "--patient", "P001", "--body-file", "{folder}"], 1, "is a folder"),
    (["compose", "--patient", "P001", "--body-file", "{latin}"], 1, "UTF-8"),
    (["reminders", "preview", "--hours", "100000000"], 2, "hours"),
    (["templates", "add", "{folder}"], 1, "is a folder"),
    (["export-diagnostics", "-o", "{folder}"], 1, "is a folder"),
    (["export-diagnostics", "-o", "{unwritable}"], 1, "latin1.txt is in the way"),
    (["admin", "run", "schedule", "--html", "{folder}"], 1, "is a folder"),
    (["admin", "run", "schedule", "--cell", "99"], 1, "has 4 cells"),
    (["admin", "run", "schedule", "--cell", "0"], 1, "has 4 cells"),
])
def test_each_reported_case_is_one_line(capsys: pytest.CaptureFixture[str], demo: Path, files: dict[str, str],
                                        argv: list[str], rc: int, words: str) -> None:
    argv = [a.format(**files) for a in argv]
    got, out, err = run(capsys, *argv, "--data", str(demo))
    line = one_line(err)
    assert got == rc, err
    assert words in line, line


def test_a_deeply_nested_template_is_refused_with_its_line(capsys: pytest.CaptureFixture[str], demo: Path,
                                                          tmp_path: Path) -> None:
    chain = " and ".join(["patient.first_name"] * 1000)
    toml = tmp_path / "deep.toml"
    toml.write_text(f'code = "DEEP"\nsubject = "Hi"\nbody = """Dear you,\n{{% if {chain} %}}x{{% endif %}}\n"""\n',
                    "utf-8")
    rc, _, err = run(capsys, "templates", "add", str(toml), "--data", str(demo))
    line = one_line(err)
    assert rc == 1 and "too deeply nested" in line and "body line 2" in line, line
    assert run(capsys, "templates", "show", "DEEP", "--data", str(demo))[0] == 1  # not saved


def test_a_lone_surrogate_in_an_argument_from_a_real_process(demo: Path) -> None:
    argv = [sys.executable, "-m", "engine", "outbox", "add", "--to", "pat@example.com", "--subject",
            os.fsdecode(b"\xff"), "--data", str(demo)]
    assert "\udcff" in argv[8]
    out = subprocess.run([os.fsencode(a) for a in argv], capture_output=True, cwd=ROOT, timeout=60)
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode == 1 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and "not valid text" in err, err


def test_control_and_bidi_characters_from_an_argument_are_shown_not_obeyed(capsys: pytest.CaptureFixture[str],
                                                                            demo: Path) -> None:
    rc, _, err = run(capsys, "compose", "--patient", "P001", "--body-file", "X\x1b[2J\u202eY\nZ.txt",
                     "--data", str(demo))
    line = one_line(err)
    assert rc == 1 and "\x1b" not in line and "\u202e" not in line
    assert "\\x1b" in line and "\\u202e" in line
