"""What the installed package carries: the demo's fixtures are package data (issue #15 item 5),
so `practicemail demo` works from an installed package, not only from a checkout."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources

from engine.service.demo import FIXTURES, demo_inbox
from tests.conftest import ROOT


def test_every_demo_fixture_is_declared_package_data() -> None:
    """A new kind of file under fixtures/demo/ that pyproject's package-data globs miss would
    be left out of the wheel and the installed demo would fail; this names it."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert "fixtures" in tool["packages"]["find"]["include"]
    globs = tool["package-data"]["fixtures"]
    files = [p.relative_to(ROOT / "fixtures").as_posix() for p in (ROOT / "fixtures" / "demo").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert files and [f for f in files if not any(fnmatch.fnmatchcase(f, g) for g in globs)] == []


def test_the_demo_reads_its_fixtures_through_the_package() -> None:
    assert FIXTURES == resources.files("fixtures") / "demo"
    assert (FIXTURES / "settings.toml").is_file()
    in_checkout = [p.read_bytes() for p in sorted((ROOT / "fixtures" / "demo" / "inbox").glob("*.eml"))]
    assert in_checkout and demo_inbox() == in_checkout  # every sample, in the order the server gets them
