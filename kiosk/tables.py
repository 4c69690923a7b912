"""Simple read-only tables for the mail views (newest first, bounded)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PyQt6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QModelRoleDataSpan, Qt
from PyQt6.QtWidgets import QAbstractItemView, QTableView

from kiosk.plain import shown, tip

ROLE_ID = Qt.ItemDataRole.UserRole + 1
ROWS = 500  # the newest this many are listed in a view; older ones by filter or date


def size_text(n: int) -> str:
    """A file's size as reception reads it: '340 KB', '4.2 MB'."""
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


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


def local_date(now: datetime, zone: str) -> date:
    """The practice's date at `now` (the date where the practice is, not where UTC is)."""
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (KeyError, ZoneInfoNotFoundError, ValueError):
        return now.date()


def short_time(iso: str | None, zone: str, today: date) -> str:
    """For a table a person scans: 'Today 08:14', 'Yesterday 17:02', 'Tomorrow 10:00', 'Tue 3 Dec
    09:30' within a year either side, else '3 Dec 2025 09:30' (the full time is in the reading
    pane). `today`: the practice's date now, from the App's clock, so the words are right at midnight."""
    full = local_time(iso, zone)
    try:
        when = datetime.strptime(full, "%Y-%m-%d %H:%M")
    except ValueError:
        return full
    days = (when.date() - today).days
    clock = when.strftime("%H:%M")
    near = {0: "Today", -1: "Yesterday", 1: "Tomorrow"}
    if days in near:
        return f"{near[days]} {clock}"
    day = f"{when.strftime('%a')} {when.day} {when.strftime('%b')}"
    if abs(days) < 183:
        return f"{day} {clock}"
    return f"{when.day} {when.strftime('%b')} {when.year} {clock}"


class RowsModel(QAbstractTableModel):
    """Rows of text held as Python lists; Qt asks for the cells it draws. Cells are shown with
    hidden characters made visible, tooltips escaped (kiosk/plain.py). Filling 500 rows of
    9 columns as QStandardItems built 4,500 objects on the GUI thread on every refresh (the
    stall bench caught it near 100 ms); a reset of this model costs nothing per cell."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__()
        self.headers = list(headers)
        self.rows: list[tuple[Any, list[str]]] = []
        self.tips: Sequence[str] = ()
        self.icon: Callable[[str], Any] | None = None  # the first column's icon from its text (QIcon or None)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's names
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rid, values = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return values[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tips[index.row()] if self.tips else None
        if role == ROLE_ID:
            return rid
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and self.icon is not None:
            return self.icon(values[0])
        return None

    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        """Qt's own asks rowCount and columnCount (two calls into Python) for every index it makes."""
        if parent.isValid() or not (0 <= row < len(self.rows) and 0 <= column < len(self.headers)):
            return QModelIndex()
        return self.createIndex(row, column)

    def multiData(self, index: QModelIndex, roles: QModelRoleDataSpan) -> None:  # noqa: N802 - Qt's name
        """Every role a cell is drawn with, in one call (Qt's own calls `data` once per role)."""
        if not index.isValid():
            return
        row, column = index.row(), index.column()
        rid, values = self.rows[row]
        for n in range(len(roles)):
            wanted = roles[n]
            role = wanted.role()
            if role == Qt.ItemDataRole.DisplayRole:
                wanted.setData(values[column])
            elif role == Qt.ItemDataRole.ToolTipRole and self.tips:
                wanted.setData(self.tips[row])
            elif role == ROLE_ID:
                wanted.setData(rid)
            elif role == Qt.ItemDataRole.DecorationRole and column == 0 and self.icon is not None \
                    and (icon := self.icon(values[0])) is not None:
                wanted.setData(icon)
            else:
                wanted.clearData()

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def replace(self, rows: Sequence[tuple[Any, Sequence[Any]]], tips: Sequence[str] | None) -> None:
        self.beginResetModel()
        self.rows = [(rid, [shown(v) for v in values]) for rid, values in rows]
        self.tips = [tip(t) for t in tips or ()]
        self.endResetModel()

    def text(self, row: int, column: int) -> str:
        return self.rows[row][1][column]

    def set_text(self, row: int, column: int, text: str) -> None:
        self.rows[row][1][column] = shown(text)
        index = self.index(row, column)
        self.dataChanged.emit(index, index)


