"""Every action reachable by keyboard with visible shortcuts, in the dialogs too (issue 19): every
shown push button of every dialog the kiosk opens has a key of its own, named in its tooltip
(kiosk/keys.keyed) or underlined (a mnemonic), and no key does two things in the dialog; a
sample of keys pressed does what the button does. The dialogs are found by walking kiosk's modules
(every QDialog subclass, every function building a bare QDialog), so a new one must be added here.
Message and input boxes: test_box_keys.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QWizard
from pytestqt.qtbot import QtBot

from engine.service.app import NewEmail
from kiosk.main_window import MainWindow
from tests.gui.dialog_keys import (MESSAGE_BOXES, a_message, key_of, kiosk_dialogs, message_box_builders, press,
                                   problems, select_first, shown)
from tests.gui.helpers import send_receive
from tools.fakemail import FakeMail

Opener = Callable[[QtBot, MainWindow, FakeMail], QDialog]
OPENERS: dict[str, Opener] = {}


def opens(*names: str) -> Callable[[Opener], Opener]:
    def register(opener: Opener) -> Opener:
        for name in names:
            OPENERS[name] = opener
        return opener
    return register


def test_every_dialog_of_the_kiosk_is_walked() -> None:
    assert message_box_builders() == MESSAGE_BOXES, "a message box built elsewhere: walk it below"
    found = kiosk_dialogs()
    assert found - set(OPENERS) == set(), "a dialog no test opens: add its opener to tests/gui/test_dialog_keys.py"
    assert set(OPENERS) - found == set(), "an opener for a dialog that is gone"


def _an_outbox_item(qtbot: QtBot, window: MainWindow) -> None:
    window.app.compose(NewEmail("P043", subject="Your results", text="Your results are ready."))
    window.refresh_outbox()
    select_first(qtbot, window, "outbox")


@opens("compose.ComposeDialog")
def _compose(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Create New Email
    qtbot.keyRelease(window, Qt.Key.Key_Control)
    return shown(qtbot, window.last_compose)


@opens("address_book.AddressBook")
def _address_book(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, shown(qtbot, window.open_compose("P043")).open_address_book(modal=False))


@opens("text_compose.TextDialog")
def _text(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    compose = shown(qtbot, window.open_compose("P043"))
    qtbot.mouseClick(compose.text_instead, Qt.MouseButton.LeftButton)
    return shown(qtbot, compose.last_text)


@opens("reply.ReplyDialog")
def _reply(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    a_message(qtbot, window, fakemail)
    return shown(qtbot, window.inbox_page.reply_selected())


@opens("forward_compose.ForwardDialog")
def _forward(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    a_message(qtbot, window, fakemail)
    return shown(qtbot, window.inbox_page.forward_selected())


@opens("file_to.FileTo")
def _file_to(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    a_message(qtbot, window, fakemail)
    return shown(qtbot, window.inbox_page.file_selected())


@opens("outbox_page.read")
def _outbox_read(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _an_outbox_item(qtbot, window)
    rid = window.outbox.id_at(0)
    return shown(qtbot, window.outbox_page.read(rid))


@opens("outbox_page.describe_selected")
def _outbox_describe(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    _an_outbox_item(qtbot, window)
    return shown(qtbot, window.outbox_page.describe_selected())


@opens("mass_mail.MassMail")
def _mass_mail(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, window.open_mass_mail())


@opens("patient_file.PatientFile")
def _patient_file(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, window.open_patient("P043"))


@opens("patient_edit.PatientEditDialog")
def _patient_edit(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, window.add_patient())


@opens("appointments.SlotDialog")
def _slot(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    from kiosk.appointments import SlotDialog  # opened by exec() from the patient file's Book...
    dialog = SlotDialog(window.app, window.app.directory.require("patients", "P043"), "Book an appointment", None, window)
    dialog.show()
    return shown(qtbot, dialog)


@opens("day_list.RecallList")
def _recall_list(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    window.show_view("appointments")
    qtbot.mouseClick(window.day_list.buttons["Recall list..."], Qt.MouseButton.LeftButton)
    return shown(qtbot, window.day_list.last_recalls)


@opens("recall_run.RecallRunDialog")
def _recall_run(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    recalls = _recall_list(qtbot, window, fakemail)
    qtbot.mouseClick(recalls.buttons["Run recalls..."], Qt.MouseButton.LeftButton)
    dialog = shown(qtbot, recalls.last_run)
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    return dialog


@opens("reminder_rules.ReminderRulesDialog")
def _rules(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    window.show_view("templates")
    qtbot.mouseClick(window.template_editor.actions["Reminder rules..."], Qt.MouseButton.LeftButton)
    return shown(qtbot, window.template_editor.rules_dialog)


@opens("status_light.ServiceDialog")
def _service(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, window.open_service_dialog())


@opens("users_page.UsersDialog")
def _users(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    assert window.sign_in("super user", "")  # a fresh install: no PIN yet
    return shown(qtbot, window.open_pins())


@opens("pins.SignInDialog")
def _sign_in(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    assert window.sign_in("super user", "")  # Sign out shown too
    return shown(qtbot, window.choose_role())


@opens("wizard.SetupWizard")
def _wizard(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> QDialog:
    return shown(qtbot, window.open_wizard())


@pytest.mark.parametrize("name", sorted(OPENERS))
def test_every_button_of_a_dialog_has_its_own_key_shown_and_no_key_does_two_things(
        qtbot: QtBot, window: MainWindow, fakemail: FakeMail, name: str) -> None:
    dialog = OPENERS[name](qtbot, window, fakemail)
    found = []
    if isinstance(dialog, QWizard):  # each page as it shows, with the wizard's own buttons
        for page_id in dialog.pageIds():
            dialog.setStartId(page_id)
            dialog.restart()
            found += problems(dialog, f"{name}, page {dialog.currentPage().title()!r}")
    else:
        found = problems(dialog, name)
    assert not found, "\n".join(found)


# -- keys pressed ----------------------------------------------------------------------------------
def test_ctrl_return_sends_the_email_to_the_server(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    compose = shown(qtbot, window.open_compose("P043"))
    qtbot.keyClicks(compose.subject, "Your new appointment card")
    compose.body.setFocus()
    qtbot.keyClicks(compose.body, "Here it is.")
    press(qtbot, compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # typing in the body
    qtbot.wait_until(lambda: compose.queued_id is not None and not compose.isVisible())
    send_receive(qtbot, window)
    assert any(b"Your new appointment card" in m["data"] for m in fakemail.sent())


def test_the_wizards_test_key_runs_the_test_and_esc_cancels(qtbot: QtBot, window: MainWindow,
                                                            fakemail: FakeMail) -> None:
    wizard = _wizard(qtbot, window, fakemail)
    while wizard.currentPage() is not wizard.test:
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    key, _told = key_of(wizard.test.run)
    assert key == "Alt+T"
    press(qtbot, wizard, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    assert wizard.test.passed, wizard.test.verdict.text()
    press(qtbot, wizard, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    qtbot.wait_until(lambda: not wizard.isVisible())


def test_the_address_books_keys_fill_to_and_cc(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    book = _address_book(qtbot, window, fakemail)
    book.table.selectRow(0)
    book.table.setFocus()
    press(qtbot, book, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: bool(book.lines["To"].text()))
    assert not book.lines["Cc"].text()
    book.table.selectRow(1)
    press(qtbot, book, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.wait_until(lambda: bool(book.lines["Cc"].text()))
