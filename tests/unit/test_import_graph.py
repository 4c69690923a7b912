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


# -- one door: the adapters stay behind the service; the command line uses only the App -----------

# Modules that may import an adapter although they stand outside engine/service and engine/adapters,
# each because it measures that adapter itself (a bench of the App would measure something else).
ADAPTER_EXCEPTIONS = {
    "tools/bench/store.py": "measures the TinyDB Store adapter against a baseline in the same process",
    "tools/bench/inbound.py": "measures the wire reader (engine/adapters/wire.py) against the libraries' parsers",
}
# What the command line may import of the engine: itself, the admin runbooks beside it, the door and
# its values, the errors, and the pure core (engine/core has no I/O and reads no clock).
CLI_ALLOWED = ("engine.cli", "engine.admin", "engine.service.app", "engine.service.values", "engine.errors",
               "engine.core")


def modules_named(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Like `imported_names`, and `from engine import adapters` also yields `engine.adapters`."""
    yield from imported_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def adapter_imports(root: Path) -> list[str]:
    """Imports of engine.adapters from outside engine/service and engine/adapters, under `root`."""
    found = []
    for package in ("engine", "kiosk", "tools"):
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            if where.startswith(("engine/service/", "engine/adapters/")) or where in ADAPTER_EXCEPTIONS:
                continue
            tree = ast.parse(path.read_text("utf-8"), filename=str(path))
            found += [f"{where}:{line} imports {name}" for line, name in modules_named(tree)
                      if name == "engine.adapters" or name.startswith("engine.adapters.")]
    return sorted(set(found))


def cli_engine_imports(root: Path) -> list[str]:
    """Imports of the engine by engine/cli that are not in CLI_ALLOWED."""
    found = []
    for path in sorted((root / "engine" / "cli").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for line, name in imported_names(tree):
            if (name == "engine" or name.startswith("engine.")) and not any(
                    name == ok or name.startswith(ok + ".") for ok in CLI_ALLOWED):
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {name}")
    return found


def test_no_module_outside_the_service_imports_an_adapter() -> None:
    assert adapter_imports(ROOT) == []


def test_the_adapter_exceptions_still_exist_and_still_need_it() -> None:
    """An exception whose file went away or stopped importing an adapter is dropped from the list."""
    for where in ADAPTER_EXCEPTIONS:
        names = [n for _, n in modules_named(ast.parse((ROOT / where).read_text("utf-8")))]
        assert any(n.startswith("engine.adapters") for n in names), where


def test_the_command_line_uses_only_the_door() -> None:
    assert cli_engine_imports(ROOT) == []


def test_the_door_checks_see_a_forbidden_import(tmp_path: Path) -> None:
    """The two checks above would pass vacuously on a tree they could not read."""
    for folder in ("engine/cli", "kiosk", "tools"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "engine/cli/x.py").write_text("def f():\n    from engine.service.outbox import Outbox\n")
    (tmp_path / "kiosk/y.py").write_text("from engine import adapters\n")
    assert cli_engine_imports(tmp_path) == ["engine/cli/x.py:2 imports engine.service.outbox"]
    assert adapter_imports(tmp_path) == ["kiosk/y.py:1 imports engine.adapters"]
