"""The kiosk driven by clicks and keys against the fake servers (offscreen)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tests.integration.helpers import draft
from tools.fakemail import FakeMail


def test_send_receive_moves_mail_both_ways(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    window.app.engine.outbox.add_draft(draft(subject="From the kiosk"), window.app.engine.clock.now())
    fakemail.deliver("practice", b"From: patel.family@mailhome.example\r\nSubject: Family question\r\n"
                                 b"Message-ID: <k1@x>\r\n\r\nhello\r\n")
    window.refresh_outbox()
    assert window.outbox.model_.text(0, 1) == "ready"
    report = send_receive(qtbot, window)
    assert (report["sent"], report["received"]) == (1, 1)
    assert window.outbox.model_.text(0, 1) == "sent" and len(fakemail.sent()) == 1
    assert window.inbox.model_.rowCount() == 1 and "Priya, " in window.inbox.model_.text(0, 4)  # by name (#19)
    assert "new message" in window.new_mail.text()
    # file it to the first candidate, as reception would
    window.inbox_page.file_message(window.inbox.id_at(0), "P003")
    settle(qtbot, window)
    assert window.inbox.model_.rowCount() == 0  # filed mail leaves the default view


def test_failing_light_and_restart_from_the_dialog(qtbot: QtBot, window: MainWindow, practice: Practice,
                                                   fakemail: FakeMail) -> None:
    assert window.light.state == "not_set_up"  # saved but never tested: grey, not green (issue 14, finding 9)
    fakemail.faults.add("smtp", "auth", "reject")
    window.app.engine.outbox.add_draft(draft(), window.app.engine.clock.now())
    send_receive(qtbot, window)
    qtbot.wait_until(lambda: window.light.state == "failing", timeout=5000)
    assert "password" in window.light.toolTip()
    fakemail.faults.clear()
    dialog = window.open_service_dialog()
    assert "password" in dialog.hint.text()
    qtbot.mouseClick(dialog.restart, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.isVisible(), timeout=10000)
    report = send_receive(qtbot, window)
    assert report["sent"] == 1
    qtbot.wait_until(lambda: window.light.state == "running", timeout=5000)


def test_confidentiality_refusal_is_shown_before_send(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.open_compose("P001")
    qtbot.add_widget(dialog)
    assert dialog.send.isEnabled()
    qtbot.keyClicks(dialog.cc, "angus.macleod@patientmail.example")  # another family's patient
    assert not dialog.send.isEnabled() and "family" in dialog.problem.text()
    dialog.cc.clear()
    qtbot.keyClicks(dialog.cc, "lindqvist@ortho-referrals.example")  # a specialist may be copied
    assert dialog.send.isEnabled() and dialog.problem.text() == ""
    qtbot.keyClicks(dialog.subject, "Your x-ray")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert dialog.queued_id is not None
    item = window.app.engine.outbox.get(dialog.queued_id)
    assert item["cc"] == ["lindqvist@ortho-referrals.example"] and item["subject"] == "Your x-ray"


def test_wizard_failing_then_passing_test_then_finish(qtbot: QtBot, window: MainWindow, practice: Practice,
                                                      fakemail: FakeMail) -> None:
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    account = wizard.account
    assert account.use_imap.isChecked() and account.incoming_port.value() == fakemail.ports["imap"]["imaps"]
    account.incoming_enabled.setChecked(False)
    assert not account.incoming_host.isEnabled() and account.incoming_host.text() == "localhost"  # greyed, kept
    account.incoming_enabled.setChecked(True)
    assert not account.starttls.isEnabled()  # only a choice on port 25
    fakemail.faults.add("smtp", "auth", "reject")
    wizard.next()  # the connection page: no proxy
    wizard.next()
    qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    assert not wizard.test.passed and "password" in wizard.test.verdict.text()
    fakemail.faults.clear()
    wizard.test.result = None
    qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    assert wizard.test.passed and wizard.test.steps.count() >= 8 and fakemail.sent() == []
    wizard.next()
    wizard.schedule.periods.setText("Mon–Fri 08:00–18:00; Sat 09:00–12:00")
    wizard.schedule.pacing.setChecked(True)
    wizard.next()
    wizard.next()  # the practice page
    wizard.next()  # text messages
    wizard.next()  # the last page saves, then shows tomorrow
    assert wizard.tomorrow.saved_ok and wizard.tomorrow.lines.count() >= 1
    wizard.accept()
    assert wizard.saved and practice.settings.get("pacing.enabled") is True
    assert practice.settings.get("schedule.periods") == "Mon–Fri 08:00–18:00; Sat 09:00–12:00"


def test_wizard_refuses_a_bad_value_and_saves_nothing(qtbot: QtBot, window: MainWindow, practice: Practice) -> None:
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    wizard.schedule.periods.setText("Funday 08:00-09:00")
    before = practice.settings.values()
    wizard.accept()
    assert not wizard.saved and "schedule.periods" in wizard.reminders.subTitle()
    assert practice.settings.values() == before


def test_admin_page_runs_a_runbook_and_emails_support(qtbot: QtBot, window: MainWindow, practice: Practice,
                                                      fakemail: FakeMail) -> None:
    window.show_view("admin")
    page = window.admin_page
    page.select_book("outbox_health")
    qtbot.mouseClick(page.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(page.last_page), timeout=20000)
    assert "Outbox health" in page.output.toPlainText()
    qtbot.mouseClick(page.support, Qt.MouseButton.LeftButton)
    assert "support.address" in page.note.text()  # not set yet: said in plain words
    practice.settings.set("support.address", "help@practicemail-support.example")
    qtbot.mouseClick(page.support, Qt.MouseButton.LeftButton)
    assert "in the outbox" in page.note.text()
    report = send_receive(qtbot, window)
    assert report["sent"] == 1 and fakemail.sent()[0]["rcpt_tos"] == ["help@practicemail-support.example"]


def test_template_editor_picker_preview_and_refusal(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("templates")
    ed = window.template_editor
    ed.list.setCurrentRow(ed.row_of("RECALL"))  # listed by description, the code in the tooltip (#19)
    assert ed.code.text() == "RECALL" and "Dear" in ed.preview.toPlainText()
    ed.group.setCurrentIndex(ed.group.findData("appointment"))
    assert all(ed.field.itemText(i).startswith("appointment.") for i in range(ed.field.count()))
    ed.body.setPlainText("")
    ed.field.setCurrentIndex(ed.field.findData("appointment.date"))
    qtbot.mouseClick(ed.insert, Qt.MouseButton.LeftButton)
    assert ed.body.toPlainText() == "{{ appointment.date }}"
    assert "Thursday 3 December 2026" in ed.preview.toPlainText()  # live preview, sample values
    ed.body.setPlainText("Hello\n{{ ''.__class__ }}")
    assert not ed.save_template() and "line 2" in ed.problems.text()
    assert "Dear" in window.composer.templates.get("RECALL").body  # nothing changed
    ed.body.setPlainText("Dear {{ patient.first_name }}, time for a check-up.")
    assert ed.save_template()
    assert window.composer.templates.get("RECALL").body.startswith("Dear {{ patient.first_name }}")


def test_forward_refusal_in_plain_words_and_reply(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: Priya Patel <patel.family@mailhome.example>\r\nSubject: Dev's x-ray\r\n"
                                 b"Message-ID: <g1@p>\r\n\r\nhere\r\n")
    send_receive(qtbot, window)
    rid = window.inbox.id_at(0)
    window.inbox_page.file_message(rid, "P004")
    settle(qtbot, window)
    assert window.inbox_page.forward(rid, "angus.macleod@patientmail.example") is None
    assert "not in" in window.status_line.text() and "family" in window.status_line.text()
    assert window.inbox_page.forward(rid, "patel.family@mailhome.example") is not None  # the family may have it
    dialog = window.inbox_page.open_reply(rid)
    qtbot.add_widget(dialog)
    assert "> here" not in dialog.quote.toPlainText() and "here" in dialog.quote.toPlainText()
    assert not dialog.apply() and "Write the reply" in dialog.problem.text()  # nothing written yet
    qtbot.keyClicks(dialog.text, "Thank you, we have it.")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    item = window.app.engine.outbox.get(dialog.queued_id)
    raw = window.app.engine.outbox.blob(item).decode()
    assert item["subject"] == "Re: Dev's x-ray" and "In-Reply-To: <g1@p>" in raw
    assert "Thank you, we have it." in raw and "> here" in raw and "Bright Smile" in raw  # quote and signature


def test_tag_filters_actioned_and_info(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    for n, sender in enumerate(["grace.holloway@patientmail.example", "stranger@example.com",
                                "lindqvist@ortho-referrals.example"]):
        fakemail.deliver("practice", f"From: {sender}\r\nSubject: m{n}\r\nMessage-ID: <t{n}@x>\r\n\r\nx\r\n".encode())
    send_receive(qtbot, window)
    subjects = lambda: sorted(window.inbox.model_.text(r, 3) for r in range(window.inbox.model_.rowCount()))  # noqa: E731
    assert subjects() == ["m1"]  # untagged by default: the filed ones live on their files
    window.inbox_page.tag_filter.setCurrentIndex(window.inbox_page.tag_filter.findData("all"))
    assert subjects() == ["m0", "m1", "m2"]
    window.inbox_page.tag_filter.setCurrentIndex(window.inbox_page.tag_filter.findData("Specialist"))
    assert subjects() == ["m2"]
    window.inbox_page.tag_filter.setCurrentIndex(window.inbox_page.tag_filter.findData("untagged"))
    rid = window.inbox.id_at(0)
    window.inbox_page.set_tags([rid], ["Urgent", "Billing"])
    settle(qtbot, window)
    assert subjects() == []
    window.inbox_page.custom_tags.setText("urgent, billing")
    window.inbox_page.custom_tags.setText("Urgent, Billing")
    window.inbox_page.custom_tags.editingFinished.emit()
    assert subjects() == ["m1"]  # carrying all the chosen tags
    window.inbox.selectRow(0)
    window.inbox_page.action_selected()
    settle(qtbot, window)
    assert subjects() == []
    window.inbox_page.show_actioned.setChecked(True)
    assert subjects() == ["m1"]
    box = window.inbox_page.show_info(rid)
    assert "received" in box.text() and "tagged" in box.text() and "actioned" in box.text()
    box.close()


def test_patient_file_shows_family_history_and_emails(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    window.app.engine.outbox.add_draft(draft(to="patel.family@mailhome.example", subject="Anika's check-up"),
                                   window.app.engine.clock.now(), patient_id="P003")
    send_receive(qtbot, window)
    page = window.open_patient("P003")
    qtbot.add_widget(page)
    assert any("Mrs Priya Patel" in label.text() for label in page.findChildren(QLabel))  # the family
    assert page.history.model_.rowCount() == 1 and page.history.model_.text(0, 1) == "sent"
    qtbot.mouseClick(page.email, Qt.MouseButton.LeftButton)
    assert window.last_compose is not None and window.last_compose.patient.currentData() == "P003"


def test_prompt_before_send_yes_and_no(qtbot: QtBot, window: MainWindow, practice: Practice,
                                      fakemail: FakeMail) -> None:
    """Two confirmations fall due: the worker asks about each (tests/gui/test_prompt_asked.py has
    the timing on a fake clock, and Undo); Yes sends one at once (a real pass), No cancels the
    other and says so in the status bar and the contact history (#19 item 4)."""
    from PyQt6.QtWidgets import QApplication, QMessageBox

    def asking() -> list[QMessageBox]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
                and "Send this confirmation now?" in w.text()]

    practice.settings.set_many({"reminders.prompt_before_send": "true", "reminders.confirmation_delay_minutes": "0"})
    window.reminders.book("P036", "2026-12-02T16:00", 30, window.app.engine.clock.now())
    window.reminders.book("P034", "2026-12-02T17:00", 30, window.app.engine.clock.now())
    qtbot.wait_until(lambda: len(asking()) == 2, timeout=15000)
    assert send_receive(qtbot, window)["sent"] == 0  # due, but never sent unasked
    boxes = sorted(asking(), key=lambda b: "kwame" not in b.text().lower())
    window.last_pass = None
    boxes[0].done(QMessageBox.StandardButton.Yes.value)
    qtbot.wait_until(lambda: window.last_pass is not None, timeout=15000)
    assert window.last_pass["sent"] == 1 and len(fakemail.sent()) == 1
    boxes[1].done(QMessageBox.StandardButton.No.value)
    qtbot.wait_until(lambda: "will not be sent" in window.status_line.text(), timeout=15000)  # answered off the GUI thread
    statuses = sorted(r["status"] for r in window.app.engine.outbox.list())
    assert statuses == ["cancelled", "sent"]
    cancelled = next(r for r in window.app.engine.outbox.list() if r["status"] == "cancelled")
    history = window.app.inbox.contact_history(cancelled["patient_id"])
    assert [h["type"] for h in history] == ["cancelled"]


