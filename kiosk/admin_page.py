"""The Admin page: the runbooks as cells with their outputs, run one or all; Email support."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from engine.admin.diagnostics import email_support, run_runbook
from engine.admin.facade import Admin
from engine.admin.runner import available
from engine.errors import PracticeMailError
from kiosk.bridge import run_in_background


class AdminPage(QWidget):
    def __init__(self, admin: Admin, role: str = "reception") -> None:
        super().__init__()
        self.admin = admin
        self.role = role
        self._jobs: list[Any] = []
        self.last_page = ""
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.books = QListWidget()
        for name in available():
            self.books.addItem(name)
        self.books.setCurrentRow(0)
        left.addWidget(self.books)
        self.run = QPushButton("Run")
        self.run.clicked.connect(self.run_selected)
        left.addWidget(self.run)
        self.support = QPushButton("Email support")
        self.support.clicked.connect(self.email_support)
        left.addWidget(self.support)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        left.addWidget(self.note)
        layout.addLayout(left, 1)
        self.output = QTextBrowser()
        self.output.setOpenLinks(False)  # nothing in a runbook is fetched or followed
        layout.addWidget(self.output, 3)

    def run_selected(self) -> None:
        item = self.books.currentItem()
        if item is None:
            return
        name = item.text()
        self.run.setEnabled(False)
        self.note.setText(f"Running {name}...")
        self._jobs.append(run_in_background(lambda: run_runbook(self.admin, name, self.role)[0], self._shown,
                                            self._failed))

    def _shown(self, page: str) -> None:
        self.last_page = page
        self.output.setHtml(page)
        self.run.setEnabled(True)
        self.note.setText("")

    def _failed(self, exc: Exception) -> None:
        self.run.setEnabled(True)
        self.note.setText(f"The runbook could not run: {exc}")

    def email_support(self) -> None:
        try:
            rid = email_support(self.admin, datetime.now(timezone.utc))
        except PracticeMailError as exc:
            self.note.setText(f"{exc.message}. {exc.hint}")
            return
        self.note.setText(f"The diagnostic bundle (no patient data) is in the outbox (item {rid}).")
