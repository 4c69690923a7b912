"""Simple read-only tables for the mail views (newest first, bounded)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PyQt6.QtCore import QItemSelectionModel, Qt
from PyQt6.QtGui import QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import QAbstractItemView, QTableView

ROLE_ID = Qt.ItemDataRole.UserRole + 1


def local_time(iso: str | None, zone: str) -> str:
    """A stored time (ISO 8601, UTC) as the practice's clock shows it: 'YYYY-MM-DD HH:MM'."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
        if when.tzinfo is not None:
            when = when.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return iso[:16].replace("T", " ")
    return when.strftime("%Y-%m-%d %H:%M")


class RecordTable(QTableView):
    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__()
        self.model_ = QStandardItemModel(0, len(headers))
        self.model_.setHorizontalHeaderLabels(list(headers))
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setAlternatingRowColors(True)
        self._sized = False

    def fill(self, rows: Sequence[tuple[Any, Sequence[Any]]], tooltips: Sequence[str] | None = None) -> None:
        """rows: (record id, cell values). Columns are sized to their contents once, on the first
        rows shown: sizing 500 rows again on every refresh stalled the GUI for 100 ms. The rows
        selected before stay selected (new mail arriving must not take away what is being read)."""
        keep = set(self.selected_ids())
        self.setUpdatesEnabled(False)
        self.blockSignals(True)
        self.selectionModel().blockSignals(True)
        self.model_.removeRows(0, self.model_.rowCount())
        for n, (rid, values) in enumerate(rows):
            items = []
            for v in values:
                item = QStandardItem("" if v is None else str(v))
                item.setData(rid, ROLE_ID)
                if tooltips:
                    item.setToolTip(tooltips[n])
                items.append(item)
            self.model_.appendRow(items)
        if rows and not self._sized:
            self.resizeColumnsToContents()
            self._sized = True
        if keep:
            flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            for n, (rid, _values) in enumerate(rows):
                if rid in keep:
                    self.selectionModel().select(self.model_.index(n, 0), flags)
        self.selectionModel().blockSignals(False)
        self.blockSignals(False)
        self.setUpdatesEnabled(True)

    def selected_ids(self) -> list[Any]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.model_.item(r, 0).data(ROLE_ID) for r in rows]

    def id_at(self, row: int) -> Any:
        return self.model_.item(row, 0).data(ROLE_ID)

    def set_cell(self, rid: Any, column: int, text: str) -> None:
        """Change one cell in place (marking a message read must not refill the table)."""
        for n in range(self.model_.rowCount()):
            if self.id_at(n) == rid:
                self.model_.item(n, column).setText(text)
                return
