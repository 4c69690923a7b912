"""The layers' import rules, read from the source with `ast` (issue #15 item 5).

The engine is the inner ring: nothing under `engine/` imports `kiosk` or `tools`, not even
inside a function (a function-local import is still a dependency; it only fails later). The
kiosk and the tools add their commands through the `practicemail.commands` entry points
instead. `tools/fakemail` is a peer that only speaks the protocols, so it imports nothing of
the engine; and Qt is imported only under `kiosk/`. Every import statement counts, wherever it
stands, and so does `importlib.import_module("...")` / `__import__("...")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

SOURCE_PACKAGES = ("engine", "kiosk", "tools", "fixtures")


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) for every absolute import in the tree, function bodies included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__"):
                yield node.lineno, node.args[0].value


def imports_under(folder: Path) -> Iterator[tuple[str, int, str]]:
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for line, name in imported_names(tree):
            yield str(path.relative_to(ROOT)), line, name


def offending(folder: Path, roots: tuple[str, ...]) -> list[str]:
    return [f"{where}:{line} imports {name}" for where, line, name in imports_under(folder)
            if name.split(".")[0] in roots]


def test_the_reader_sees_function_local_and_dynamic_imports() -> None:
    """The checks below would pass vacuously if the walk missed imports inside functions."""
    tree = ast.parse("def f():\n    from kiosk.app import run_kiosk\n    import tools.fakemail\n"
                     "    importlib.import_module('kiosk.x')\n")
    assert [name for _, name in imported_names(tree)] == ["kiosk.app", "tools.fakemail", "kiosk.x"]


def test_the_engine_imports_neither_kiosk_nor_tools() -> None:
    assert offending(ROOT / "engine", ("kiosk", "tools")) == []


def test_fakemail_imports_nothing_of_the_engine() -> None:
    assert offending(ROOT / "tools" / "fakemail", ("engine", "kiosk")) == []


def test_qt_is_imported_only_under_kiosk() -> None:
    found = [hit for package in SOURCE_PACKAGES if package != "kiosk" and (ROOT / package).is_dir()
             for hit in offending(ROOT / package, ("PyQt6", "PyQt5", "PySide6", "sip"))]
    assert found == []


def test_every_source_file_was_read() -> None:
    """A package folder that moved or a file that no longer parses fails here, not silently."""
    engine_files = list((ROOT / "engine").rglob("*.py"))
    assert len(engine_files) > 50
