"""Prompt-before-send on a kiosk at another desk (#19 item 4 with issue 21): the service runs
headless (an App in this process on connections of its own, standing in for `serve`, its worker
on the fake clock) and the kiosk is a reader of the same PostgreSQL schema. The desk is asked
"Send this confirmation now?" the moment the service's worker says it fell due, answers through a
desk command, and a question answered at one desk closes at the other, saying who answered. The
fake SMTP server is the witness of what went. Before: only the desk that ran the service was asked;
this desk never showed the question, and its answer was refused as read-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from engine.adapters.clock import FakeClock
from engine.service.app import App
from kiosk.main_window import MainWindow
from tests.gui.helpers import settle
from tests.gui.test_pin_check import open_sign_in, submit
from tests.integration.test_desk_commands import desk_folder, set_up
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(120)
START = datetime(2026, 12, 1, 10, 37, tzinfo=timezone.utc)  # a Tuesday morning
ASKS = "Send this confirmation now?"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def service(tmp_path: Path, pg_url: str, fakemail: FakeMail, clock: FakeClock) -> Iterator[App]:
    """A headless service: no desk subscribes to its engine."""
    set_up(tmp_path / "server", pg_url, fakemail)
    with App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url, clock=clock) as app:
        app.set_settings({"reminders.prompt_before_send": "true", "reminders.confirmation_delay_minutes": "10",
                          "incoming.enabled": "false"})
        app.start()
        yield app


def open_window(qtbot: QtBot, app: App) -> MainWindow:
    w = MainWindow(app)
    qtbot.add_widget(w)
    w.show()
    return w


@pytest.fixture
def desk_window(qtbot: QtBot, service: App, tmp_path: Path, pg_url: str) -> Iterator[MainWindow]:
    app = App.open_desk(desk_folder(tmp_path / "server", tmp_path / "desk"), database=pg_url)
    app.watch_poll = 3600.0  # the slow poll never comes during a test: only notices wake the desk
    assert app.on_another_desk
    w = open_window(qtbot, app)
    assert app.hearing(30)
    yield w
    close(w)
    app.close()


def close(w: MainWindow) -> None:
    w.timer.stop()
    w.jobs.finish()


def asking(w: MainWindow) -> list[QMessageBox]:
    """The questions open on this window."""
    return [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()
            and ASKS in b.text() and b.parent() is w]


def book(service: App) -> int:
    service.reminders.book("P036", "2026-12-02T16:00", 30, service.now())
    return max(i.id for i in service.outbox_items())


def times_sent(fakemail: FakeMail, service: App, rid: int) -> int:
    message_id = service.outbox.get(rid)["message_id"].encode()
    return sum(message_id in m["data"] for m in fakemail.sent())


def test_a_desk_with_a_headless_service_is_asked_and_yes_sends_it(
        qtbot: QtBot, desk_window: MainWindow, service: App, clock: FakeClock, fakemail: FakeMail) -> None:
    w = desk_window
    rid = book(service)
    clock.advance(timedelta(minutes=9, seconds=59))
    service.send_receive_now()
    settle(qtbot, w)
    assert asking(w) == []  # not before its delay ran out
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=30000):
        clock.advance(timedelta(seconds=1))  # the service's worker marks it asked: this desk hears it
    (box,) = asking(w)
    assert "kwame" in box.text().lower()
    assert service.outbox_item(rid).status.value == "ready" and fakemail.sent() == []
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: service.outbox_item(rid).status.value == "sent", timeout=30000)
    settle(qtbot, w)
    qtbot.wait_until(lambda: w.send_receive.isEnabled(), timeout=30000)  # the desk's own pass, asked of the service
    assert times_sent(fakemail, service, rid) == 1 and len(fakemail.sent()) == 1
    assert asking(w) == []


def test_no_at_a_desk_says_so_and_undo_has_it_asked_again(
        qtbot: QtBot, desk_window: MainWindow, service: App, clock: FakeClock, fakemail: FakeMail) -> None:
    w = desk_window
    rid = book(service)
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=30000):
        clock.advance(timedelta(minutes=10))
    (box,) = asking(w)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: "will not be sent" in w.status_line.text(), timeout=30000)
    assert w.status_line.text().startswith("The confirmation to ") and w.undo_prompt.isVisible()
    assert service.outbox_item(rid).status.value == "cancelled"
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=30000):  # the service's worker asks again
        qtbot.mouseClick(w.undo_prompt, Qt.MouseButton.LeftButton)
    (again,) = asking(w)
    qtbot.mouseClick(again.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: service.outbox_item(rid).status.value == "sent", timeout=30000)
    settle(qtbot, w)
    qtbot.wait_until(lambda: w.send_receive.isEnabled(), timeout=30000)
    assert times_sent(fakemail, service, rid) == 1


def test_answered_at_one_desk_the_question_closes_at_the_other_saying_who_answered(
        qtbot: QtBot, desk_window: MainWindow, service: App, clock: FakeClock, fakemail: FakeMail) -> None:
    """The kiosk of the service's own desk and a kiosk at another desk are both asked; Tess answers
    at the other desk; the service desk's question closes and its status bar names her."""
    here = open_window(qtbot, service)  # the service's own desk (it runs the engine)
    service.roles.add_user("Tess", "dentist", "2580")
    dialog = open_sign_in(qtbot, desk_window, "Tess")
    assert submit(qtbot, dialog, "2580") == ""
    qtbot.wait_until(lambda: desk_window.role.user == "Tess", timeout=15000)
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    qtbot.wait_until(lambda: len(asking(here)) == 1 and len(asking(desk_window)) == 1, timeout=30000)
    (there,) = asking(desk_window)
    qtbot.mouseClick(there.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: asking(here) == [], timeout=30000)  # withdrawn, not answered, at this desk
    qtbot.wait_until(lambda: "answered at another desk" in here.status_line.text(), timeout=15000)
    said = here.status_line.text()
    assert said.startswith("The confirmation to ") and "Tess at " in said and "answered No" in said, said
    assert service.outbox_item(rid).status.value == "cancelled"
    assert [h["event"] for h in service.outbox_item(rid).record["history"]].count("prompt_answered") == 1
    service.send_receive_now()
    assert fakemail.sent() == []
    settle(qtbot, here)
    close(here)
