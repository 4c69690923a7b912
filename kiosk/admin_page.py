"""The Admin page: the runbooks as cells with their outputs; run a whole runbook or one of
its cells (a check repeated, or just the action); Email support."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QHBoxLayout, QListWidget, QListWidgetItem, QPushButton,
                             QTextBrowser, QVBoxLayout, QWidget)

from engine.admin.diagnostics import email_support, run_runbook
from engine.admin.facade import Admin
from engine.admin.runner import available, parse
from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.bridge import run_in_background


class AdminPage(QWidget):
    _ask = pyqtSignal(object)

    def __init__(self, admin: Admin, role: str = "reception") -> None:
        super().__init__()
        self._ask.connect(lambda fn: fn())  # queued to the GUI thread when emitted from the worker
        self.admin = admin
        self.role = role
        self._jobs: list[Any] = []
        self.last_page = ""
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.books = QListWidget()
        for name in available():
            self.books.addItem(name)
        left.addWidget(self.books)
        self.run = QPushButton("Run")
        self.run.clicked.connect(self.run_selected)
        left.addWidget(self.run)
        self.cells = QListWidget()
        self.cells.setToolTip("The runbook's cells: run one on its own")
        left.addWidget(self.cells)
        self.run_cell = QPushButton("Run cell")
        self.run_cell.clicked.connect(self.run_selected_cell)
        left.addWidget(self.run_cell)
        self.books.currentRowChanged.connect(lambda _row: self.list_cells())
        self.books.setCurrentRow(0)
        self.support = QPushButton("Email support")
        self.support.clicked.connect(self.email_support)
        left.addWidget(self.support)
        self.note = plain.label(wrap=True)  # an error's words may be a server's
        left.addWidget(self.note)
        layout.addLayout(left, 1)
        self.output = QTextBrowser()
        self.output.setOpenLinks(False)  # nothing in a runbook is fetched or followed
        layout.addWidget(self.output, 3)

    def list_cells(self) -> None:
        """The chosen runbook's code cells, by number and what they do."""
        self.cells.clear()
        item = self.books.currentItem()
        if item is None:
            return
        for cell in parse(available()[item.text()].read_text("utf-8")):
            if cell.kind == "markdown":
                continue
            what = cell.title if cell.action else next(
                (ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
            label = QListWidgetItem(f"{cell.index + 1}. " + ("Action: " if cell.action else "") + what[:70])
            label.setData(Qt.ItemDataRole.UserRole, cell.index)
            self.cells.addItem(label)

    def run_selected(self) -> None:
        self._run(None)

    def run_selected_cell(self) -> None:
        item = self.cells.currentItem()
        if item is not None:
            self._run(item.data(Qt.ItemDataRole.UserRole))

    def _run(self, only: int | None) -> None:
        item = self.books.currentItem()
        if item is None:
            return
        name = item.text()
        self.run.setEnabled(False)
        self.run_cell.setEnabled(False)
        self.note.setText(f"Running {name}" + (f", cell {only + 1}" if only is not None else "") + "...")
        self._jobs.append(run_in_background(
            lambda: run_runbook(self.admin, name, self.role, confirm=self._confirm_from_worker, only=only)[0],
            self._shown, self._failed))

    def _confirm_from_worker(self, cell: object) -> bool:
        """Action cells ask first. The run is on a worker; the question goes to the GUI thread."""
        answer: list[bool] = []
        done = threading.Event()

        def ask() -> None:
            answer.append(plain.ask(self, "Run this action?", f"{getattr(cell, 'title', 'This action')}\n\n"
                                    "It changes the practice's mail. Run it?"))
            done.set()

        self._ask.emit(ask)
        done.wait(300)
        return bool(answer and answer[0])

    def _shown(self, page: str) -> None:
        self.last_page = page
        self.output.setHtml(page)
        self.run.setEnabled(True)
        self.run_cell.setEnabled(True)
        self.note.setText("")

    def _failed(self, exc: Exception) -> None:
        self.run.setEnabled(True)
        self.run_cell.setEnabled(True)
        self.note.setText(f"The runbook could not run: {exc}")

    def email_support(self) -> None:
        try:
            rid = email_support(self.admin, datetime.now(timezone.utc))
        except PracticeMailError as exc:
            self.note.setText(f"{exc.message}. {exc.hint}")
            return
        self.note.setText(f"The diagnostic bundle (no patient data) is in the outbox (item {rid}).")
