"""The reception kiosk's main window.

For now: the practice directory (patients, providers, specialists, locations,
appointments) read from the store. Mail views arrive with the engine parts.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QLabel, QMainWindow, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget

from engine.core import directory as rules
from engine.service.practice import Practice

VIEWS = ("patients", "providers", "specialists", "locations", "appointments")


class DirectoryTable(QTableWidget):
    def __init__(self, kind: str, records: list[dict[str, Any]]) -> None:
        columns = rules.COLUMNS[kind]
        super().__init__(len(records), len(columns))
        self.setHorizontalHeaderLabels([c.replace("_", " ") for c in columns])
        key = rules.KEY_COLUMN[kind]
        for r, rec in enumerate(sorted(records, key=lambda x: str(x.get(key, "")))):
            for c, col in enumerate(columns):
                self.setItem(r, c, QTableWidgetItem(str(rec.get(col, ""))))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.resizeColumnsToContents()
        self.setSortingEnabled(True)
        self.sortItems(0)


class MainWindow(QMainWindow):
    def __init__(self, practice: Practice) -> None:
        super().__init__()
        self.practice = practice
        name = practice.settings.get("practice.name") or "practicemail"
        self.setWindowTitle(f"{name} - practicemail")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(QLabel(f"<b>{name}</b> &nbsp; data folder: {practice.folder}"))
        self.tabs = QTabWidget()
        for kind in VIEWS:
            self.tabs.addTab(DirectoryTable(kind, practice.directory.list(kind)), kind.capitalize())
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

    def show_view(self, view: str) -> None:
        target = {"patient": "patients"}.get(view, view)
        if target in VIEWS:
            self.tabs.setCurrentIndex(VIEWS.index(target))
