"""Each main view rendered offscreen at 1280x800 and 1920x1080: no column header cut off
('Stat…', 'cance…'), no cell wrapped onto a second line ('Dr Tomás / Ferreira' doubled the
patients' rows), no button squeezed below its text, the toolbar's and the navigation column's
words whole (issue 19 item 7 and the screenshot check)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtWidgets import (QApplication, QPushButton, QStyle, QStyleOptionViewItem, QTableView,
                             QToolBar)
from pytestqt.qtbot import QtBot

from engine.service.app import SUPER
from kiosk.main_window import VIEWS, MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def _cut(window: MainWindow) -> list[str]:
    out = []
    margin = 2 * window.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    for table in window.findChildren(QTableView):
        if not table.isVisible():
            continue
        header = table.horizontalHeader()
        fm = header.fontMetrics()
        for c in range(table.model().columnCount()):
            text = str(table.model().headerData(c, header.orientation()) or "")
            if text and fm.horizontalAdvance(text) + margin > header.sectionSize(c):
                out.append(f"header {text!r}: {fm.horizontalAdvance(text) + margin} > {header.sectionSize(c)} px")
        out += _cells(table)
    for b in window.findChildren(QPushButton):
        if b.isVisible() and b.text() and b.width() < b.fontMetrics().horizontalAdvance(b.text()):
            out.append(f"button {b.text()!r}: {b.width()} px")
    return out + _toolbar(window) + _navigation(window)


def _cells(table: QTableView) -> list[str]:
    """Cells up to 30 characters whole (the last, stretched column too), and none wrapped: a
    cell's text laid out in its column, as the view wraps it, is one line high."""
    out = []
    fm = table.fontMetrics()
    model = table.model()
    for c in range(model.columnCount()):
        room = table.columnWidth(c) - 8
        for r in range(min(model.rowCount(), 40)):
            text = str(model.data(model.index(r, c)) or "")
            if len(text) <= 30 and fm.horizontalAdvance(text) > room:
                out.append(f"cell {text!r}: {fm.horizontalAdvance(text) + 8} > {table.columnWidth(c)} px")
            flags = Qt.TextFlag.TextWordWrap if table.wordWrap() else Qt.TextFlag.TextSingleLine
            high = fm.boundingRect(QRect(0, 0, max(room, 1), 10_000), flags, text).height()
            if text and high > fm.lineSpacing():
                out.append(f"cell {text!r} wraps onto {round(high / fm.lineSpacing())} lines in {room} px")
    return out


def _toolbar(window: MainWindow) -> list[str]:
    """Every toolbar button shown (none pushed into the overflow) and as wide as its picture and words."""
    out = []
    for bar in window.findChildren(QToolBar):
        for action in bar.actions():
            widget = bar.widgetForAction(action)
            if action.isSeparator() or not action.isVisible() or widget is None:
                continue
            name = action.text() or action.toolTip() or type(widget).__name__
            if not widget.isVisible():
                out.append(f"toolbar {name!r}: hidden in the overflow")
            elif widget.width() < widget.sizeHint().width():
                out.append(f"toolbar {name!r}: {widget.width()} < {widget.sizeHint().width()} px")
    return out


def _navigation(window: MainWindow) -> list[str]:
    """Each view's words in the left column (with its count) fit beside its picture."""
    nav = window.navigation
    room = nav.viewport().width() - 2 * nav.spacing()
    out = []
    for n in range(nav.count()):
        index = nav.model().index(n, 0)
        option = QStyleOptionViewItem()
        nav.initViewItemOption(option)
        needed = nav.itemDelegate().sizeHint(option, index).width()
        if needed > room:
            out.append(f"navigation {nav.item(n).text()!r}: {needed} > {room} px")
    return out


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_no_header_or_button_text_is_cut_off(qtbot: QtBot, window: MainWindow, fakemail: FakeMail,
                                             size: tuple[int, int]) -> None:
    fakemail.deliver("practice", b"From: patel.family@mailhome.example\r\nSubject: Family question\r\n"
                                 b"Message-ID: <fam@x>\r\n\r\nhello\r\n")
    send_receive(qtbot, window)
    from datetime import date, timedelta

    from tests.integration.helpers import draft

    window.app.engine.outbox.add_draft(draft(subject="Plain email"), window.app.engine.clock.now())
    window.refresh_outbox()  # the outbox first shown with an ordinary email only
    pfile = window.open_patient("P010")  # then a confirmation arrives
    qtbot.add_widget(pfile)
    assert pfile.appointments.book(f"{date.today() + timedelta(days=8)}T10:00", 30, "HYG1", "Riverside Surgery")
    settle(qtbot, window)  # booked on the jobs thread, the outbox read again
    pfile.close()
    window.resize(*size)
    window.sign_in(SUPER, "")  # Setup ("wizard") opens for a group allowed to change it
    found = []
    for view in VIEWS:
        window.show_view(view)
        QApplication.processEvents()
        found += [f"{view}: {p}" for p in _cut(window)]
    assert found == [], "\n".join(found)
