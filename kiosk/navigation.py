"""The left navigation column: Inbox, Outbox, Patients, Appointments, Templates, Admin (and
Deleted), each with its picture, its keyboard shortcut and, where reception acts on a number,
the number: unread messages, items still to go, failures. It drives the window's stack of
pages (a QTabWidget with its tab bar hidden, so every page keeps its place and its name)."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut
from PyQt6.QtWidgets import QListWidget, QListWidgetItem, QTabWidget, QWidget

from engine.service.values import DeskCounts
from kiosk.icons import icon

# the order people meet them in a day; the page order in the stack stays the window's own
ORDER = ("inbox", "outbox", "patients", "appointments", "templates", "deleted", "admin")
NAMES = {"inbox": "Inbox", "outbox": "Outbox", "patients": "Patients", "appointments": "Appointments",
         "templates": "Templates", "deleted": "Deleted", "admin": "Admin"}


def label(view: str, counts: DeskCounts | None) -> str:
    """'Inbox  (3 new)', 'Outbox  (12 to go, 1 failed)': the words beside each view."""
    name = NAMES[view]
    if counts is None:
        return name
    parts: list[str] = []
    if view == "inbox" and counts.unread:
        parts.append(f"{counts.unread} new")
    if view == "outbox" and counts.failed:  # what reception must act on comes first
        parts.append(f"{counts.failed} failed")
    elif view == "outbox" and counts.waiting:
        parts.append(f"{counts.waiting} to go")
    return f"{name}  ({', '.join(parts)})" if parts else name


class Navigation(QListWidget):
    def __init__(self, pages: QTabWidget, views: Sequence[str], parent: QWidget) -> None:
        """pages: the window's stack; views: its page names in stack order."""
        super().__init__(parent)
        self.pages, self.views = pages, list(views)
        self.counts: DeskCounts | None = None
        pages.tabBar().hide()  # this column is how one moves between pages
        self.setIconSize(QSize(22, 22))
        self.setSpacing(2)
        self.setAccessibleName("Views")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.setFont(font)
        for n, view in enumerate(v for v in ORDER if v in self.views):
            item = QListWidgetItem(icon(view), NAMES[view])
            item.setData(Qt.ItemDataRole.UserRole, view)
            key = QKeySequence(f"Ctrl+{n + 1}")
            item.setToolTip(f"{NAMES[view]} ({key.toString(QKeySequence.SequenceFormat.NativeText)})")
            self.addItem(item)
            QShortcut(key, parent, activated=lambda v=view: self.go(v))
        self.currentItemChanged.connect(lambda item, _old: item is not None and self._show(item))
        pages.currentChanged.connect(lambda _i: self._follow())
        self._follow()
        self._fit()

    def go(self, view: str) -> None:
        self.pages.setCurrentIndex(self.views.index(view))

    def _show(self, item: QListWidgetItem) -> None:
        self.go(item.data(Qt.ItemDataRole.UserRole))

    def _follow(self) -> None:  # the page changed another way (show_view, a link): the column follows
        view = self.views[self.pages.currentIndex()]
        for n in range(self.count()):
            if self.item(n).data(Qt.ItemDataRole.UserRole) == view:
                self.blockSignals(True)
                self.setCurrentRow(n)
                self.blockSignals(False)

    def show_counts(self, counts: DeskCounts) -> None:
        self.counts = counts
        for n in range(self.count()):
            item = self.item(n)
            view = item.data(Qt.ItemDataRole.UserRole)
            item.setText(label(view, counts))
            bold = QFont(self.font())
            bold.setBold(view == "inbox" and counts.unread > 0 or view == "outbox" and counts.failed > 0)
            item.setFont(bold)

    def _fit(self) -> None:
        """As wide as its longest words could be (big counts included), so it never cuts one
        off and never jumps when a count grows."""
        most = DeskCounts(unread=999, waiting=999, failed=999)
        bold = QFont(self.font())
        bold.setBold(True)
        widest = max(QFontMetrics(bold).horizontalAdvance(label(self.item(n).data(Qt.ItemDataRole.UserRole), most))
                     for n in range(self.count()))
        self.setFixedWidth(widest + self.iconSize().width() + 40)
