"""The day list (#19 item 8, #20 items 3-4): a day's appointments with names, the confirmation's
state and the calendar's answer (outdated once the time moved), cancelling asked first, the
day emailed as PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PyQt6.QtCore import QDate, Qt
from PyQt6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive, settle
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail


def shown(window: MainWindow) -> None:
    """The day list is read on the jobs thread: until what was asked is shown."""
    for _turn in range(3000):  # as qtbot.waitUntil: events run meanwhile, up to ~15 s
        if window.jobs.idle():
            return
        QTest.qWait(5)
    pytest.fail("the day list was never read")


def column(window: MainWindow, c: int) -> list[str]:
    shown(window)
    m = window.day_list.table.model_
    return [m.text(r, c) for r in range(m.rowCount())]


def row(window: MainWindow, aid: str) -> list[str]:
    """The cells of the appointment's row."""
    shown(window)
    m = window.day_list.table.model_
    (r,) = [r for r in range(m.rowCount()) if window.day_list.table.id_at(r) == aid]
    return [m.text(r, c) for c in range(m.columnCount())]


def tomorrow(window: MainWindow) -> QDate:
    day = (window.app.now().astimezone(window.app.zone()) + timedelta(days=1)).date()
    return QDate(day.year, day.month, day.day)


def test_the_day_list_shows_confirmation_and_calendar_answers(qtbot: QtBot, window: MainWindow,
                                                              fakemail: FakeMail) -> None:
    from tests.integration.test_calendar_answers import answer as calendar_answer, invitation

    practice = window.app.engine.practice
    practice.settings.set_many({"reminders.prompt_before_send": "false", "reminders.confirmation_delay_minutes": "0"})
    configure_incoming(practice, fakemail, "imap")
    day = tomorrow(window)
    aid = window.reminders.book("P033", f"{day.toString('yyyy-MM-dd')}T15:00", 30, window.app.now())
    window.tabs.setCurrentWidget(window.day_list)
    window.day_list.day.setDate(day)
    assert row(window, aid)[:2] == ["15:00 (30 min)", "Mr Angus MacLeod"]
    assert row(window, aid)[5] == "waiting to go"
    assert all(not name.startswith("P0") for name in column(window, 1))  # names, not codes
    send_receive(qtbot, window)
    fakemail.deliver("practice", calendar_answer(invitation(fakemail.sent()[-1]), "ACCEPTED"))
    send_receive(qtbot, window)
    window.day_list.refresh()
    assert row(window, aid)[5:] == ["sent", "accepted"]
    window.day_list.move(aid, f"{day.toString('yyyy-MM-dd')}T16:00")  # the answer was to the old time
    settle(qtbot, window)  # written on the jobs thread, then the day read again
    assert row(window, aid)[0] == "16:00 (30 min)" and row(window, aid)[6] == "outdated answer: accepted"
    window.day_list.go(-1)
    shown(window)
    assert aid not in [window.day_list.table.id_at(r) for r in range(window.day_list.table.model_.rowCount())]


def test_cancelling_from_the_day_list_asks_first(qtbot: QtBot, window: MainWindow) -> None:
    day = tomorrow(window)
    aid = window.reminders.book("P033", f"{day.toString('yyyy-MM-dd')}T11:00", 30, window.app.now())
    window.day_list.day.setDate(day)
    shown(window)
    ids = [window.day_list.table.id_at(r) for r in range(window.day_list.table.model_.rowCount())]
    window.day_list.table.selectRow(ids.index(aid))
    asked: list[str] = []
    answer("No", asked)
    assert not window.day_list.cancel()
    assert "A cancellation email will be queued" in asked[0] and window.reminders.get(aid)["status"] == "booked"
    answer("Yes")
    assert window.day_list.cancel()
    settle(qtbot, window)  # written on the jobs thread
    assert window.reminders.get(aid)["status"] == "cancelled"
    assert "cancelled" in window.status_line.text()


def test_the_day_list_emailed_as_pdf(qtbot: QtBot, window: MainWindow) -> None:
    day = tomorrow(window)
    window.reminders.book("P033", f"{day.toString('yyyy-MM-dd')}T09:30", 30, window.app.now())
    window.day_list.day.setDate(day)
    shown(window)
    qtbot.mouseClick(window.day_list.buttons["Email as PDF..."], Qt.MouseButton.LeftButton)
    dialog = window.last_compose
    (pdf,) = [f for f in dialog.files.files if f.content_type == "application/pdf"]
    assert pdf.filename == "appointments.pdf" and pdf.data.startswith(b"%PDF")
    assert "Angus MacLeod" in window.day_list.document().toPlainText()


def test_the_recall_list_emailed_as_pdf(qtbot: QtBot, window: MainWindow) -> None:
    from engine.service.recalls import Recalls

    Recalls(window.app.practice, window.app.outbox).import_rows([(1, {"patient_id": "P033", "type": "hygiene",
                                                                       "interval_months": "6", "due_date": "2027-01-15"})])
    qtbot.mouseClick(window.day_list.buttons["Recall list..."], Qt.MouseButton.LeftButton)
    recalls = window.day_list.last_recalls
    qtbot.add_widget(recalls)
    assert recalls.table.model_.text(0, 1) == "Mr Angus MacLeod" and recalls.table.model_.text(0, 0) == "15 Jan 2027"
    qtbot.mouseClick(recalls.buttons["Email as PDF..."], Qt.MouseButton.LeftButton)
    (pdf,) = [f for f in window.last_compose.files.files if f.content_type == "application/pdf"]
    assert pdf.filename == "recall-list.pdf" and pdf.data.startswith(b"%PDF")


