"""The commands other packages add (`demo`, `kiosk`, `fakemail`) through the
`practicemail.commands` entry points (issue #15 item 5), run as real processes.

A module is made missing as on a machine where it is not installed: a finder placed first on
`sys.meta_path` answers an import of it (or of anything inside it) with the ModuleNotFoundError
Python raises for a module it cannot find.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import build_parser, plugins
from tests.conftest import ROOT

WITHOUT = """import sys
MISSING = tuple(filter(None, sys.argv[1].split(",")))

class NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled)
from engine.cli import main
rc = main(sys.argv[2:])
print("loaded:", *sorted(m for m in ("PyQt6", "kiosk.app", "tools.fakemail") if sys.modules.get(m)), file=sys.stderr)
sys.exit(rc)
"""


def pm_without(missing: list[str], *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp)}
    return subprocess.run([sys.executable, "-c", WITHOUT, ",".join(missing), *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def said(out: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the probe's own last line."""
    return [line for line in out.stderr.splitlines() if not line.startswith("loaded:")]


def test_the_packages_commands_come_from_the_installed_entry_points() -> None:
    names = [ep.name for ep in plugins.discovered()]
    assert {"demo", "kiosk", "fakemail"} <= set(names), "reinstall: make .venv/.installed"
    choices = next(a for a in build_parser()._actions if a.dest == "command").choices  # noqa: SLF001
    assert {"demo", "kiosk", "fakemail", "status", "outbox"} <= set(choices)


def test_an_engine_command_loads_neither_qt_nor_the_fake_servers(tmp_path: Path) -> None:
    out = pm_without([], "status", "--json", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines()[-1] == "loaded:"


def test_without_pyqt6_the_kiosk_says_so_in_one_line_and_the_rest_works(tmp_path: Path) -> None:
    out = pm_without(["PyQt6"], "kiosk", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert said(out) == ["practicemail: the kiosk command is not available: the module PyQt6 is not installed. "
                         + plugins.INSTALL_HINT]
    ok = pm_without(["PyQt6"], "config", "show", "--json", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert ok.returncode == 0 and '"practice.timezone"' in ok.stdout, ok.stderr


def test_without_pyqt6_the_demo_says_so_and_leaves_no_folder(tmp_path: Path) -> None:
    out = pm_without(["PyQt6"], "demo", "--screenshot", str(tmp_path / "x.png"), tmp=tmp_path)
    assert out.returncode == 1, out.stderr
    assert len(said(out)) == 1 and "demo command is not available" in said(out)[0] and "PyQt6" in said(out)[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("practicemail-demo-")]


@pytest.mark.parametrize("command", ["kiosk", "fakemail"])
def test_a_package_that_fails_to_load_leaves_one_line_for_its_command(tmp_path: Path, command: str) -> None:
    module = {"kiosk": "kiosk.commands", "fakemail": "tools.fakemail_command"}[command]
    out = pm_without([module], command, "--spool", "x", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    assert said(out) == [f"practicemail: the {command} command is not available: the module {module} is not "
                         f"installed. {plugins.INSTALL_HINT}"]
    ok = pm_without([module], "status", "--json", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert ok.returncode == 0, ok.stderr
    usage = pm_without([module], "status", "--no-such-option", "--data", str(tmp_path / "d"), tmp=tmp_path)
    assert usage.returncode == 2 and "unrecognized arguments: --no-such-option" in usage.stderr
