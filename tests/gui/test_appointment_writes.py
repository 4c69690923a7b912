"""Booking, moving and cancelling write on the desk's jobs thread (issue 19 "a kiosk click never
waits": the appointments file rewritten and fsynced, the outbox's confirmation or cancellation
and the late-reminder check took ~50 ms at 40,000 appointments, 330 ms for the first, on the
GUI thread). While one is written its buttons take no second click."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

from PyQt6.QtCore import QDate, Qt, QTimer
from PyQt6.QtWidgets import QApplication, QDialogButtonBox, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.appointments import SlotDialog
from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, settle

WRITES = ("book", "move", "cancel", "late_reminders")


def record_threads(window: MainWindow) -> list[tuple[str, str]]:
    """Each call of the reminders' writes (and the late check) from now on, with its thread's name."""
    calls: list[tuple[str, str]] = []
    reminders = window.app.reminders
    for name in WRITES:
        def wrapped(*args: Any, real: Any = getattr(reminders, name), name: str = name, **kwargs: Any) -> Any:
            calls.append((name, threading.current_thread().name))
            return real(*args, **kwargs)
        setattr(reminders, name, wrapped)  # the instance's: the panel and the day list call through it
    return calls


def button(widget: Any, text: str) -> QPushButton:
    (b,) = [b for b in widget.findChildren(QPushButton) if b.text() == text]
    return b


def select(table: Any, aid: str) -> None:
    table.selectRow([table.id_at(n) for n in range(table.model_.rowCount())].index(aid))


def ok_every_slot_dialog(qtbot: QtBot, seen: list[SlotDialog], stop: list[bool]) -> None:
    """Clicks OK twice in each booking dialog shown (a double click), until `stop` is set."""
    def look() -> None:
        if stop:
            return
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, SlotDialog) and dialog not in seen:
            seen.append(dialog)
            ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
            qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
            qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        QTimer.singleShot(10, look)
    QTimer.singleShot(0, look)


def test_book_move_and_cancel_are_written_off_the_gui_thread(qtbot: QtBot, window: MainWindow) -> None:
    """The patient file's book, move and cancel and the day list's move and cancel: each write
    and its late-reminder check run on the jobs thread; what was done is shown after."""
    day = date.today() + timedelta(days=8)
    on_list = window.reminders.book("P033", f"{day}T09:00", 30, window.app.now())
    calls = record_threads(window)
    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    assert panel.book(f"{day}T10:00", 30, "HYG1", "Riverside Surgery")
    settle(qtbot, window)
    (aid,) = [r["id"] for r in window.reminders.for_patient("P010") if r.get("source") == "reception"]
    assert aid in [panel.table.id_at(n) for n in range(panel.table.model_.rowCount())]  # the file read again
    select(panel.table, aid)
    assert panel.move(aid, f"{day}T14:00")
    settle(qtbot, window)
    assert window.reminders.get(aid)["version"] == 2
    select(panel.table, aid)
    answer("Yes")
    assert panel.cancel()
    settle(qtbot, window)
    assert window.reminders.get(aid)["status"] == "cancelled" and panel.problem.text() == ""
    assert "cancelled" in [panel.table.model_.text(n, 4) for n in range(panel.table.model_.rowCount())]

    window.show_view("appointments")
    window.day_list.day.setDate(QDate(day.year, day.month, day.day))
    settle(qtbot, window)
    assert window.day_list.move(on_list, f"{day}T16:00")
    settle(qtbot, window)
    assert window.status_line.text().startswith("Appointment moved")
    select(window.day_list.table, on_list)
    answer("Yes")
    assert window.day_list.cancel()
    settle(qtbot, window)
    assert window.reminders.get(on_list)["status"] == "cancelled"
    assert window.status_line.text() == "Mr Angus MacLeod's appointment cancelled."
    assert {name for name, _ in calls} == set(WRITES)
    assert [c for c in calls if c[1] == "MainThread"] == []


def test_a_double_click_on_books_ok_books_once(qtbot: QtBot, window: MainWindow) -> None:
    """OK double-clicked, and the click after landing on Book... while the booking is written
    (the jobs thread held here behind a job that waits): one appointment, one dialog."""
    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    before = {r["id"] for r in window.reminders.for_patient("P010")}
    book = button(panel, "Book...")
    seen: list[SlotDialog] = []
    stop: list[bool] = []
    gate = threading.Event()
    window.jobs.run(lambda: gate.wait(15))  # the jobs thread busy: the booking waits its turn
    ok_every_slot_dialog(qtbot, seen, stop)
    try:
        qtbot.mouseClick(book, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(book, Qt.MouseButton.LeftButton)  # a dialog it opened would be OK'd too
        panel.ask_book()
        assert not book.isEnabled() and book.text() == "Booking…"
        assert not button(panel, "Move...").isEnabled() and not button(panel, "Cancel appointment").isEnabled()
    finally:
        gate.set()
        settle(qtbot, window)
        stop.append(True)
    assert len(seen) == 1
    assert len([r for r in window.reminders.for_patient("P010") if r["id"] not in before]) == 1
    assert book.isEnabled() and book.text() == "Book..."


def test_a_day_list_move_takes_one_click_while_it_is_written(qtbot: QtBot, window: MainWindow) -> None:
    day = date.today() + timedelta(days=8)
    aid = window.reminders.book("P033", f"{day}T09:00", 30, window.app.now())
    days = window.day_list
    gate = threading.Event()
    window.jobs.run(lambda: gate.wait(15))
    try:
        assert days.move(aid, f"{day}T10:00")
        assert not days.buttons["Move..."].isEnabled() and not days.buttons["Cancel appointment..."].isEnabled()
        assert not days.move(aid, f"{day}T11:00")  # refused while the first is written
    finally:
        gate.set()
        settle(qtbot, window)
    assert window.reminders.get(aid)["version"] == 2 and "T10:00" in window.reminders.get(aid)["start"]
    assert days.buttons["Move..."].isEnabled() and days.buttons["Cancel appointment..."].isEnabled()


def test_a_move_refused_is_said_in_the_practices_words(qtbot: QtBot, window: MainWindow) -> None:
    day = date.today() + timedelta(days=8)
    aid = window.reminders.book("P033", f"{day}T09:00", 30, window.app.now())
    window.reminders.cancel(aid, window.app.now())
    pfile = window.open_patient("P033")
    qtbot.add_widget(pfile)
    assert pfile.appointments.move(aid, f"{day}T10:00")
    settle(qtbot, window)
    assert pfile.appointments.problem.text().endswith("Book a new appointment instead.")
    assert window.day_list.move(aid, f"{day}T10:00")
    settle(qtbot, window)
    assert window.status_line.text().endswith("Book a new appointment instead.")


def test_an_edited_patient_is_shown_from_the_saves_answer(qtbot: QtBot, window: MainWindow) -> None:
    """PatientFile._edited read the patient again by code on the GUI thread; the save answers it."""
    file = window.open_patient("P033")
    qtbot.add_widget(file)
    dialog = file.edit_details()
    calls: list[str] = []
    directory = window.app.directory
    real = directory.require
    directory.require = lambda kind, key: (calls.append(threading.current_thread().name), real(kind, key))[1]
    dialog.email.setText("angus.new@patientmail.example")
    dialog.first.setText("Aonghas")
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.isVisible(), timeout=15000)
    settle(qtbot, window)
    assert calls and "MainThread" not in calls
    shown = [w.text() for w in file.findChildren(type(file.heading))]
    assert "angus.new@patientmail.example" in shown and file.heading.text() == "Mr Aonghas MacLeod"
    assert file.windowTitle() == "Mr Aonghas MacLeod"


def test_a_new_family_and_provider_are_shown_after_an_edit(qtbot: QtBot, window: MainWindow) -> None:
    """A family code or usual provider changed: the file's Family and Usual provider follow (read
    on the jobs thread)."""
    file = window.open_patient("P033")
    qtbot.add_widget(file)
    dialog = file.edit_details()
    dialog.family.setText("F01")
    dialog.provider.setCurrentIndex(dialog.provider.findData("DR1"))
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.isVisible(), timeout=15000)
    settle(qtbot, window)
    shown = [w.text() for w in file.findChildren(type(file.heading))]
    assert "Dr Amara Okafor" in shown
    assert any("Priya Patel" in text and "Dev Patel" in text for text in shown), shown
