"""The kiosk on another desk (issue 21): its App is a reader of the database while the service
runs elsewhere (here: an App in this process on connections of its own, standing in for `serve`).
It hears the service's changes through the database's notices (LISTEN/NOTIFY), its poll an hour
away so only a notice can explain what it shows, and asks the service for Send/Receive, Reset
failed and Restart through command rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.service.app import App, NewEmail
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tests.gui.test_pin_check import open_sign_in, submit
from tests.integration.test_desk_commands import desk_folder, set_up, started
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def service(tmp_path: Path, pg_url: str, fakemail: FakeMail) -> Iterator[App]:
    set_up(tmp_path / "server", pg_url, fakemail)
    with App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url) as app:
        yield started(app)


@pytest.fixture
def heard() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def desk_window(qtbot: QtBot, service: App, tmp_path: Path, pg_url: str, heard: list) -> Iterator[MainWindow]:
    app = App.open_desk(desk_folder(tmp_path / "server", tmp_path / "desk"), database=pg_url)
    app.watch_poll = 3600.0  # the slow poll never comes during a test: only notices wake the desk
    assert app.on_another_desk
    w = MainWindow(app)
    qtbot.add_widget(w)
    for name in ("new_mail", "outbox_changed", "service_state"):
        getattr(w.bridge, name).connect(lambda d, name=name: heard.append(
            (name, d.get("notice", "engine")) if threading.current_thread() is threading.main_thread()
            else (name, "off the GUI thread")))
    assert app.hearing(30)
    w.show()
    yield w
    w.timer.stop()
    w.jobs.finish()
    app.close()


def subjects(w: MainWindow) -> list[str]:
    m = w.inbox.model_
    return [m.index(r, c).data() for r in range(m.rowCount()) for c in range(m.columnCount())]


def test_a_message_the_service_received_shows_in_the_desk_s_inbox_by_the_notice(
        qtbot: QtBot, desk_window: MainWindow, service: App, fakemail: FakeMail, heard: list) -> None:
    settle(qtbot, desk_window)
    desk_window.inbox_page.tag_filter.setCurrentIndex(desk_window.inbox_page.tag_filter.findData("all"))
    settle(qtbot, desk_window)
    assert "Can I move my visit?" not in subjects(desk_window)
    fakemail.deliver("practice", b"From: pat@example.com\r\nTo: practice@example.test\r\n"
                                 b"Subject: Can I move my visit?\r\nMessage-ID: <q1@p.example>\r\n\r\nThanks\r\n")
    assert service.send_receive_now()["received"] == 1  # the service's pass, on its own connections
    qtbot.wait_until(lambda: "Can I move my visit?" in subjects(desk_window), timeout=15000)
    assert ("new_mail", "messages") in heard and ("new_mail", None) not in heard  # a notice, not a poll
    assert not [h for h in heard if h[1] == "off the GUI thread"]  # the bridge handed each to the GUI thread


def test_send_receive_on_the_desk_is_carried_out_by_the_service(
        qtbot: QtBot, desk_window: MainWindow, service: App, fakemail: FakeMail, heard: list) -> None:
    service.compose(NewEmail("P001", subject="Your check-up", text="See you soon."))
    service.send_receive_now()
    rid = desk_window.app.compose(NewEmail("P005", subject="From the desk", text="Hello."))
    report = send_receive(qtbot, desk_window)
    assert report["errors"] == [] and desk_window.status_line.text().startswith("Sent ")
    assert service.outbox_item(rid).status.value == "sent"
    qtbot.wait_until(lambda: ("outbox_changed", "outbox") in heard, timeout=15000)
    assert len(fakemail.sent()) == 2


def test_reset_failed_on_the_desk_resets_the_selected_item(
        qtbot: QtBot, desk_window: MainWindow, service: App, fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "rcpt", "reply", code=550, text="No such mailbox")
    rids = [service.compose(NewEmail(p, subject=f"Will fail {p}", text="x")) for p in ("P001", "P005")]
    service.send_receive_now()
    fakemail.faults.clear()
    w = desk_window
    w.show_view("outbox")
    qtbot.wait_until(lambda: sum(w.outbox.id_at(r) in rids for r in range(w.outbox.model_.rowCount())) == 2,
                     timeout=15000)
    row = next(r for r in range(w.outbox.model_.rowCount()) if w.outbox.id_at(r) == rids[0])
    w.outbox.selectRow(row)
    reset = w.outbox_page.buttons["Reset Failed"]
    assert reset.isEnabled()
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert "tried again" in w.status_line.text()
    reset_one, other = (service.outbox_item(r).status.value for r in rids)
    assert reset_one != "failed" and other == "failed"  # ready, or already being sent again by the service


def test_restart_on_the_desk_restarts_the_service(
        qtbot: QtBot, desk_window: MainWindow, service: App, heard: list) -> None:
    def states() -> list[str]:
        return [h["state"] for h in service.heartbeat.record()["history"] if h["event"] == "state"]
    before = states()
    dialog = desk_window.open_service_dialog()
    qtbot.add_widget(dialog)
    qtbot.mouseClick(dialog.restart, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.isVisible(), timeout=60000)
    assert states()[len(before):] == ["stopped", "running"] and service.running
    qtbot.wait_until(lambda: ("service_state", "heartbeat") in heard, timeout=15000)
    settle(qtbot, desk_window)  # the light's read, on the jobs thread, shown
    assert desk_window.light.state == "running"


def test_reception_reads_tags_files_and_deletes_a_message_on_the_desk(
        qtbot: QtBot, desk_window: MainWindow, service: App, fakemail: FakeMail) -> None:
    """Opening a message marks it read; unread, a tag, filing and Delete follow: each is done by
    the desk itself (one row-locked transaction) while the service runs, and the service has it."""
    w = desk_window
    fakemail.deliver("practice", b"From: pat@example.com\r\nTo: practice@example.test\r\n"
                                 b"Subject: Insurance form\r\nMessage-ID: <q2@p.example>\r\n\r\nAttached soon\r\n")
    assert service.send_receive_now()["received"] == 1
    (rid,) = [m.id for m in service.inbox_messages(show_all=True)]
    w.inbox_page.tag_filter.setCurrentIndex(w.inbox_page.tag_filter.findData("all"))
    qtbot.wait_until(lambda: any(w.inbox.id_at(r) == rid for r in range(w.inbox.model_.rowCount())), timeout=15000)

    def select() -> None:
        w.inbox.selectRow(next(r for r in range(w.inbox.model_.rowCount()) if w.inbox.id_at(r) == rid))
    select()  # opened: marked read
    qtbot.wait_until(lambda: service.inbox_message(rid).read, timeout=15000)
    w.inbox_page.mark_selected_read(False)
    qtbot.wait_until(lambda: not service.inbox_message(rid).read, timeout=15000)
    w.inbox_page.set_tags([rid], ["Insurance"])
    qtbot.wait_until(lambda: service.inbox_message(rid).tags == ("Insurance",), timeout=15000)
    w.inbox_page.file_message(rid, patient_id="P001")
    qtbot.wait_until(lambda: service.inbox_message(rid).patient_id == "P001", timeout=15000)
    settle(qtbot, w)
    assert w.status_line.text().startswith('Filed "Insurance form" to '), w.status_line.text()
    qtbot.wait_until(lambda: any(w.inbox.id_at(r) == rid for r in range(w.inbox.model_.rowCount())), timeout=15000)
    select()
    w.inbox_page.delete_selected()
    qtbot.wait_until(lambda: service.inbox_message(rid).deleted, timeout=15000)
    settle(qtbot, w)
    assert "Could not" not in w.status_line.text(), w.status_line.text()
    events = [e["event"] for e in service.inbox_message(rid).timeline]
    assert events[-5:] == ["read", "unread", "tagged", "filed", "deleted"], events


def test_a_user_signs_in_with_their_pin_at_the_desk_by_the_dialog(
        qtbot: QtBot, desk_window: MainWindow, service: App) -> None:
    """The desk checks the PIN itself (#19): it was refused there as "open read-only"."""
    service.roles.add_user("Tess", "dentist", "2580")
    dialog = open_sign_in(qtbot, desk_window, "Tess")
    assert submit(qtbot, dialog, "0000").startswith("that name and PIN do not match")
    assert submit(qtbot, dialog, "2580") == ""
    qtbot.wait_until(lambda: not dialog.isVisible(), timeout=15000)
    assert desk_window.role.user == "Tess"
    assert desk_window.status_line.text().startswith("Signed in as Tess, dentist")
    assert service.roles.locked_until("Tess") is None


def test_the_desk_builds_the_patient_index_off_the_gui_thread(
        qtbot: QtBot, desk_window: MainWindow, service: App) -> None:
    """Issue 19 (a read-only desk): a patient the service added changes the patients' signature,
    so the desk's next search rebuilds its index; that rebuild (a second and more at 20,000
    patients) ran in refresh_patients on the GUI thread. Watched by a profile hook on the GUI
    thread alone: the build is seen to happen (the patient shows) and never there."""
    from engine.service.directory import Directory

    settle(qtbot, desk_window)
    service.add_patient({"title": "Ms", "first_name": "Zelda", "last_name": "Quinlan", "date_of_birth": "1990-01-02",
                         "email": "zelda.quinlan@patientmail.example", "mobile": "", "family_id": "",
                         "usual_provider_id": "", "preference": ""})
    built_on_gui: list[str] = []
    build = Directory._build.__code__

    def watch(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code is build:
            built_on_gui.append(threading.current_thread().name)

    desk_window.show_view("patients")
    import sys
    sys.setprofile(watch)  # this thread only: the GUI thread
    try:
        qtbot.keyClicks(desk_window.patient_search, "quinlan")
        settle(qtbot, desk_window)
    finally:
        sys.setprofile(None)
    m = desk_window.patients.model_
    assert [m.text(r, 0) for r in range(m.rowCount())] == ["Ms Zelda Quinlan"]
    assert built_on_gui == []
