"""Runbooks: admin documents as plain .py files in the percent-cell format, run
in-process without Jupyter.

    # %% [markdown]          a markdown cell (its lines start with "# ")
    # %%                     a code cell
    # %% [action] Title      an action cell: changes something; needs a permitted role and a yes

Cells run in order in one fresh namespace holding `admin` (a facade over the
engine) and `show()`; each on a worker thread with a timeout. Every result is
typed (markdown, text, kv, table, status, log, image, error) and passes the
redaction step before anyone sees it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.service.roles import allowed

RUNBOOKS = Path(__file__).resolve().parent / "runbooks"
ACTION = "admin_actions"  # the permission an action cell needs (engine/service/roles.py)
KINDS = ("markdown", "text", "kv", "table", "status", "log", "image", "error")


@dataclass
class Cell:
    index: int
    kind: str  # markdown or code
    source: str
    action: bool = False
    title: str = ""


@dataclass
class Output:
    kind: str
    data: Any


@dataclass
class CellResult:
    cell: Cell
    outputs: list[Output] = field(default_factory=list)
    state: str = "ok"  # ok, error, timeout, refused, skipped


def parse(text: str) -> list[Cell]:
    cells: list[Cell] = []
    current: list[str] | None = None
    header = ""
    for line in text.splitlines():
        if line.startswith("# %%"):
            if current is not None:
                cells.append(_cell(len(cells), header, current))
            header, current = line, []
        elif current is not None:
            current.append(line)
    if current is not None:
        cells.append(_cell(len(cells), header, current))
    return cells


def _cell(index: int, header: str, lines: list[str]) -> Cell:
    tag = re.search(r"\[(\w+)\]\s*(.*)$", header)
    kind = tag.group(1) if tag else ""
    title = tag.group(2).strip() if tag else header[4:].strip()
    body = "\n".join(lines).strip("\n")
    if kind == "markdown":
        md = "\n".join(re.sub(r"^# ?", "", ln) for ln in body.splitlines())
        return Cell(index, "markdown", md, False, title)
    return Cell(index, "code", body, kind == "action", title)


def available() -> dict[str, Path]:
    return {p.stem: p for p in sorted(RUNBOOKS.glob("*.py")) if not p.name.startswith("_")}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _shape(value: Any, kind: str | None) -> Output:
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"show(kind=...) must be one of {KINDS}")
        return Output(kind, value)
    if isinstance(value, Mapping):
        return Output("kv", dict(value))
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return Output("table", [dict(v) for v in value])
    return Output("text", str(value))


class Runner:
    def __init__(self, admin: Any, role: Any, confirm: Callable[[Cell], bool] | None = None,
                 redact: Callable[[str], str] = lambda s: s, timeout: float = 30.0) -> None:
        self.admin = admin
        self.role = role
        self.confirm = confirm or (lambda _cell: False)
        self.redact = redact
        self.timeout = timeout

    def run_all(self, cells: list[Cell]) -> list[CellResult]:
        namespace: dict[str, Any] = {"admin": self.admin, "__name__": "runbook"}
        return [self.run_cell(c, namespace) for c in cells]

    def run_cell(self, cell: Cell, namespace: dict[str, Any]) -> CellResult:
        result = CellResult(cell)
        if cell.kind == "markdown":
            result.outputs.append(Output("markdown", cell.source))
            return self._clean(result)
        if cell.action:
            if not allowed(self.role, ACTION):
                who = getattr(self.role, "group", self.role)
                result.state = "refused"
                result.outputs.append(Output("error", f"'{cell.title or 'this action'}' changes the practice's mail; "
                                                      f"the {who} group may not run it"))
                return self._clean(result)
            if not self.confirm(cell):
                result.state = "skipped"
                result.outputs.append(Output("text", "not run (not confirmed)"))
                return self._clean(result)
        outputs: list[Output] = []

        def show(value: Any, kind: str | None = None) -> None:
            outputs.append(_shape(value, kind))

        namespace["show"] = show
        printed = io.StringIO()
        error: list[BaseException] = []

        def run() -> None:
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(cell.source, f"<cell {cell.index + 1}>", "exec"), namespace)  # noqa: S102
            except BaseException as exc:  # noqa: BLE001 - shown as an error cell
                error.append(exc)

        worker = threading.Thread(target=run, name=f"runbook-cell-{cell.index + 1}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        result.outputs = outputs
        if printed.getvalue():
            result.outputs.insert(0, Output("text", printed.getvalue()))
        if worker.is_alive():
            result.state = "timeout"
            result.outputs.append(Output("error", f"the cell did not finish within {self.timeout:.0f} seconds"))
        elif error:
            result.state = "error"
            tb = "".join(traceback.format_exception(error[0]))
            result.outputs.append(Output("error", tb))
        return self._clean(result)

    def _clean(self, result: CellResult) -> CellResult:
        """The redaction step: every string that leaves a cell."""
        def clean(value: Any) -> Any:
            if isinstance(value, str):
                return self.redact(value)
            if isinstance(value, Mapping):
                return {clean(k): clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        result.outputs = [Output(o.kind, o.data if o.kind == "image" else clean(o.data)) for o in result.outputs]
        return result
