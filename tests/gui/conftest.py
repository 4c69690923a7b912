"""The kiosk's tests share one window over the demo practice, its App's engine running
against the fake servers (offscreen; one QApplication for the session, from pytest-qt)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.service.app import App
from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail


@pytest.fixture
def practice(practice: Practice, fakemail: FakeMail) -> Practice:
    """The demo practice (tests/conftest.py), receiving over IMAP too."""
    configure_incoming(practice, fakemail, "imap")
    return practice


@pytest.fixture
def window(qtbot: QtBot, practice: Practice) -> Iterator[MainWindow]:
    app = App(practice)  # the practice fixture opens and closes the folder; the App is the kiosk's door
    app.engine.smtp_timeout = 5
    app.start()
    w = MainWindow(app)
    qtbot.add_widget(w)
    w.show()
    # Qt keeps the modifiers of the last key event application-wide: an earlier test's
    # Ctrl+Shift+L left Ctrl and Shift "held", and selectRow then toggled instead of selecting
    qtbot.keyRelease(w, Qt.Key.Key_Control)
    yield w
    w.timer.stop()
    w.jobs.finish()  # clicks' commands written before the store closes
    app.close()
