"""Sizes the house keeps (issue #15, PREAMBLE "Rules of the house"): a module under 400 lines and
a function under 60, so each can be read whole. Read from the source with `ast`; a function's
length is from its `def` to its last line, docstring included, nested functions counted in
their parent too.

What is still over is named below with its size today, so it cannot grow; when it is split
(or shrinks under the limit) its line must go, and this test says so. Keep the lists short.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("engine", "kiosk", "tools/fakemail")
MODULE_LINES = 400
FUNCTION_LINES = 60

# module -> its lines today
MODULES_OVER: dict[str, int] = {
}
# (module, function) -> its lines today
FUNCTIONS_OVER: dict[tuple[str, str], int] = {
}


def sources(root: Path) -> Iterator[tuple[str, str]]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path.relative_to(root).as_posix(), path.read_text("utf-8")


def measured(root: Path) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """(every module's lines, every function's lines; the longest of a name in a module)."""
    modules: dict[str, int] = {}
    functions: dict[tuple[str, str], int] = {}
    for where, text in sources(root):
        modules[where] = len(text.splitlines())
        for node in ast.walk(ast.parse(text, filename=where)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                functions[where, node.name] = max(size, functions.get((where, node.name), 0))
    return modules, functions


def over(sizes: dict, limit: int, allowed: dict) -> list[str]:
    """Each size over `limit` not allowed at that size, and each allowed one now gone or under."""
    bad = [f"{key}: {size} lines (limit {limit})" for key, size in sizes.items()
           if size > limit and size > allowed.get(key, limit)]
    bad += [f"{key}: allowed at {most} lines but now {sizes.get(key, 'gone')}; drop it from the list"
            for key, most in allowed.items() if sizes.get(key, 0) <= limit]
    return bad


def test_no_module_is_over_400_lines() -> None:
    modules, _ = measured(ROOT)
    assert len(modules) > 100  # the walk found the packages
    assert over(modules, MODULE_LINES, MODULES_OVER) == []


def test_no_function_is_over_60_lines() -> None:
    _, functions = measured(ROOT)
    assert over(functions, FUNCTION_LINES, FUNCTIONS_OVER) == []


def test_the_check_sees_growth_and_stale_entries(tmp_path: Path) -> None:
    """A listed module that grows fails, an unlisted one over fails, one split under fails its entry."""
    sizes = {"a.py": 470, "b.py": 401, "c.py": 300}
    assert over(sizes, 400, {"a.py": 467, "c.py": 420}) == [
        "a.py: 470 lines (limit 400)", "b.py: 401 lines (limit 400)",
        "c.py: allowed at 420 lines but now 300; drop it from the list"]
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "m.py").write_text("def f():\n" + "    x = 1\n" * 61)
    _, functions = measured(tmp_path)
    assert functions == {("engine/m.py", "f"): 62}
