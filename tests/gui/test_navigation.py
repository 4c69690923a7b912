"""The calm look (issue 19): a left column of views with pictures, shortcuts and the numbers
reception acts on; the toolbar's pictures beside their words; times a person scans quickly."""

from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given, strategies as st
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QPushButton, QToolBar, QToolButton
from pytestqt.qtbot import QtBot

from engine.service.values import DeskCounts
from kiosk.main_window import VIEWS, MainWindow
from kiosk.navigation import label
from kiosk.tables import short_time
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def _texts(window: MainWindow) -> dict[str, str]:
    nav = window.navigation
    return {nav.item(n).data(Qt.ItemDataRole.UserRole): nav.item(n).text() for n in range(nav.count())}


def test_every_view_is_in_the_column_and_a_click_or_a_key_shows_it(qtbot: QtBot, window: MainWindow) -> None:
    assert sorted(_texts(window)) == sorted(VIEWS)
    assert not window.tabs.tabBar().isVisible()  # one way to move, not two
    nav = window.navigation
    row = next(n for n in range(nav.count()) if nav.item(n).data(Qt.ItemDataRole.UserRole) == "patients")
    nav.setCurrentRow(row)
    assert window.tabs.currentIndex() == VIEWS.index("patients")
    window.show_view("templates")  # moved another way: the column follows
    assert nav.currentItem().data(Qt.ItemDataRole.UserRole) == "templates"
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # second in the column
    assert window.tabs.currentIndex() == VIEWS.index("outbox")
    assert "Ctrl+2" in nav.item(1).toolTip()


def test_the_inbox_count_follows_reading(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    for n in range(3):
        fakemail.deliver("practice", f"From: a{n}@mailhome.example\r\nSubject: Question {n}\r\n"
                                     f"Message-ID: <nav{n}@x>\r\n\r\nhello\r\n".encode())
    send_receive(qtbot, window)
    unread = window.app.desk_counts().unread
    assert unread >= 3
    qtbot.wait_until(lambda: _texts(window)["inbox"] == f"Inbox  ({unread} new)", timeout=15000)
    window.show_view("inbox")
    page = window.inbox_page
    page.tag_filter.setCurrentIndex(page.tag_filter.findData("all"))
    settle(qtbot, window)
    row = next(r for r in range(window.inbox.model_.rowCount()) if window.inbox.model_.text(r, 0) == "new")
    window.inbox.selectRow(row)
    qtbot.mouseClick(next(b for b in page.findChildren(QPushButton) if b.text() == "Mark read"),
                     Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    qtbot.wait_until(lambda: _texts(window)["inbox"] == f"Inbox  ({unread - 1} new)", timeout=15000)


def test_the_words_beside_each_view() -> None:
    assert label("inbox", DeskCounts(unread=0, waiting=0, failed=0)) == "Inbox"
    assert label("inbox", DeskCounts(unread=4, waiting=0, failed=0)) == "Inbox  (4 new)"
    assert label("outbox", DeskCounts(unread=4, waiting=12, failed=0)) == "Outbox  (12 to go)"
    assert label("outbox", DeskCounts(unread=0, waiting=12, failed=2)) == "Outbox  (2 failed)"  # to act on first
    assert label("patients", DeskCounts(unread=4, waiting=12, failed=2)) == "Patients"


def test_every_toolbar_button_shows_a_picture_and_its_words(window: MainWindow) -> None:
    bar = window.findChild(QToolBar)
    assert bar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    for action in bar.actions():
        if action.isSeparator() or not action.text() or bar.widgetForAction(action) is None:
            continue
        if isinstance(bar.widgetForAction(action), QToolButton):
            assert not action.icon().isNull(), action.text()


def test_times_a_person_scans() -> None:
    today = date(2026, 12, 3)  # a Thursday
    zone = "Europe/London"
    assert short_time("2026-12-03T08:14:00+00:00", zone, today) == "Today 08:14"
    assert short_time("2026-12-02T17:02:00+00:00", zone, today) == "Yesterday 17:02"
    assert short_time("2026-12-04T10:00:00+00:00", zone, today) == "Tomorrow 10:00"
    assert short_time("2026-12-01T09:30:00+00:00", zone, today) == "Tue 1 Dec 09:30"
    assert short_time("2025-03-01T09:30:00+00:00", zone, today) == "1 Mar 2025 09:30"
    # the practice's day, not UTC's: 23:30 UTC on the 2nd is already the 3rd in Auckland
    assert short_time("2026-12-02T23:30:00+00:00", "Pacific/Auckland", today) == "Today 12:30"
    assert short_time("", zone, today) == ""
    assert short_time("not a time", zone, today) == "not a time"


@given(st.text(max_size=40), st.dates(), st.sampled_from(["Europe/London", "Pacific/Auckland", "Nowhere/Else", ""]))
def test_a_stored_time_of_any_shape_never_breaks_the_table(iso: str, today: date, zone: str) -> None:
    assert isinstance(short_time(iso, zone, today), str)


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(timezone.utc)),
       st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1)))
def test_the_clock_time_is_always_shown(when: datetime, today: date) -> None:
    assert short_time(when.isoformat(), "UTC", today).endswith(when.strftime("%H:%M"))


def test_text_size_and_high_contrast_follow_the_settings(qtbot: QtBot, window: MainWindow) -> None:
    from PyQt6.QtGui import QPalette
    from PyQt6.QtWidgets import QApplication

    qt = QApplication.instance()
    own_size, own_window = qt.font().pointSize(), qt.palette().color(QPalette.ColorRole.Window).name()
    window.app.settings.set_many({"kiosk.font_size": 18, "kiosk.high_contrast": True})
    qtbot.wait_until(lambda: qt.font().pointSize() == 18)
    assert qt.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    assert qt.palette().color(QPalette.ColorRole.Highlight).name() == "#ffff00"
    window.app.settings.set_many({"kiosk.font_size": 0, "kiosk.high_contrast": False})  # the computer's own again
    qtbot.wait_until(lambda: qt.font().pointSize() == own_size)
    assert qt.palette().color(QPalette.ColorRole.Window).name() == own_window