def test_missing_address_is_asked_for_and_saved(qtbot: QtBot, window: MainWindow, practice: Practice) -> None:
    no_address = next(p for p in practice.directory.list("patients") if not p["email"])
    dialog = window.open_compose(no_address["id"])
    qtbot.add_widget(dialog)
    assert dialog.send.isEnabled()
    qtbot.keyClicks(dialog.subject, "Hello")

    def type_the_address() -> None:  # reception types it into the dialog that asks
        from PyQt6.QtWidgets import QApplication, QInputDialog

        asking = QApplication.activeModalWidget()
        assert isinstance(asking, QInputDialog) and "no email address" in asking.labelText()
        asking.setTextValue("dorothy.p@patientmail.example")
        asking.accept()

    from PyQt6.QtCore import QTimer

    QTimer.singleShot(50, type_the_address)
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert practice.directory.require("patients", no_address["id"])["email"] == "dorothy.p@patientmail.example"
    assert window.app.engine.outbox.get(dialog.queued_id)["to"] == ["dorothy.p@patientmail.example"]


def test_roles_pins_and_a_confirmed_action(qtbot: QtBot, window: MainWindow, practice: Practice,
                                          fakemail: FakeMail) -> None:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QMessageBox

    window.roles.set_pin("super user", "2468")
    stored = json.dumps(practice.store.collection("users").all())  # the records as either backend keeps them
    assert "super user" in stored and "2468" not in stored  # hashed, never in clear
    assert window.role.user == "" and not window.setup.isEnabled()
    assert not window.sign_in("super user", "1111") and "PIN" in window.status_line.text()
    assert window.role.user == ""
    assert window.sign_in("super user", "2468") and window.setup.isEnabled()
    # a failed item, then the outbox runbook's reset action, confirmed in a dialog
    fakemail.faults.add("smtp", "data", "reply", code=552, times=1)
    window.app.engine.outbox.add_draft(draft(), window.app.engine.clock.now())
    send_receive(qtbot, window)
    assert window.app.engine.outbox.list("failed")

    def say_yes() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(QMessageBox.StandardButton.Yes).click()
        else:
            QTimer.singleShot(50, say_yes)

    page = window.admin_page
    page.select_book("outbox_health")
    page.cells.setCurrentRow(page.cells.count() - 1)  # an action runs when chosen on its own (#19)
    QTimer.singleShot(50, say_yes)
    qtbot.mouseClick(page.run_cell, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(page.last_page), timeout=20000)
    assert "1 item(s) reset" in page.output.toPlainText()
    assert window.app.engine.outbox.list("failed") == [] and len(window.app.engine.outbox.list("ready")) == 1


