"""The setup wizard holds the practice's own details (#19 item 6): name, phone, address,
support address, signature, prompt-before-send, calendar alarm; IMAP 993 on a fresh setup;
result lines that wrap; progress while the test runs; the connection statement; its own words."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from kiosk.wizard import SetupWizard
from tools.fakemail import FakeMail


def to_page(qtbot: QtBot, wizard: SetupWizard, page: object) -> None:
    while wizard.currentPage() is not page:
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)


def test_the_practice_details_are_set_in_the_wizard_and_saved_on_finish(qtbot: QtBot, window: MainWindow,
                                                                       practice: Practice) -> None:
    s = practice.settings
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.reminders)
    wizard.reminders.prompt.setChecked(False)
    wizard.reminders.alarm.setValue(30)
    to_page(qtbot, wizard, wizard.practice)
    p = wizard.practice
    assert p.name.text() == "Bright Smile Dental"
    p.phone.setText("01225 555 011")
    p.address.setPlainText("14 River Street\nBathwick\nBA2 4QR")
    p.support.setText("help@it-support.example")
    p.signature.setCurrentIndex(p.signature.findData("SIGNATURE"))
    assert s.get("support.address") in ("", None)  # nothing saved before the last page
    to_page(qtbot, wizard, wizard.tomorrow)
    assert wizard.tomorrow.saved_ok
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert (s.get("practice.phone"), s.get("practice.address"), s.get("support.address")) == \
        ("01225 555 011", "14 River Street, Bathwick, BA2 4QR", "help@it-support.example")
    assert s.get("signature.template") == "SIGNATURE" and s.get("reminders.alarm_minutes") == 30
    assert s.get("reminders.prompt_before_send") is False


def test_cancel_puts_the_practice_details_back(qtbot: QtBot, window: MainWindow, practice: Practice) -> None:
    s = practice.settings
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.practice)
    wizard.practice.name.setText("Someone Else's Dental")
    to_page(qtbot, wizard, wizard.tomorrow)
    assert s.get("practice.name") == "Someone Else's Dental"  # saved to preview tomorrow
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert s.get("practice.name") == "Bright Smile Dental"


def test_a_fresh_setup_offers_imap_and_the_test_page_says_what_it_needs(qtbot: QtBot, window: MainWindow,
                                                                       practice: Practice, fakemail: FakeMail) -> None:
    practice.settings.set_many({"outgoing.host": "", "incoming.host": "", "incoming.enabled": False,
                                "incoming.protocol": "pop3", "incoming.port": ""})
    wizard = SetupWizard(window.app, window)
    qtbot.add_widget(wizard)
    assert wizard.account.use_imap.isChecked() and wizard.account.incoming_port.value() == 993
    test = wizard.test
    assert "working internet connection" in test.connection.text()
    assert test.steps.wordWrap()
    wizard.account.outgoing_host.setText("localhost")
    wizard.account.outgoing_port.setValue(fakemail.ports["smtp"]["starttls"] if "starttls" in fakemail.ports["smtp"]
                                          else next(iter(fakemail.ports["smtp"].values())))
    fakemail.faults.add("smtp", "auth", "reject")
    test.start()
    assert not test.progress.isHidden(), test.verdict.text()  # busy until the steps come back
    qtbot.wait_until(lambda: test.result is not None, timeout=20000)
    assert test.progress.isHidden()
    shown = test.verdict.text() + " ".join(test.steps.item(i).text() for i in range(test.steps.count()))
    assert "in the setup wizard" not in shown


def test_a_support_address_typed_in_the_wizard_is_where_email_support_goes(
        qtbot: QtBot, window: MainWindow, practice: Practice, fakemail: FakeMail) -> None:
    """Item 6's end: "Email support" failed with "set support.address (the setup wizard...)" because
    the wizard had no such field. Typed there, finished, and the admin page's button reaches it."""
    from tests.gui.helpers import send_receive

    window.show_view("admin")
    page = window.admin_page
    qtbot.mouseClick(page.support, Qt.MouseButton.LeftButton)
    assert "support.address" in page.note.text()  # not set yet
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.practice)
    wizard.practice.support.clear()
    qtbot.keyClicks(wizard.practice.support, "help@it-support.example")
    to_page(qtbot, wizard, wizard.tomorrow)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.support, Qt.MouseButton.LeftButton)
    assert "in the outbox" in page.note.text()
    report = send_receive(qtbot, window)
    assert report["sent"] == 1 and fakemail.sent()[-1]["rcpt_tos"] == ["help@it-support.example"]


EVERY = "schedule.check_every_minutes"


def _finish_at_schedule(qtbot: QtBot, window: MainWindow, typed: int | None = None) -> tuple[str, str]:
    """Open the wizard, read "Check every" and what is said beside it (typing `typed` if given), finish."""
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.schedule)
    every = wizard.schedule.every
    shown = (every.text(), wizard.schedule.every_note.text())
    if typed is not None:
        every.lineEdit().selectAll()
        qtbot.keyClicks(every, str(typed))
    to_page(qtbot, wizard, wizard.tomorrow)
    assert wizard.tomorrow.saved_ok, wizard.last_error
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    return shown


def test_check_every_keeps_an_unset_or_empty_setting_and_says_so(qtbot: QtBot, window: MainWindow,
                                                                 practice: Practice) -> None:
    """"Check every" showed 15 for an empty setting (mail checked only at the check times) and saved
    15 on Finish; an unset one (the engine's default) was written as if typed. Both are kept, and said."""
    s = practice.settings
    assert s.is_default(EVERY)  # the demo leaves it to the engine
    shown, said = _finish_at_schedule(qtbot, window)
    assert shown == "15" and "not set" in said.lower() and "15" in said
    assert s.is_default(EVERY), s.get(EVERY)  # still the engine's, not written as 15
    s.set_many({EVERY: "", "schedule.check_times": "12:30"})
    shown, said = _finish_at_schedule(qtbot, window)
    assert "15" not in shown and "not set" in shown.lower(), shown
    assert "12:30" in said or "check times" in said.lower() or "also check at" in said.lower(), said
    assert s.get(EVERY) in (None, ""), s.get(EVERY)  # was saved as 15
    _finish_at_schedule(qtbot, window, typed=20)
    assert s.get(EVERY) == 20
    shown, said = _finish_at_schedule(qtbot, window)
    assert shown == "20" and "not set" not in said.lower()


def test_cancel_after_the_test_leaves_an_unset_check_every_unset(qtbot: QtBot, window: MainWindow,
                                                                 practice: Practice) -> None:
    """The connection test saves the account on the way; Cancel put every value it had read back,
    writing the engine's default 15 as if typed. A setting nothing changed stays as it was."""
    s = practice.settings
    assert s.is_default(EVERY)
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.test)
    qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()
    assert s.is_default(EVERY), s.get(EVERY)
