"""The Admin page: the runbooks as cells with their outputs; run a whole runbook or one of
its cells (a check repeated, or just the action); Email support."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton,
                             QTextBrowser, QVBoxLayout, QWidget)

from engine.admin.diagnostics import email_support, export, run_runbook
from engine.admin.runner import available, parse
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain, printing
from kiosk.bridge import run_in_background
from kiosk.widgets import keyed


SECONDS = re.compile(r"(\d{2}:\d{2}:\d{2})\.\d{1,6}")


def book_title(text: str, name: str) -> str:
    """A runbook's title: the first heading of its first markdown cell ('Service health')."""
    first = next((c for c in parse(text) if c.kind == "markdown"), None)
    line = next((ln for ln in first.source.splitlines() if ln.strip()), "") if first is not None else ""
    return line.lstrip("# ").strip() or name.replace("_", " ").capitalize()


class AdminPage(QWidget):
    _ask = pyqtSignal(object)

    def __init__(self, app: App, role: str = "reception") -> None:
        super().__init__()
        self._ask.connect(lambda fn: fn())  # queued to the GUI thread when emitted from the worker
        self.app = app  # the runbooks read and act through the kiosk's own App
        self.role = role
        self._jobs: list[Any] = []
        self.last_page = ""
        page = QVBoxLayout(self)  # one row of actions above the runbooks, their cells and the page
        page.addLayout(self._action_row())
        layout = QHBoxLayout()
        page.addLayout(layout, 1)
        left = QVBoxLayout()
        self.books = QListWidget()
        for name, path in available().items():  # by title; the file's name in the tooltip
            item = QListWidgetItem(book_title(path.read_text("utf-8"), name))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"Runbook {name}")
            self.books.addItem(item)
        left.addWidget(self.books)
        self.cells = QListWidget()
        self.cells.setToolTip("The runbook's cells: run one on its own")
        left.addWidget(self.cells)
        self.books.currentRowChanged.connect(lambda _row: self.list_cells())
        self.note = plain.label(wrap=True)  # an error's words may be a server's
        left.addWidget(self.note)
        layout.addLayout(left, 1)
        self.output = QTextBrowser()
        self.output.setOpenLinks(False)  # nothing in a runbook is fetched or followed
        layout.addWidget(self.output, 3)
        self.books.setCurrentRow(0)

    def _action_row(self) -> QHBoxLayout:
        """Run checks, Run cell, Email page as PDF, Email support, Save diagnostics (with patient
        data when ticked), each with its key."""
        row = QHBoxLayout()
        self.run = QPushButton("Run checks")
        self.run.setToolTip("Runs the runbook's checks; an action (a restart, a reset) runs only when chosen "
                            "in the cells and run on its own")
        self.run.clicked.connect(self.run_selected)
        self.run_cell = QPushButton("Run cell")
        self.run_cell.setToolTip("Runs the cell chosen in the list on its own")
        self.run_cell.clicked.connect(self.run_selected_cell)
        self.email_pdf = QPushButton("Email page as PDF...")
        self.email_pdf.setToolTip("The runbook page as shown, as a PDF in a new email")
        self.email_pdf.clicked.connect(lambda: self.email_page_as_pdf())
        # set by the main window: open compose with the PDF attached
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        self.support = QPushButton("Email support")
        self.support.clicked.connect(self.email_support)
        self.save_bundle = QPushButton("Save diagnostics...")
        self.save_bundle.setToolTip("The diagnostic bundle support asks for, as a file")
        self.save_bundle.clicked.connect(lambda: self.save_diagnostics())
        for b, key in ((self.run, "F5"), (self.run_cell, "Ctrl+Return"), (self.email_pdf, "Ctrl+Shift+E"),
                       (self.support, "Ctrl+Shift+H"), (self.save_bundle, "Ctrl+Shift+D")):
            row.addWidget(keyed(b, key))
        self.with_patient_data = QCheckBox("With patient data")  # only for a group allowed to export it
        self.with_patient_data.setEnabled(False)
        row.addWidget(self.with_patient_data)
        row.addStretch(1)
        return row

    def select_book(self, name: str) -> None:
        """Choose a runbook by its file's name (support says 'run outbox_health')."""
        for n in range(self.books.count()):
            if self.books.item(n).data(Qt.ItemDataRole.UserRole) == name:
                self.books.setCurrentRow(n)

    def book_name(self) -> str | None:
        item = self.books.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def list_cells(self) -> None:
        """The chosen runbook's cells by what they check (the heading above them) or do; its
        words shown before anything runs."""
        self.cells.clear()
        name = self.book_name()
        if name is None:
            return
        cells = parse(available()[name].read_text("utf-8"))
        heading = ""
        for cell in cells:
            if cell.kind == "markdown":
                heading = next((ln.lstrip("# ").strip() for ln in cell.source.splitlines() if ln.strip()), heading)
                continue
            what = f"Action: {cell.title}" if cell.action else f"Check: {heading}"
            label = QListWidgetItem(f"{cell.index + 1}. {what}"[:80])
            label.setData(Qt.ItemDataRole.UserRole, cell.index)
            label.setToolTip(cell.source)
            self.cells.addItem(label)
        self.last_page = ""
        self.output.setMarkdown("\n\n".join(c.source for c in cells if c.kind == "markdown")
                                + "\n\n*Run checks to see the answers.*")

    def run_selected(self) -> None:
        self._run(None)

    def run_selected_cell(self) -> None:
        item = self.cells.currentItem()
        if item is not None:
            self._run(item.data(Qt.ItemDataRole.UserRole))

    def _run(self, only: int | None) -> None:
        name = self.book_name()
        if name is None:
            return
        # a whole run never asks to restart or reset: an action runs when chosen on its own
        confirm = self._confirm_from_worker if only is not None else (lambda _cell: False)
        self.run.setEnabled(False)
        self.run_cell.setEnabled(False)
        self.note.setText(f"Running {name}" + (f", cell {only + 1}" if only is not None else "") + "...")
        self._jobs.append(run_in_background(
            lambda: run_runbook(self.app, name, self.role, confirm=confirm, only=only)[0],
            self._shown, self._failed, owner=self))

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
        page = SECONDS.sub(r"\1", page)  # 08:14:03.123456+00:00 as 08:14:03+00:00: nobody reads microseconds
        self.last_page = page
        self.output.setHtml(page)
        self.run.setEnabled(True)
        self.run_cell.setEnabled(True)
        self.note.setText("")

    def _failed(self, exc: Exception) -> None:
        self.run.setEnabled(True)
        self.run_cell.setEnabled(True)
        self.note.setText(f"The runbook could not run: {exc}")

    def email_page_as_pdf(self) -> Any:
        """The page as shown (the runbook's words, or its answers after a run) as a PDF."""
        name = self.book_name() or "runbook"
        doc = printing.document([("Runbook", self.books.currentItem().text() if self.books.currentItem() else name)],
                                safe_html=self.output.toHtml())
        return self.on_email_pdf(None, printing.pdf_attachment(doc, f"runbook-{name}.pdf"))

    def may_export_patient_data(self, may: bool) -> None:
        """The signed-in group's "export_patient_data" permission (kiosk/roles_desk.py)."""
        self.with_patient_data.setEnabled(may)
        if not may:
            self.with_patient_data.setChecked(False)

    def save_diagnostics(self, target: Path | None = None) -> Any:
        """The bundle written on a worker; patient data only when ticked, and only when allowed."""
        if target is None:
            ask = QFileDialog(self, "Save diagnostics", "diagnostics.zip", "Zip files (*.zip)")
            ask.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            ask.setDefaultSuffix("zip")
            if ask.exec() != QFileDialog.DialogCode.Accepted or not ask.selectedFiles():
                return None
            target = Path(ask.selectedFiles()[0])
        with_data = self.with_patient_data.isChecked() and self.with_patient_data.isEnabled()
        self.note.setText("Saving the diagnostic bundle...")
        job = run_in_background(lambda: export(self.app, target, include_patient_data=with_data),
                                lambda path: self.note.setText(f"Diagnostics saved to {path}"
                                                               + (" (with patient data)." if with_data
                                                                  else " (no patient data).")),
                                lambda exc: self.note.setText(f"Diagnostics not saved: {exc}"), owner=self)
        self._jobs.append(job)
        return job

    def email_support(self) -> None:
        try:
            rid = email_support(self.app, datetime.now(timezone.utc))
        except PracticeMailError as exc:
            self.note.setText(f"{exc.message}. {exc.hint}")
            return
        self.note.setText(f"The diagnostic bundle (no patient data) is in the outbox (item {rid}).")