def test_pins_are_set_at_the_desk_by_the_super_user_only(qtbot: QtBot, window: MainWindow) -> None:
    assert not window.pins.isEnabled() and window.open_pins() is None  # reception cannot
    window.roles.update_user("super user", pin="8642")  # a super user manages once they have a PIN
    assert window.sign_in("super user", "8642")
    dialog = window.open_pins()
    qtbot.add_widget(dialog)
    page = dialog.page
    page.select(user="reception")
    qtbot.keyClicks(page.pin, "1357")
    qtbot.keyClicks(page.again, "1358")
    qtbot.mouseClick(page.save_user, Qt.MouseButton.LeftButton)
    assert "differ" in page.problem.text() and not window.roles.has_pin("reception")
    page.again.clear()
    qtbot.keyClicks(page.again, "1357")
    qtbot.mouseClick(page.save_user, Qt.MouseButton.LeftButton)
    assert "saved" in page.said.text() and window.roles.has_pin("reception")
    assert not window.sign_in("reception", "0000") and window.sign_in("reception", "1357")


def test_a_signed_in_role_drops_back_to_reception_when_the_desk_is_quiet(qtbot: QtBot, window: MainWindow) -> None:
    from kiosk.roles_desk import IDLE_MINUTES

    watch = window.idle_watch
    qtbot.keyClick(window.inbox, Qt.Key.Key_Down)  # nobody signed in: no clock, and nothing watches the keys
    assert not window.idle.isActive() and not watch.installed and watch.seen == 0
    assert window.sign_in("dentist", "")
    assert window.idle.isActive() and window.idle.interval() == IDLE_MINUTES * 60_000 and watch.installed
    qtbot.keyClick(window.inbox, Qt.Key.Key_Down)  # someone is at the desk: the clock starts again
    assert window.idle.isActive() and window.idle.remainingTime() > IDLE_MINUTES * 60_000 - 5_000
    seen = watch.seen
    assert seen > 0
    window.idle.setInterval(1)  # then nobody touches it
    window.idle.start()
    qtbot.wait_until(lambda: window.role.user == "", timeout=2000)
    assert "Signed out" in window.status_line.text() and not window.idle.isActive()
    qtbot.keyClick(window.inbox, Qt.Key.Key_Down)  # the application's events no longer pass through Python
    assert not watch.installed and watch.seen == seen and not window.idle.isActive()


