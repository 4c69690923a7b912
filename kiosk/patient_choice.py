"""A patient chosen by name in a window (compose, a text message): a list of the first patients by
name with a box beside it that finds any patient by name, date of birth, phone or email.

Why not every patient in the list: at 20,000 patients reading and sorting them all made Create
New Email take 0.5 s to open and the text window 1.1 s (load ~4). The list holds the first ROWS
by name from the directory's index, the patient the window opened for, and what is typed finds
the rest from the same index in milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit

from engine.service.app import App
from kiosk import plain
from kiosk.people import code_tip
from kiosk.tables import ROWS

Record = Mapping[str, Any]


class PatientChoice(QObject):
    """The list (`combo`, "(choose the patient)" first) and the find box (`find`); `found` after
    the list was filled again for what was typed (the choice kept when it still matches, a single
    match chosen)."""

    found = pyqtSignal()

    def __init__(self, app: App, label: Callable[[Record], str], chosen: str | None = None,
                 keep: Callable[[Record], bool] = lambda _p: True, placeholder: str = "Find: name, date of birth, phone",
                 top: Sequence[str] = ()) -> None:
        super().__init__()
        self.app, self.label, self.keep = app, label, keep
        self.top = [p for p in (app.directory.find("patients", pid) for pid in top) if p is not None]
        self.combo = QComboBox()
        self.find = QLineEdit()
        self.find.setPlaceholderText(placeholder)
        self.find.setClearButtonEnabled(True)
        self.find.setToolTip("Finds any patient of the practice; one match is chosen")
        self.find.textChanged.connect(self._typed)
        self._fill(self._first(chosen))
        if chosen:
            self.combo.setCurrentIndex(max(0, self.combo.findData(chosen)))

    def _first(self, also: str | None = None) -> list[Record]:
        """`top` (the address's family, say), then the first ROWS by name, and `also` (the patient
        asked for) wherever they sort."""
        d = self.app.directory
        first = {p["id"] for p in self.top}
        people = [*self.top, *(p for p in d.first_patients(ROWS) if p["id"] not in first)]
        if also and all(p["id"] != also for p in people):
            extra = d.find("patients", also)
            people = [extra, *people] if extra is not None else people
        return people

    def _fill(self, people: list[Record]) -> None:
        self.combo.clear()
        self.combo.addItem("(choose the patient)", "")
        for p in people:
            if self.keep(p):
                self.combo.addItem(plain.shown(self.label(p)), p["id"])
                self.combo.setItemData(self.combo.count() - 1, plain.tip(code_tip("Patient", p["id"])),
                                       Qt.ItemDataRole.ToolTipRole)

    def _typed(self, text: str) -> None:
        chosen = self.combo.currentData()
        people = self.app.directory.search(text, limit=ROWS) if text.strip() else self._first(chosen)
        self.combo.blockSignals(True)
        self._fill(people)
        index = self.combo.findData(chosen) if chosen else -1
        self.combo.setCurrentIndex(1 if self.combo.count() == 2 else max(index, 0))
        self.combo.blockSignals(False)
        self.found.emit()

    def row(self) -> QHBoxLayout:
        """The list and the find box side by side, as a form's row shows them."""
        row = QHBoxLayout()
        row.addWidget(self.combo, 3)
        row.addWidget(self.find, 2)
        return row

    def choose(self, patient_id: str) -> None:
        """This patient chosen (from the address book, say), listed if they were not."""
        self.find.blockSignals(True)
        self.find.clear()
        self.find.blockSignals(False)
        if self.combo.findData(patient_id) < 0:
            self.combo.blockSignals(True)
            self._fill(self._first(patient_id))
            self.combo.blockSignals(False)
        self.combo.setCurrentIndex(max(0, self.combo.findData(patient_id)))
