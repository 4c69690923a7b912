"""Sole owners (issue 15): outbox records are opened only by engine/service/outbox.py, message
records only by the inbox's modules; the composer uses the Inbox it is given, through its
public methods, and builds none of its own. Read from the source (as an import-graph test
is): these are facts about who may touch what, which no run of one path can show."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

OWNERS = {"outbox": {"engine/service/outbox.py"},
          "messages": {"engine/service/inbox.py", "engine/service/inbox_intake.py",
                       "engine/service/inbox_shelf.py", "engine/service/inbox_records.py"}}


def _sources() -> list[tuple[str, ast.AST]]:
    files = sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "kiosk").rglob("*.py")])
    return [(str(f.relative_to(ROOT)), ast.parse(f.read_text("utf-8"))) for f in files]


def _opens(tree: ast.AST) -> set[str]:
    """Collections opened with store.partitioned("...")/store.collection("...") in a module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("partitioned", "collection") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return found


def test_only_the_owner_opens_outbox_and_message_records() -> None:
    intruders = {name: sorted(path for path, tree in _sources() if name in _opens(tree) and path not in owners)
                 for name, owners in OWNERS.items()}
    assert intruders == {name: [] for name in OWNERS}


def test_the_composer_builds_no_inbox_and_calls_no_private_method_of_another() -> None:
    tree = ast.parse((ROOT / "engine/service/compose.py").read_text("utf-8"))
    built = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and (
        (isinstance(n.func, ast.Name) and n.func.id == "Inbox") or
        (isinstance(n.func, ast.Attribute) and n.func.attr == "for_practice"))]
    private = [f"{n.lineno}: {ast.unparse(n)}" for n in ast.walk(tree) if isinstance(n, ast.Attribute)
               and n.attr.startswith("_") and not n.attr.startswith("__")
               and not (isinstance(n.value, ast.Name) and n.value.id in ("self", "cls"))]
    assert built == [] and private == []


def test_a_message_record_is_shaped_in_one_place() -> None:
    """Only inbox_records.py writes a record's field list (a dict literal with "from_name" and
    "blob" is one); everyone else builds an InboxMessage."""
    shaped = sorted(path for path, tree in _sources() for n in ast.walk(tree) if isinstance(n, ast.Dict)
                    and {"from_name", "blob"} <= {k.value for k in n.keys if isinstance(k, ast.Constant)})
    assert shaped == ["engine/service/inbox_records.py"]