def test_keys_at_the_desk(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: a@example.com\r\nSubject: Keys\r\nMessage-ID: <keys@x>\r\n\r\nHi\r\n")
    window.last_pass = None
    qtbot.keyClick(window, Qt.Key.Key_F9)  # Send/Receive
    qtbot.wait_until(lambda: window.last_pass is not None, timeout=15000)
    settle(qtbot, window)  # the inbox is read again on the jobs thread after the pass
    assert window.inbox.model_.rowCount() == 1
    window.inbox.setFocus()
    window.inbox.selectRow(0)
    qtbot.keyClick(window.inbox, Qt.Key.Key_Delete)
    settle(qtbot, window)
    assert window.inbox.model_.rowCount() == 0 and window.deleted.model_.rowCount() == 1


def test_admin_page_runs_one_cell_of_a_runbook(qtbot: QtBot, window: MainWindow) -> None:
    page = window.admin_page
    page.select_book("outbox_health")
    labels = [page.cells.item(i).text() for i in range(page.cells.count())]
    assert labels[0] == "2. Check: Outbox health" and labels[-1].startswith("6. Action: Reset failed")  # #19
    page.cells.setCurrentRow(0)
    page.last_page = ""
    qtbot.mouseClick(page.run_cell, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(page.last_page), timeout=20000)
    shown = page.output.toPlainText()
    assert "cell 2" in shown and "outbox" in shown  # the counts
    assert "no failed items" not in shown and "item(s) reset" not in shown  # cells 4 to 6 did not run
