"""The inbox search's text stage in the kiosk (issue 19 finding 8, kiosk/inbox_text.py): with "Search
the text too" ticked, a word only in a message's body finds it; the walk runs on the jobs thread in
steps, so the GUI keeps ticking and a click's command runs before the walk ends; Stop ends it."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from PyQt6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from engine.service.app import InboxMessage
from kiosk import inbox_text
from kiosk.main_window import MainWindow
from tests.gui.helpers import settle

WORD = "periapical"
MANY = 40


def _store(window: MainWindow, n: int, body: str) -> int:
    inbox = window.app.inbox
    raw = (f"From: Ann <ann{n}@example.org>\r\nSubject: Note {n}\r\nContent-Type: text/plain; charset=utf-8\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(body.encode())
    received = (datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(minutes=n)).isoformat()
    m = InboxMessage(from_address=f"ann{n}@example.org", from_name="Ann", subject=f"Note {n}", received=received,
                     blob=inbox.store.blobs.put(raw), size=len(raw), source="test", origin="test")
    return inbox.messages.insert_many([m.record()])[0]


def _subjects(window: MainWindow) -> list[str]:
    m = window.inbox_page.table.model_
    return [m.text(r, 3) for r in range(m.rowCount())]


@pytest.fixture
def filled(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setattr(inbox_text, "STEP", 2)  # many steps over a few messages
    _store(window, 0, f"The {WORD} x-ray shows an abscess.")  # the oldest: the walk reads them all first
    for n in range(1, MANY):
        _store(window, n, "Thank you for the appointment.")
    window.show_view("inbox")
    return window


def test_a_body_word_with_the_tick_finds_the_message_and_the_gui_keeps_ticking(qtbot: QtBot,
                                                                                filled: MainWindow) -> None:
    window, page = filled, filled.inbox_page
    settle(qtbot, window)
    qtbot.keyClicks(page.search, WORD)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert _subjects(window) == []  # the fast search: headers only
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(page.text.searched))
    timer.start(0)
    page.text.tick.setChecked(True)  # the walk starts
    assert page.text.running and page.text.stop_button.isVisible()
    first = window.app.inbox_messages(limit=1, show_all=True)[0].id
    page.command([first], lambda v: v, lambda rid: window.app.mark_read(rid), "mark it read", refresh=False)
    qtbot.wait_until(lambda: window.app.inbox_message(first).read, timeout=15000)
    assert page.text.running  # the click's command ran between two steps, not after the walk
    qtbot.wait_until(lambda: not page.text.running, timeout=30000)
    timer.stop()
    assert _subjects(window) == ["Note 0"]
    assert page.text.status.text() == f"Text searched: {MANY} messages, 1 found"
    assert not page.text.stop_button.isVisible()
    during = {s for s in ticks if 0 < s < MANY}
    assert len(during) >= 3, f"the GUI's timer fired at only {sorted(during)} messages searched"
    page.text.tick.setChecked(False)  # the headers' answer again
    assert _subjects(window) == [] and page.text.status.text() == ""


def test_stop_ends_the_walk_and_keeps_what_it_found(qtbot: QtBot, filled: MainWindow) -> None:
    window, page = filled, filled.inbox_page
    settle(qtbot, window)
    newest = _store(window, MANY, f"Another {WORD} lesion")
    page.text.tick.setChecked(True)
    qtbot.keyClicks(page.search, WORD)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: _subjects(window) == [f"Note {MANY}"], timeout=15000)  # found by the first step
    assert newest in page.messages
    page.text.stop_button.click()
    assert not page.text.running and page.text.status.text().startswith("Stopped: ")
    settle(qtbot, window)
    assert _subjects(window) == [f"Note {MANY}"]  # the walk went no further: Note 0 not found
    assert page.text.searched < MANY + 1


def test_a_found_message_read_then_deleted_stays_as_the_store_has_it(qtbot: QtBot, filled: MainWindow) -> None:
    """A refresh after a command reads the text stage's finds again: marked read stays read, and a
    deleted one does not come back with them."""
    window, page = filled, filled.inbox_page
    settle(qtbot, window)
    page.text.tick.setChecked(True)
    qtbot.keyClicks(page.search, WORD)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: not page.text.running, timeout=30000)
    assert _subjects(window) == ["Note 0"] and "new" in page.table.model_.text(0, 0)
    page.table.selectRow(0)  # opened: marked read
    settle(qtbot, window)
    page.refresh_later()
    settle(qtbot, window)
    assert _subjects(window) == ["Note 0"] and "new" not in page.table.model_.text(0, 0)
    page.delete_selected()
    settle(qtbot, window)
    page.refresh_later()
    settle(qtbot, window)
    assert _subjects(window) == []
