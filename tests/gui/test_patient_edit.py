"""Adding and correcting a patient at the desk (#19 item 8): the import's checks, a mobile made
E.164 or refused in words, a hidden line end refused, a corrected email clearing the bounce (#20)."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timezone
from typing import Any

from PyQt6.QtCore import QDate, Qt
from PyQt6.QtWidgets import QDialogButtonBox, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from kiosk.patient_edit import PatientEditDialog
from tests.gui.helpers import settle


def click_save(qtbot: QtBot, dialog: PatientEditDialog) -> None:
    """Save clicked, and its answer from the jobs thread shown."""
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.saving, timeout=15000)


def button(widget, text: str) -> QPushButton:
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def test_a_patient_added_from_the_patients_tab(qtbot: QtBot, window: MainWindow) -> None:
    window.tabs.setCurrentIndex(3)
    qtbot.mouseClick(button(window.tabs.currentWidget(), "Add patient..."), Qt.MouseButton.LeftButton)
    dialog = window.dialog
    assert isinstance(dialog, PatientEditDialog)
    qtbot.keyClicks(dialog.title_, "Ms")
    qtbot.keyClicks(dialog.first, "Nadia")
    qtbot.keyClicks(dialog.last, "Okafor")
    dialog.known_birth.setChecked(True)
    dialog.birth.setDate(QDate(1985, 6, 2))
    qtbot.keyClicks(dialog.email, "nadia.okafor@patientmail.example")
    qtbot.keyClicks(dialog.mobile, "07700 9001")  # too short
    click_save(qtbot, dialog)
    assert dialog.isVisible() and "Mobile" in dialog.problem.text()
    assert not window.app.patients("Okafor")
    dialog.mobile.clear()
    qtbot.keyClicks(dialog.mobile, "07700 900777")
    dialog.provider.setCurrentIndex(1)
    click_save(qtbot, dialog)
    assert not dialog.isVisible()
    (p,) = window.app.patients("Okafor")
    assert (p.name, p.mobile, p.date_of_birth) == ("Ms Nadia Okafor", "+447700900777", "1985-06-02")
    assert p.usual_provider_id == dialog.provider.itemData(1)
    assert "Okafor" in window.status_line.text()
    settle(qtbot, window)  # the Patients view is read again on the jobs thread
    names = [window.patients.model_.text(r, 0) for r in range(window.patients.model_.rowCount())]
    assert "Ms Nadia Okafor" in names


def test_a_name_with_a_hidden_line_end_is_refused(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.add_patient()
    qtbot.add_widget(dialog)
    dialog.first.setText("Eve\u2028Bcc: x@evil.example")
    dialog.last.setText("Smith")
    click_save(qtbot, dialog)
    assert dialog.isVisible() and "First name" in dialog.problem.text()
    assert not window.app.patients("Smith Eve")


def test_a_patient_edited_from_the_file_and_a_corrected_email_clears_the_bounce(qtbot: QtBot,
                                                                               window: MainWindow) -> None:
    d = window.app.directory
    d.mark_address_bad("angus.macleod@patientmail.example", "the mailbox does not exist", 1,
                       datetime.now(timezone.utc))
    file = window.open_patient("P033")
    qtbot.add_widget(file)
    qtbot.mouseClick(file.edit, Qt.MouseButton.LeftButton)
    dialog = file.last_edit
    assert dialog.first.text() == "Angus" and dialog.known_birth.isChecked()
    dialog.mobile.setText("not a number")
    click_save(qtbot, dialog)
    assert "Mobile" in dialog.problem.text()
    assert d.require("patients", "P033")["mobile"] == "+447700900034"
    dialog.mobile.setText("+44 7700 900035")
    dialog.email.setText("angus.m@patientmail.example")
    click_save(qtbot, dialog)
    rec = d.require("patients", "P033")
    assert (rec["mobile"], rec["email"], rec.get("email_bad")) == ("+447700900035", "angus.m@patientmail.example", None)
    shown = [w.text() for w in file.findChildren(type(file.heading))]
    assert "angus.m@patientmail.example" in shown


def test_a_mobile_and_times_as_reception_reads_them(qtbot: QtBot, window: MainWindow) -> None:
    """The number as the practice dials it, not E.164, in the Patients list, the file and the edit
    form (saved back unchanged); the file's appointments and history as the tables say times."""
    window.app.mass_email("RECALL", ["P033"])  # an email in his history
    window.tabs.setCurrentIndex(3)
    qtbot.keyClicks(window.patient_search, "Angus")
    qtbot.waitUntil(lambda: "P033" in [window.patients.id_at(r) for r in range(window.patients.model_.rowCount())])
    row = [window.patients.id_at(r) for r in range(window.patients.model_.rowCount())].index("P033")
    assert window.patients.model_.text(row, 2) == "07700 900034"
    file = window.open_patient("P033")
    qtbot.add_widget(file)
    shown = [w.text() for w in file.findChildren(type(file.heading))]
    assert "07700 900034" in shown and "+447700900034" not in shown
    starts = [file.appointments.table.model_.text(r, 0) for r in range(file.appointments.table.model_.rowCount())]
    history = [file.history.model_.text(r, 0) for r in range(file.history.model_.rowCount())]
    assert starts and history, "the demo's appointment and the recall email"
    for text in starts + history:
        assert not text[:4].isdigit(), f"{text!r}: a stored time, not the practice's short words"
    qtbot.mouseClick(file.edit, Qt.MouseButton.LeftButton)
    dialog = file.last_edit
    assert dialog.mobile.text() == "07700 900034"
    click_save(qtbot, dialog)
    assert window.app.directory.require("patients", "P033")["mobile"] == "+447700900034"


def test_a_save_runs_on_the_jobs_thread_saying_saving_and_taking_one_click(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19: the save's check read every patient twice (0.5-0.8 s at 20,000) on the GUI
    thread. Now Save says "Saving…" and takes no second click while the desk's jobs thread
    saves (held here behind a job that waits), and a profile hook on the GUI thread alone sees
    Directory.update and add_patient never run there; the saves are seen to happen."""
    from engine.service.directory import Directory

    watched = {Directory.update.__code__, Directory.add_patient.__code__}
    on_gui: list[str] = []

    def watch(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code in watched:
            on_gui.append(frame.f_code.co_name)

    file = window.open_patient("P033")
    qtbot.add_widget(file)
    dialog = file.edit_details()
    dialog.mobile.setText("+44 7700 900036")
    gate = threading.Event()
    window.jobs.run(lambda: gate.wait(15))  # the jobs thread busy: the save waits its turn
    sys.setprofile(watch)  # this thread only: the GUI thread
    try:
        click_save_now = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(click_save_now, Qt.MouseButton.LeftButton)
        assert dialog.saving and click_save_now.text() == "Saving…" and not click_save_now.isEnabled()
        qtbot.mouseClick(click_save_now, Qt.MouseButton.LeftButton)
        assert not dialog.save() and dialog.isVisible()  # a second save is refused while the first runs
        gate.set()
        qtbot.wait_until(lambda: not dialog.isVisible(), timeout=15000)
        added = window.add_patient()
        qtbot.add_widget(added)
        added.first.setText("Noor")
        added.last.setText("Haddad")
        click_save(qtbot, added)
        assert not added.isVisible(), added.problem.text()
    finally:
        sys.setprofile(None)
    assert window.app.directory.require("patients", "P033")["mobile"] == "+447700900036"
    assert [p.name for p in window.app.patients("Haddad")] == ["Noor Haddad"]
    assert click_save_now.isEnabled() and on_gui == []
