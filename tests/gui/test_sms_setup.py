"""Text messages at the desk (#18): the wizard's SMS page (Test shows the balance and locks the
practice ID; only the super user unlocks it, after a warning), a text from an unknown number in
the default inbox with its own icon, a "C" reply shown on the day list and the patient's file,
and the template editor offering a text only the fields that make sense in one."""

from __future__ import annotations

from PyQt6.QtCore import QDate, Qt
from PyQt6.QtWidgets import QSpinBox, QWizard
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, settle
from tests.gui.test_wizard_practice import to_page
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail


def open_sms_page(qtbot: QtBot, window: MainWindow):  # noqa: ANN201 - the wizard
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.sms)
    return wizard


def test_the_wizard_tests_shows_the_balance_and_locks_the_practice_id(qtbot: QtBot, window: MainWindow,
                                                                      fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    window.sign_in("super user", "")  # no PIN set yet: opens without one
    wizard = open_sms_page(qtbot, window)
    page = wizard.sms
    assert page.provider.currentData() == "twilio" and not page.account.isReadOnly()
    assert not page.unlock.isVisible()
    qtbot.mouseClick(page.test, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: page.result.text().startswith("Passed"), timeout=15000)
    assert "10.00 GBP" in page.result.text()
    assert page.account.isReadOnly() and page.unlock.isEnabled() and "locked" in page.lock_note.text()
    asked: list[str] = []
    answer("No", asked)
    assert not page.ask_unlock() and window.app.sms_account_locked()
    assert "old account" in asked[0]
    answer("Yes")
    assert page.ask_unlock()
    assert not window.app.sms_account_locked() and not page.account.isReadOnly()
    wizard.reject()


def test_reception_cannot_unlock_and_cancel_keeps_what_was_tested(qtbot: QtBot, window: MainWindow,
                                                                  fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    account = window.app.settings.get("sms.account")
    window.app.test_sms()
    wizard = open_sms_page(qtbot, window)  # at reception's desk
    page = wizard.sms
    assert page.account.isReadOnly() and page.unlock.isVisible() and not page.unlock.isEnabled()
    assert "only the super user" in page.lock_note.text()
    assert not page.ask_unlock() and window.app.sms_account_locked()
    page.quiet.setText("21:00-07:00")
    qtbot.mouseClick(page.test, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: page.result.text().startswith("Passed"), timeout=15000)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    s = window.app.settings
    assert (s.get("sms.account"), s.get("sms.quiet_hours")) == (account, "21:00-07:00")  # tested: kept


def test_a_text_from_an_unknown_number_shows_in_the_inbox_with_its_icon(qtbot: QtBot, window: MainWindow,
                                                                       fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    fakemail.deliver("practice", b"From: Niamh <obriens@mailhome.example>\r\nSubject: Crown\r\n"
                                 b"Message-ID: <m1@p>\r\n\r\nHello\r\n")
    window.app.send_receive_now()
    fakemail.sms.deliver_reply("+447700900777", "It's Ana on a new number")
    window.app.texts.fetch_replies(window.app.now())
    page = window.inbox_page
    assert page.tag_filter.currentIndex() == 0  # the default view, as reception opens it
    page.refresh()
    settle(qtbot, window)
    model = window.inbox.model_
    texts = [r for r in range(model.rowCount()) if model.text(r, 3) == "It's Ana on a new number"]
    mails = [r for r in range(model.rowCount()) if model.text(r, 3) == "Crown"]
    assert len(texts) == 1 and len(mails) == 1
    assert model.text(texts[0], 2) == "+447700900777" and model.text(texts[0], 4) == ""
    icon = model.data(model.index(texts[0], 0), Qt.ItemDataRole.DecorationRole)
    assert icon is not None and not icon.isNull()
    assert model.data(model.index(mails[0], 0), Qt.ItemDataRole.DecorationRole) is None
    rid = window.inbox.id_at(texts[0])
    page.file_message(rid, "P040")  # as File... does once reception knows who it is
    settle(qtbot, window)
    page.refresh()
    settle(qtbot, window)
    assert window.app.inbox_message(rid).patient_id == "P040"
    assert rid not in [window.inbox.id_at(r) for r in range(model.rowCount())]  # now on the patient's file


def test_a_confirmation_reply_shows_on_the_day_list_and_the_patient_file(qtbot: QtBot, window: MainWindow,
                                                                        fakemail: FakeMail) -> None:
    from tests.gui.test_day_list import row, tomorrow

    configure_sms(window.app.practice, fakemail)
    day: QDate = tomorrow(window)
    aid = window.reminders.book("P042",  # no other appointment in the demo: the one a C can answer
                               f"{day.toString('yyyy-MM-dd')}T15:00", 30, window.app.now())
    fakemail.sms.deliver_reply("+447700900043", "C")
    assert window.app.texts.fetch_replies(window.app.now()).confirmed == [aid]
    window.tabs.setCurrentWidget(window.day_list)
    window.day_list.day.setDate(day)
    window.day_list.refresh()
    assert row(window, aid)[5] == "confirmed by the patient"
    patient_file = window.open_patient("P042")
    qtbot.add_widget(patient_file)
    panel = patient_file.appointments
    assert panel is not None
    cells = [panel.table.model_.text(r, 4) for r in range(panel.table.model_.rowCount())]
    assert "booked, confirmed by the patient" in cells


def test_the_editor_offers_a_text_only_fields_that_make_sense_in_one(qtbot: QtBot, window: MainWindow) -> None:
    ed = window.template_editor
    names = lambda: {ed.field.itemData(n) for n in range(ed.field.count())}  # noqa: E731
    assert "booking.link" in names()
    ed.kind.setCurrentIndex(ed.kind.findData("sms"))
    assert "booking.link" not in names() and "patient.email" not in names() and "patient.first_name" in names()
    ed.body.setPlainText("Book at {{ booking.link }}")
    assert "cannot be used in a text message" in ed.problems.text()


def cancel(qtbot: QtBot, wizard: QWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)


def test_cancel_after_an_unlock_locks_the_practice_id_again(qtbot: QtBot, window: MainWindow,
                                                            fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    window.app.test_sms()
    lock = window.app.settings.locked("sms.account")
    window.sign_in("super user", "")
    wizard = open_sms_page(qtbot, window)
    answer("Yes")
    assert wizard.sms.ask_unlock() and not window.app.sms_account_locked()
    wizard.sms.account.setText("AC-typed-but-never-tested")
    cancel(qtbot, wizard)
    assert not wizard.isVisible()
    assert window.app.settings.locked("sms.account") == lock  # the same lock: why and since
    assert window.app.settings.get("sms.account") == fakemail.info()["sms"]["account_sid"]


def test_cancel_after_a_failed_test_puts_the_text_settings_back(qtbot: QtBot, window: MainWindow,
                                                                 fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    wizard = open_sms_page(qtbot, window)
    page = wizard.sms
    page.secret.setText("not-the-token")
    page.quiet.setText("21:00-07:00")
    qtbot.mouseClick(page.test, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: page.result.text().startswith("Failed"), timeout=15000)
    cancel(qtbot, wizard)
    s = window.app.settings
    assert (s.get("sms.quiet_hours"), s.secret("sms.secret")) == ("20:00-08:00",
                                                                   fakemail.info()["sms"]["auth_token"])
    assert not window.app.sms_account_locked()  # only a test that succeeded locks it


def test_cancel_refused_by_another_desks_lock_says_so_and_loses_nothing(qtbot: QtBot, window: MainWindow,
                                                                        fakemail: FakeMail) -> None:
    configure_sms(window.app.practice, fakemail)
    wizard = open_sms_page(qtbot, window)
    page = wizard.sms
    page.quiet.setText("21:00-07:00")
    page.account.setText("AC-wrong")
    qtbot.mouseClick(page.test, Qt.MouseButton.LeftButton)  # writes what was typed, then fails
    qtbot.wait_until(lambda: page.result.text().startswith("Failed"), timeout=15000)
    # meanwhile another desk (the same settings record, as on PostgreSQL) tests its own ID and it locks
    s = window.app.settings
    s.set("sms.account", "AC-other-desk")
    s.lock("sms.account", "the SMS provider's test succeeded on 2026-11-24", "2026-11-24T09:00:00+00:00")
    cancel(qtbot, wizard)
    assert wizard.isVisible()  # stays open: what it says is seen
    said = page.subTitle()
    assert "\n" not in said and "sms.account" in said and "another desk" in said and "locked" in said, said
    assert s.get("sms.quiet_hours") == "20:00-08:00"  # the rest went back
    assert s.get("sms.account") == "AC-other-desk" and s.locked("sms.account")  # that desk's, kept
    cancel(qtbot, wizard)
    assert not wizard.isVisible()


def finish(qtbot: QtBot, wizard: QWizard) -> None:
    to_page(qtbot, wizard, wizard.tomorrow)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)


def typed(qtbot: QtBot, box: QSpinBox, keys: str) -> None:
    box.selectAll()
    qtbot.keyClicks(box, keys)
    box.interpretText()


def test_texts_per_minute_is_set_beside_the_other_text_settings_and_saved_on_finish(qtbot: QtBot,
                                                                                      window: MainWindow) -> None:
    """sms.per_minute (pacing per channel) has its control on the text-message page: empty shows
    "Not paced"; typing keeps to whole numbers from 1 to 100000 (what the setting takes); nothing is
    written before Finish, Cancel writes nothing, Not paced saves the setting empty again."""
    s = window.app.settings
    assert s.get("sms.per_minute") in ("", None)
    wizard = open_sms_page(qtbot, window)
    box = wizard.sms.per_minute
    assert box.value() == 0 and box.text() == "Not paced"
    typed(qtbot, box, "x-1.5e")  # not a whole number: nothing taken
    assert box.value() in (0, 1, 15) and box.value() <= 100000
    typed(qtbot, box, "2000000")  # above the setting's maximum: held at it
    assert 1 <= box.value() <= 100000
    typed(qtbot, box, "12")
    assert box.value() == 12 and s.get("sms.per_minute") in ("", None)  # not saved on the way
    cancel(qtbot, wizard)
    assert s.get("sms.per_minute") in ("", None)
    wizard = open_sms_page(qtbot, window)
    typed(qtbot, wizard.sms.per_minute, "12")
    finish(qtbot, wizard)
    assert s.get("sms.per_minute") == 12 and window.app.practice.settings.snapshot().schedule.sms_per_minute == 12
    wizard = open_sms_page(qtbot, window)
    assert wizard.sms.per_minute.value() == 12
    wizard.sms.per_minute.setValue(0)
    assert wizard.sms.per_minute.text() == "Not paced"
    finish(qtbot, wizard)
    assert s.get("sms.per_minute") in ("", None)
