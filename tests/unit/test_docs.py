"""The user's docs stand on their own (#19 item 12: README pointed to ../shared/CONTRACT.md, which a
user's clone has not): every link in README.md and docs/ reaches a file of this project, every
picture they show is one `make screenshots` makes, and the README's apt-get line (#19 item 1)
names packages the platform check knows, the ones the issue found missing among them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from kiosk.platform_check import PACKAGES
from tests.conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(page: Path) -> list[str]:
    return [t for t in LINK.findall(page.read_text("utf-8")) if not re.match(r"[a-z]+:", t)]


def test_every_link_reaches_a_file_of_this_project() -> None:
    broken = []
    for page in PAGES:
        for target in _links(page):
            found = (page.parent / target).resolve()
            if not found.is_relative_to(ROOT) or not found.is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
    assert not [p for p in PAGES if "../shared" in p.read_text("utf-8")]
    assert (ROOT / "docs" / "contract.md").is_file()


def test_every_picture_shown_is_made_by_make_screenshots() -> None:
    shots = re.search(r"^SHOTS := (.+)$", (ROOT / "Makefile").read_text("utf-8"), re.MULTILINE)
    assert shots is not None
    made = {f"{v}.png" for v in shots[1].split()}
    shown = {Path(t).name for p in PAGES for t in _links(p) if t.endswith(".png")}
    assert shown and shown <= made
    assert {p.name for p in (ROOT / "docs" / "screenshots").glob("*.png")} >= made


def test_the_readme_names_the_qt_libraries_to_install() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    line = re.search(r"apt-get install ((?:\\\n|[^\n\\])+)", text)  # on to the last line ending in a backslash
    assert line is not None
    named = shlex.split(line[1].replace("\\\n", " "))
    assert named and set(named) <= set(PACKAGES.values())
    assert {"libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"} <= set(named)
