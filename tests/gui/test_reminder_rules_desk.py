"""Reminder rules at the desk, by clicks and keys: added with a type filter (the engine's words
when a field is wrong, nothing kept), deleted after a question, read but not changed by a group
without the templates permission; and a booking too late for a rule says so under the list."""

from __future__ import annotations

from datetime import date, timedelta

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from kiosk.reminder_rules import ReminderRulesDialog
from tests.gui.helpers import answer, settle
from tests.gui.test_security_groups import tick_trial


def open_rules(qtbot: QtBot, w: MainWindow) -> ReminderRulesDialog:
    w.show_view("templates")
    qtbot.mouseClick(w.template_editor.actions["Reminder rules..."], Qt.MouseButton.LeftButton)
    dialog = w.template_editor.rules_dialog
    qtbot.add_widget(dialog)
    return dialog


def type_into(qtbot: QtBot, widget, text: str) -> None:  # noqa: ANN001 - a line edit, spin box or editable combo
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def test_rule_added_with_a_type_refused_when_wrong_and_deleted_after_asking(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_rules(qtbot, window)
    form = dialog.form
    assert form.channel.currentData() == "sms" and form.template.currentData() == "APPTSMS"  # texts' templates only
    type_into(qtbot, form.type, "check up")
    qtbot.mouseClick(dialog.buttons["Add rule"], Qt.MouseButton.LeftButton)
    assert "appointment_type" in dialog.problem.text() and window.app.reminder_rules.list() == []
    type_into(qtbot, form.type, "Hygiene")
    type_into(qtbot, form.days, "3")
    type_into(qtbot, form.at, "09:30")
    form.provider.setCurrentIndex(form.provider.findData("HYG1"))
    qtbot.mouseClick(dialog.buttons["Add rule"], Qt.MouseButton.LeftButton)
    (rule,) = window.app.reminder_rules.list()
    assert (rule.channel, rule.days, rule.at.isoformat(), rule.appointment_type, rule.provider_id) == (
        "sms", 3, "09:30:00", "hygiene", "HYG1"), dialog.problem.text()
    assert dialog.problem.text() == "" and "Rule R1 added: SMS 3 days before at 09:30" in dialog.done_line.text()
    assert dialog.table.model().rowCount() == 1
    dialog.table.selectRow(0)
    asked: list[str] = []
    answer("No", asked)
    qtbot.mouseClick(dialog.buttons["Delete rule..."], Qt.MouseButton.LeftButton)
    assert len(window.app.reminder_rules.list()) == 1 and "Delete rule R1" in asked[0]
    answer("Yes")
    qtbot.mouseClick(dialog.buttons["Delete rule..."], Qt.MouseButton.LeftButton)
    assert window.app.reminder_rules.list() == [] and dialog.table.model().rowCount() == 0


def test_a_group_without_the_templates_permission_reads_the_rules_only(qtbot: QtBot, window: MainWindow) -> None:
    window.app.reminder_rules.add({"channel": "email", "days": 7, "template": "APPTREM"})
    tick_trial(qtbot, window, set())
    dialog = open_rules(qtbot, window)
    assert dialog.table.model().rowCount() == 1
    assert not dialog.buttons["Add rule"].isEnabled() and not dialog.buttons["Delete rule..."].isEnabled()
    assert not dialog.add() and len(window.app.reminder_rules.list()) == 1
    assert "allowed to edit templates" in dialog.done_line.text()


def test_a_booking_too_late_for_a_rule_is_told_in_the_patient_file(qtbot: QtBot, window: MainWindow) -> None:
    window.app.reminder_rules.add({"channel": "sms", "days": 2, "at": "10:00", "template": "APPTSMS",
                                   "appointment_type": "hygiene"})
    pfile = window.open_patient("P033")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    tomorrow = f"{date.today() + timedelta(days=1)}T15:00"
    assert panel.book(tomorrow, 30, "HYG1", "Riverside Surgery", "checkup")
    settle(qtbot, window)  # booked on the jobs thread
    assert panel.notice.text() == ""  # the rule is for hygiene visits only
    assert panel.book(tomorrow.replace("T15", "T16"), 30, "HYG1", "Riverside Surgery", "hygiene")
    settle(qtbot, window)
    assert panel.notice.text().startswith("Reminder rule R1 (SMS 2 days before at 10:00 (hygiene appointments)) "
                                          "will not send for this appointment")
    types = {panel.table.model().index(r, 6).data() for r in range(panel.table.model().rowCount())}
    assert {"checkup", "hygiene"} <= types


def test_the_booking_dialog_takes_a_type_typed_and_keeps_it_on_a_move(qtbot: QtBot, window: MainWindow) -> None:
    from PyQt6.QtCore import QDateTime, QTimer
    from PyQt6.QtWidgets import QApplication

    from kiosk.appointments import SlotDialog

    pfile = window.open_patient("P033")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    seen: list[SlotDialog] = []

    def fill(kind: str | None) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SlotDialog):
            QTimer.singleShot(10, lambda: fill(kind))
            return
        seen.append(dialog)
        if kind is not None:
            dialog.start.setDateTime(QDateTime.currentDateTime().addDays(10))
            dialog.type.setFocus()
            qtbot.keyClicks(dialog.type, kind)
        else:
            dialog.start.setDateTime(QDateTime.currentDateTime().addDays(12))
        qtbot.keyClick(dialog, Qt.Key.Key_Return)

    QTimer.singleShot(0, lambda: fill("Extraction"))
    qtbot.mouseClick(next(b for b in panel.findChildren(type(window.template_editor.save)) if b.text() == "Book..."),
                     Qt.MouseButton.LeftButton)
    settle(qtbot, window)  # booked on the jobs thread
    (appt,) = [a for a in window.reminders.for_patient("P033") if a.get("type") == "extraction"]
    assert panel.problem.text() == ""
    panel.table.selectRow(next(r for r in range(panel.table.model().rowCount())
                               if panel.table.id_at(r) == appt["id"]))
    QTimer.singleShot(0, lambda: fill(None))
    panel.ask_move()
    settle(qtbot, window)
    assert not seen[1].type.isEnabled() and seen[1].type.currentText() == "extraction"
    moved = window.reminders.get(appt["id"])
    assert moved["version"] == 2 and moved["type"] == "extraction"


def test_a_move_on_the_day_list_too_late_for_a_rule_is_said_on_the_status_line(qtbot: QtBot,
                                                                             window: MainWindow) -> None:
    window.app.reminder_rules.add({"channel": "email", "days": 7, "template": "APPTREM"})
    aid = window.reminders.book("P033", f"{date.today() + timedelta(days=20)}T11:00", 30, window.app.now())
    assert window.reminders.late_reminders(aid, window.app.now()) == []
    assert window.day_list.move(aid, f"{date.today() + timedelta(days=2)}T11:00")
    settle(qtbot, window)  # moved on the jobs thread
    assert window.status_line.text().startswith("Appointment moved. Reminder rule R1 (email 7 days before) will not send")
