"""Prompt-before-send asked by the worker (#19 item 4): the engine raises "send this confirmation
now?" the moment a confirmation falls due (engine/service/prompts.py), the bridge turns it into a
Qt signal on the GUI thread, the desk asks. The real worker on a fake clock, the fake SMTP server
as the witness of what went; nothing sleeps. Before it, a 5 s timer on the desk polled for due
confirmations: the question came up to 5 s late, and the worker never said anything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from engine.adapters.clock import FakeClock
from engine.service.app import App, NewEmail
from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail

START = datetime(2026, 12, 1, 10, 37, tzinfo=timezone.utc)  # a Tuesday morning, inside the periods
ASKS = "Send this confirmation now?"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def engine_app(practice: Practice, clock: FakeClock) -> Iterator[App]:
    """The App with its worker running on the fake clock; no desk yet (a headless service)."""
    practice.settings.set_many({"reminders.prompt_before_send": "true", "reminders.confirmation_delay_minutes": "10"})
    app = App(practice, clock=clock)
    app.engine.smtp_timeout = 5
    app.start()
    yield app
    app.close()


def open_desk(qtbot: QtBot, app: App, heard: list[int]) -> MainWindow:
    """The kiosk over the App; `heard` gets the item id of each question the worker raised, on the
    GUI thread (else -1: the bridge let a worker thread touch the desk)."""
    w = MainWindow(app)
    qtbot.add_widget(w)
    w.bridge.prompt_due.connect(lambda d: heard.append(
        d["item"].id if threading.current_thread() is threading.main_thread() else -1))
    w.show()
    return w


def asking() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
            and ASKS in w.text()]


def book(app: App, patient: str, hour: int) -> int:
    """An appointment booked at the desk: its confirmation waits for its delay and then for an answer."""
    app.reminders.book(patient, f"2026-12-02T{hour}:00", 30, app.now())
    return max(i.id for i in app.outbox_items())


def close(w: MainWindow) -> None:
    w.timer.stop()
    w.jobs.finish()


def test_the_worker_asks_when_the_confirmation_falls_due_not_before_and_once(
        qtbot: QtBot, engine_app: App, clock: FakeClock, fakemail: FakeMail) -> None:
    heard: list[int] = []
    w = open_desk(qtbot, engine_app, heard)
    rid = book(engine_app, "P036", 16)
    assert send_receive(qtbot, w)["sent"] == 0  # the worker looked (before its pass): not due yet
    clock.advance(timedelta(minutes=9, seconds=59))
    assert send_receive(qtbot, w)["sent"] == 0
    assert heard == [] and asking() == []  # not at booking, not before its delay ran out
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=15000):
        clock.advance(timedelta(seconds=1))  # the worker wakes for that moment by itself
    assert heard == [rid]
    (box,) = asking()
    assert "Kwame" in box.text() or "kwame" in box.text()
    clock.advance(timedelta(minutes=5))
    assert send_receive(qtbot, w)["sent"] == 0  # still waiting for the answer: never sent unasked
    assert heard == [rid] and len(asking()) == 1  # asked once, however often the worker looks
    assert fakemail.sent() == []
    box.done(QMessageBox.StandardButton.No.value)
    settle(qtbot, w)
    close(w)


def test_yes_sends_it_at_once(qtbot: QtBot, engine_app: App, clock: FakeClock, fakemail: FakeMail) -> None:
    heard: list[int] = []
    w = open_desk(qtbot, engine_app, heard)
    rid = book(engine_app, "P036", 16)
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=15000):
        clock.advance(timedelta(minutes=10))
    (box,) = asking()
    w.last_pass = None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: w.last_pass is not None, timeout=15000)  # a pass at once, no clock moved
    assert w.last_pass["sent"] == 1
    (sent,) = fakemail.sent()
    assert engine_app.outbox_item(rid).status.value == "sent"
    assert engine_app.outbox.get(rid)["message_id"].encode() in sent["data"]  # this confirmation, not another
    settle(qtbot, w)
    close(w)


def test_no_says_so_sends_nothing_and_undo_has_the_worker_ask_again(
        qtbot: QtBot, engine_app: App, clock: FakeClock, fakemail: FakeMail) -> None:
    heard: list[int] = []
    w = open_desk(qtbot, engine_app, heard)
    rid = book(engine_app, "P036", 16)
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=15000):
        clock.advance(timedelta(minutes=10))
    (box,) = asking()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: "will not be sent" in w.status_line.text(), timeout=15000)  # answered off the GUI thread
    assert "the confirmation to" in w.status_line.text().lower()
    assert w.undo_prompt.isVisible()
    assert engine_app.outbox_item(rid).status.value == "cancelled"
    assert send_receive(qtbot, w)["sent"] == 0 and fakemail.sent() == []
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=15000):  # the worker asks again, not the desk
        qtbot.mouseClick(w.undo_prompt, Qt.MouseButton.LeftButton)
    assert heard == [rid, rid] and not w.undo_prompt.isVisible()
    (again,) = asking()
    w.last_pass = None
    qtbot.mouseClick(again.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: w.last_pass is not None, timeout=15000)
    assert len(fakemail.sent()) == 1 and engine_app.outbox_item(rid).status.value == "sent"
    settle(qtbot, w)
    close(w)


def test_with_no_desk_nothing_is_sent_unasked_and_the_outbox_says_it_waits_for_a_desk(
        qtbot: QtBot, engine_app: App, clock: FakeClock, fakemail: FakeMail) -> None:
    """A headless service (no kiosk): the confirmation waits, never sent, never hanging the worker,
    and says why; the first desk that opens is asked about it at once."""
    engine_app.practice.settings.set_many({"schedule.send_immediately": "true",
                                           "schedule.periods": "Mon-Sun 00:00-23:59", "incoming.enabled": "false"})
    rid = book(engine_app, "P036", 16)
    clock.advance(timedelta(minutes=10))
    patient = engine_app.patient("P033")
    other = engine_app.compose(NewEmail("P033", subject="Your x-ray", text="Attached soon."))
    # the worker's own pass ran (the other email went, and is recorded so)...
    qtbot.wait_until(lambda: engine_app.outbox_item(other).status.value == "sent", timeout=15000)
    (sent,) = fakemail.sent()
    assert sent["rcpt_tos"] == [patient.email]
    assert engine_app.outbox_item(rid).status.value == "ready"  # ...and left the confirmation unasked
    assert "waiting for a desk to confirm" in engine_app.waiting_words(engine_app.outbox_item(rid))
    heard: list[int] = []
    w = open_desk(qtbot, engine_app, heard)
    qtbot.wait_until(lambda: len(asking()) == 1, timeout=15000)  # a desk came: asked (before `heard` listened)
    assert "kwame" in asking()[0].text().lower()
    assert "waits for your answer" in engine_app.waiting_words(engine_app.outbox_item(rid))
    assert len(fakemail.sent()) == 1
    asking()[0].done(QMessageBox.StandardButton.No.value)
    settle(qtbot, w)
    close(w)


def test_a_confirmation_falling_due_during_a_paced_pass_is_asked_then(
        qtbot: QtBot, engine_app: App, clock: FakeClock, fakemail: FakeMail) -> None:
    """The worker in a long paced pass (one email a minute) still asks the moment a confirmation
    falls due, not when the pass ends (before, its rest waited only for the next paced slot)."""
    engine_app.practice.settings.set_many({
        "schedule.send_immediately": "true", "schedule.periods": "Mon-Sun 00:00-23:59", "incoming.enabled": "false",
        "pacing.enabled": "true", "pacing.per_minute": "1", "reminders.confirmation_delay_minutes": "2"})
    heard: list[int] = []
    w = open_desk(qtbot, engine_app, heard)
    rid = book(engine_app, "P036", 16)  # falls due at +2:00
    letters = [engine_app.compose(NewEmail("P033", subject=f"Letter {n}", text="From the practice.")) for n in range(4)]

    def recorded() -> int:  # sent as the worker recorded it (after it counted the send for pacing)
        return sum(engine_app.outbox_item(r).status.value == "sent" for r in letters)

    qtbot.wait_until(lambda: recorded() == 1, timeout=15000)  # the pass began; the next slot is +1:00
    clock.advance(timedelta(minutes=1))  # (advanced before the send was counted, the slot would move on)
    qtbot.wait_until(lambda: recorded() == 2, timeout=15000)
    with qtbot.wait_signal(w.bridge.prompt_due, timeout=15000):
        clock.advance(timedelta(minutes=1))
    assert heard == [rid] and len(fakemail.sent()) <= 3  # asked at +2:00, the pass not over (4 letters)
    assert engine_app.outbox_item(rid).status.value == "ready"
    asking()[0].done(QMessageBox.StandardButton.No.value)
    settle(qtbot, w)
    close(w)
