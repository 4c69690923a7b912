"""Issue 19: the booking dialog (Book... and Move..., in a patient's file and on the day list) and
the reminder rules dialog listed the appointment types in use by reading every appointment on
the GUI thread as they opened. Now the types are read on a background thread and added to the
type box when they come; what reception typed meanwhile stays. Watched by a profile hook on the
GUI thread alone: the appointments collection reads every record (all, find, ids; not find_by,
the move's look-up of its appointment by id) never there while the dialogs open and fill, and the
types are seen to arrive."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.appointments import SlotDialog
from kiosk.main_window import MainWindow


@contextmanager
def every_appointment_read_on_this_thread(window: MainWindow) -> Iterator[list[str]]:
    coll = window.app.reminders.appointments
    scans = {type(coll).all.__code__, type(coll).find.__code__, type(coll).ids.__code__}
    seen: list[str] = []

    def watch(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code in scans and frame.f_locals.get("self") is coll and \
                frame.f_back.f_code.co_name != "find_by":  # TinyDB's look-up by id: copies the one found
            seen.append(frame.f_code.co_name)

    sys.setprofile(watch)  # this thread only: the GUI thread
    try:
        yield seen
    finally:
        sys.setprofile(None)


def test_the_booking_and_reminder_rules_dialogs_read_the_types_off_the_gui_thread(qtbot: QtBot,
                                                                               window: MainWindow) -> None:
    aid = window.reminders.book("P033", f"{date.today() + timedelta(days=9)}T10:00", 30, window.app.now(),
                                appointment_type="extraction")
    patient = window.app.directory.require("patients", "P033")
    with every_appointment_read_on_this_thread(window) as on_gui:
        book = SlotDialog(window.app, patient, "Book an appointment", parent=window)
        qtbot.add_widget(book)
        book.type.setFocus()
        qtbot.keyClicks(book.type, "Hyg")  # typed before the types come: kept
        qtbot.wait_until(lambda: book.type.findData("extraction") >= 0, timeout=15000)
        assert book.type.currentText() == "Hyg"
        move = SlotDialog(window.app, patient, "Move the appointment", window.reminders.get(aid), window)
        qtbot.add_widget(move)
        qtbot.wait_until(lambda: move.type.findData("extraction") >= 0, timeout=15000)
        assert move.type.currentText() == "extraction" and not move.type.isEnabled()
        window.show_view("templates")
        qtbot.mouseClick(window.template_editor.actions["Reminder rules..."], Qt.MouseButton.LeftButton)
        rules = window.template_editor.rules_dialog
        qtbot.add_widget(rules)
        qtbot.wait_until(lambda: rules.form.type.findData("extraction") >= 0, timeout=15000)
    assert on_gui == []