def test_a_runbook_page_emailed_as_pdf(qtbot: QtBot, window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.admin_page)
    qtbot.mouseClick(window.admin_page.email_pdf, Qt.MouseButton.LeftButton)
    (pdf,) = [f for f in window.last_compose.files.files if f.content_type == "application/pdf"]
    assert pdf.filename.startswith("runbook-") and pdf.filename.endswith(".pdf") and pdf.data.startswith(b"%PDF")


def test_an_appointment_confirmed_by_text_says_so(qtbot: QtBot, window: MainWindow) -> None:
    """'C' to a reminder marks the appointment confirmed (engine/service/sms.py); the day list shows it."""
    day = tomorrow(window)
    aid = window.reminders.book("P033", f"{day.toString('yyyy-MM-dd')}T10:15", 30, window.app.now())
    appt = window.reminders.get(aid)
    window.reminders.appointments.update(appt["_rid"], {"confirmed": True, "confirmed_at": "2026-11-30T09:00:00+00:00"})
    window.day_list.day.setDate(day)
    window.day_list.refresh()
    assert row(window, aid)[5] == "confirmed by the patient"


def test_the_day_list_says_why_there_is_no_confirmation_or_answer_and_what_to_do(
        qtbot: QtBot, window: MainWindow) -> None:
    """#19: 'Confirmation: none' and 'Calendar: -' said nothing reception can act on. Each row says
    why there is none and what to do; the demo's appointment types are shown."""
    practice = window.app.engine.practice
    window.show_view("appointments")
    days = window.day_list
    shown(window)
    demo = [days.table.id_at(r) for r in range(days.table.model_.rowCount())]
    assert demo, "the demo has appointments today"
    assert set(column(window, 3)) <= {"hygiene", "checkup", "treatment"} and "" not in column(window, 3)
    for aid in demo:  # imported from the practice's list: nothing was sent
        assert row(window, aid)[5:] == ["none (imported): phone to confirm", "no invitation sent"]
    practice.settings.set_many({"reminders.prompt_before_send": "false", "reminders.confirmation_delay_minutes": "0",
                                "reminders.confirmation_template": ""})
    day = tomorrow(window).toString("yyyy-MM-dd")
    off = window.reminders.book("P031", f"{day}T11:00", 30, window.app.now())
    qtbot.mouseClick(_button(days, "Next >"), Qt.MouseButton.LeftButton)
    assert row(window, off)[5:] == ["none (automatic confirmations off): phone to confirm", "no invitation sent"]
    practice.settings.set_many({"reminders.confirmation_template": "APPTCONF"})
    booked = window.reminders.book("P033", f"{day}T09:00", 30, window.app.now())
    practice.directory.update("patients", "P030", {"email": ""})
    unreachable = window.reminders.book("P030", f"{day}T12:00", 30, window.app.now())
    cancelled = window.reminders.book("P029", f"{day}T13:00", 30, window.app.now())
    window.reminders.cancel(cancelled, window.app.now())
    days.refresh()
    assert row(window, booked)[5:] == ["waiting to go", "invitation not sent yet"]
    assert row(window, off)[5:] == ["none (not sent when booked): phone to confirm", "no invitation sent"]
    assert row(window, unreachable)[5:] == ["none (no email address): phone to confirm", "no invitation sent"]
    assert row(window, cancelled)[4:] == ["cancelled", "not needed (cancelled)", ""]
    send_receive(qtbot, window)
    days.refresh()
    assert row(window, booked)[5:] == ["sent", "no answer yet"]
    practice.settings.set_many({"reminders.include_ical": "false"})
    days.refresh()
    assert row(window, booked)[5:] == ["sent", "none (calendar invitations off)"]


def _button(days: object, text: str) -> object:
    from PyQt6.QtWidgets import QPushButton

    (b,) = [b for b in days.findChildren(QPushButton) if b.text() == text]
    return b


def test_the_day_is_read_off_the_gui_thread(qtbot: QtBot, window: MainWindow) -> None:
    """Every appointment and outbox item was read on the GUI thread at each day changed (~0.5 s
    at 40,000 appointments): now on the jobs thread, the rows shown when read."""
    import threading

    threads: list[str] = []
    read = window.app.appointments_on
    window.app.appointments_on = lambda day: (threads.append(threading.current_thread().name), read(day))[1]
    aid = window.reminders.book("P033", f"{tomorrow(window).toString('yyyy-MM-dd')}T15:00", 30, window.app.now())
    window.show_view("appointments")
    qtbot.mouseClick(window.day_list.buttons.get("Next >") or next(
        b for b in window.day_list.findChildren(type(window.day_list.buttons["Move..."])) if b.text() == "Next >"),
        Qt.MouseButton.LeftButton)
    assert row(window, aid)[1] == "Mr Angus MacLeod"
    assert threads and "MainThread" not in threads