class RecordTable(QTableView):
    def __init__(self, headers: Sequence[str], words: dict[int, Sequence[str]] | None = None) -> None:
        """words: for a column whose values come from a short list (a status, a kind), every
        value it can show, so it is sized for the widest even before that one is listed."""
        super().__init__()
        self.words = words or {}
        self.model_ = RowsModel(headers)
        self.model_.setParent(self)  # lives and dies with the view (a model freed first left Qt selecting in none)
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setHighlightSections(False)  # a selected row repaints no header
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)  # a row is one line: a long text is elided, never wrapped into a taller row
        self._sized = False
        self._wanted: list[int] = []  # each column's width for its words (the last one's too)

    def fill(self, rows: Sequence[tuple[Any, Sequence[Any]]], tooltips: Sequence[str] | None = None) -> None:
        """rows: (record id, cell values). Columns are sized to their contents once, on the first
        rows shown: sizing 500 rows again on every refresh stalled the GUI for 100 ms. The rows
        selected before stay selected (new mail arriving must not take away what is being read)."""
        keep = set(self.selected_ids())
        self.selectionModel().blockSignals(True)
        self.model_.replace(rows, tooltips)
        if rows or not self._sized:
            self._size_columns()
            self._sized = bool(rows)
        if keep:
            flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            for n, (rid, _values) in enumerate(rows):
                if rid in keep:
                    self.selectionModel().select(self.model_.index(n, 0), flags)
        self.selectionModel().blockSignals(False)

    def _size_columns(self, sample: int = 60, widest: int = 420) -> None:
        """Each column as wide as its header, its known words and the first rows' text, never
        narrower than it was (Qt's own sizing asks the model about every row: 100 ms at 500 rows,
        all of it on the GUI thread; a sample of 60 costs nothing). The last column stretches over
        the room left; it asks only for its short texts (a server's long reason is elided)."""
        fm = self.fontMetrics()
        head = self.model_.rows[:sample]
        if len(self._wanted) != len(self.model_.headers):
            self._wanted = [0] * len(self.model_.headers)
        last = len(self.model_.headers) - 1
        for c, title in enumerate(self.model_.headers):
            texts = [title, *self.words.get(c, ()), *(values[c] for _rid, values in head
                                                        if c < last or len(values[c]) <= 30)]
            width = min(max(fm.horizontalAdvance(t) for t in texts) + 18, widest)
            if not self._sized or width > self._wanted[c]:
                self._wanted[c] = width
        self._fit()

    def _fit(self, least: int = 80) -> None:
        """The columns at their widths when the view has room for them all; when it has not, the
        widest give way to one width (their longest texts elided) so that the narrower columns,
        the stretched last one included, show their words whole (at 1280 pixels the patients'
        Email column left the Usual provider 100 pixels and the names wrapped)."""
        if not self._wanted:
            return
        room = self.contentsRect().width() - self.verticalScrollBar().sizeHint().width()
        # the stretched last column is never narrower than a section's default width (Qt's own rule)
        wanted = [*self._wanted[:-1], max(self._wanted[-1], self.horizontalHeader().defaultSectionSize())]
        ordered = sorted(wanted, reverse=True)
        cap, rest = ordered[0], sum(ordered)
        for n, width in enumerate(ordered):
            if rest <= room:
                break
            rest -= width
            cap = (room - rest) // (n + 1)  # the n + 1 widest at one width
            if n + 1 == len(ordered) or cap >= ordered[n + 1]:
                break
        for c, width in enumerate(self._wanted[:-1]):
            self.setColumnWidth(c, min(width, max(cap, least)))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def selected_ids(self) -> list[Any]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.id_at(r) for r in rows]

    def id_at(self, row: int) -> Any:
        return self.model_.rows[row][0]

    def set_cell(self, rid: Any, column: int, text: str) -> None:
        """Change one cell in place (marking a message read must not refill the table)."""
        for n, (row_id, _values) in enumerate(self.model_.rows):
            if row_id == rid:
                self.model_.set_text(n, column, text)
                return
