"""The kiosk reaches the engine through one door (DESIGN.md "One door").

Every `import` in kiosk/*.py (function-local and TYPE_CHECKING ones included) is read with
ast. From the engine the kiosk may import the App module and its value types, the errors, and
the pure rules of engine/core; nothing of engine/adapters, and no service class (Engine,
Practice, Reminders...). The admin page also runs runbooks: the admin layer sits beside the
kiosk on the App, so its two function modules are allowed, and they are handed the App.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOOR = {"engine.service.app", "engine.service.values", "engine.errors"}
ADMIN_FUNCTIONS = {"engine.admin.runner": {"available", "parse"},
                   "engine.admin.diagnostics": {"email_support", "export", "run_runbook"}}
SERVICE_CLASSES = {"Engine", "Practice", "Reminders", "Templates", "Composer", "Admin", "Roles", "Inbox", "Outbox"}


def engine_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for each engine import in the file; name "" for `import x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "") for a in node.names if a.name.split(".")[0] == "engine"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "engine":
            found += [(node.lineno, node.module, a.name) for a in node.names]
    return found


def refusal(module: str, name: str) -> str | None:
    """Why this import goes round the door, or None when it is allowed."""
    if name in SERVICE_CLASSES:
        return f"the service class {name}: take it from the App"
    if module in DOOR or module.startswith("engine.core.") or (module == "engine.core" and name):
        return None
    if module in ADMIN_FUNCTIONS and name in ADMIN_FUNCTIONS[module]:
        return None
    if module.startswith("engine.adapters"):
        return "an adapter: the App offers what the kiosk needs of it"
    return "not the App, its values, the errors or a pure core module"


def test_the_kiosk_imports_only_the_door() -> None:
    files = sorted((ROOT / "kiosk").glob("*.py"))
    assert len(files) > 20  # the kiosk's modules were found, not an empty folder
    wrong = [f"{path.name}:{line} {module} {name}: {why}"
             for path in files for line, module, name in engine_imports(path)
             if (why := refusal(module, name)) is not None]
    assert wrong == []


def test_the_rule_refuses_what_the_kiosk_imported_before_the_door() -> None:
    """The imports kiosk/ had before the App, each refused (the rule is not a rule that passes all)."""
    before = [("engine.adapters.store", "RID"), ("engine.adapters.documents", "list_documents"),
              ("engine.service.engine", "Engine"), ("engine.service.practice", "Practice"),
              ("engine.service.reminders", "Reminders"), ("engine.service.templates", "Templates"),
              ("engine.service.compose", "Composer"), ("engine.admin.facade", "Admin"),
              ("engine.service.roles", "allowed"), ("engine.service", "signin")]
    assert all(refusal(module, name) is not None for module, name in before)
    assert refusal("engine.service.app", "App") is None and refusal("engine.core.names", "saved_name") is None


def test_imports_inside_functions_are_seen(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from engine.service.reminders import Reminders\n    import engine.adapters.store\n")
    assert engine_imports(sample) == [(2, "engine.service.reminders", "Reminders"), (3, "engine.adapters.store", "")]
