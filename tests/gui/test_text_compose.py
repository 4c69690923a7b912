"""A text message from compose: the live count, the most-segments setting, the outbox's Type."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow


def test_text_from_compose_counts_live_and_shows_as_sms_in_the_outbox(qtbot: QtBot, window: MainWindow) -> None:
    window.app.set_settings({"sms.quiet_hours": "", "sms.max_segments": 2})  # any hour; two parts at most
    compose = window.open_compose("P005")
    qtbot.add_widget(compose)
    qtbot.mouseClick(compose.text_instead, Qt.MouseButton.LeftButton)
    dialog = compose.last_text
    assert dialog.patient.currentData() == "P005"
    assert not dialog.send.isEnabled()  # nothing typed yet
    qtbot.keyClicks(dialog.text, "Your new crown is ready. Please call us to book a fitting.")
    assert dialog.count.text() == f"1 message, {160 - 58} characters left" and dialog.send.isEnabled()
    dialog.text.setPlainText("x" * 153 * 2 + "y")  # three parts: the practice allows two
    assert dialog.count.text().startswith("3 messages") and not dialog.send.isEnabled()
    assert "allows 2" in dialog.problem.text()
    dialog.text.setPlainText("Your crown is ready, call us to book a fitting.")
    dialog.grab().save("/tmp/kioska/text_compose.png")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert dialog.queued_id is not None and not compose.isVisible()
    item = window.app.outbox_item(dialog.queued_id)
    assert item.kind == "sms" and item.patient_id == "P005" and item.text.startswith("Your crown")
    window.show_view("outbox")
    window.outbox_page.refresh()
    table = window.outbox_page.table
    assert table.model_.text(0, 2) == "SMS" and table.model_.text(0, 4) == item.to[0]


def test_only_patients_with_a_mobile_are_offered(qtbot: QtBot, window: MainWindow) -> None:
    window.app.directory.update("patients", "P006", {"mobile": ""})
    compose = window.open_compose("P006")
    qtbot.add_widget(compose)
    dialog = compose.open_text()
    assert dialog.patient.findData("P006") == -1 and dialog.patient.findData("P005") > 0
    assert "mobile" in dialog.problem.text() and not dialog.send.isEnabled()
    dialog.close()
    compose.discard()


def test_a_text_reply_is_marked_sms_in_the_inbox(qtbot: QtBot, window: MainWindow, fakemail) -> None:  # noqa: ANN001
    from tests.gui.helpers import send_receive

    fakemail.deliver("practice", b"From: Niamh <obriens@mailhome.example>\r\nSubject: Re: crown\r\n"
                                 b"Message-ID: <s1@p>\r\n\r\nC\r\n")
    send_receive(qtbot, window)
    rid = window.inbox.id_at(0)
    window.inbox_page.refresh()
    assert "SMS" not in window.inbox.model_.text(0, 0)
    window.app.set_tags(rid, ["SMS"])  # as a text reply is tagged
    page = window.inbox_page
    page.tag_filter.setCurrentIndex(page.tag_filter.findData("all"))
    page.refresh()
    assert window.inbox.model_.text(0, 0) == "SMS new"


def test_sms_templates_are_offered_for_texts_not_emails(qtbot: QtBot, window: MainWindow) -> None:
    from engine.service.app import Template

    window.app.save_template(Template("TXTREADY", "Crown ready (text)", body="Hi {{ patient.first_name }}, "
                                      "your crown is ready. {{ practice.name }}", kind="sms"), new=True)
    compose = window.open_compose("P005")
    qtbot.add_widget(compose)
    assert compose.template.findData("TXTREADY") == -1 and compose.template.findData("RECALL") > 0
    dialog = compose.open_text()
    dialog.template.setCurrentIndex(dialog.template.findData("TXTREADY"))
    assert dialog.text.toPlainText() == "Hi Niamh, your crown is ready. Bright Smile Dental"
    assert dialog.count.text().startswith("1 message") and dialog.send.isEnabled()
    dialog.close()
    compose.discard()


def test_a_fetched_text_reply_shows_in_the_inbox_with_the_sms_mark(qtbot: QtBot, window: MainWindow,
                                                                   fakemail) -> None:  # noqa: ANN001
    from tests.integration.test_sms import configure_sms

    configure_sms(window.app.practice, fakemail)
    fakemail.sms.deliver_reply("+447700900041", "Running late, sorry")
    assert window.app.texts.fetch_replies(window.app.now()).fetched == 1  # through the real fake provider
    page = window.inbox_page
    page.tag_filter.setCurrentIndex(page.tag_filter.findData("all"))
    page.refresh()
    assert window.inbox.model_.text(0, 0) == "SMS new"
    assert window.inbox.model_.text(0, 3) == "Running late, sorry"
    assert window.app.inbox_message(window.inbox.id_at(0)).patient_id == "P040"


def test_an_item_waiting_for_its_deliver_after_time_shows_a_clock(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 18: a staggered item (a recall, a reminder) shows its deliver-after time with a clock
    in the outbox until the time comes; one due now shows none."""
    from datetime import timedelta

    from kiosk.outbox_page import LATER

    window.app.set_settings({"sms.quiet_hours": ""})
    now = window.app.now()
    waiting = window.app.texts.queue("P040", "Your check-up is due", now, deliver_after=now + timedelta(hours=3),
                                     automatic=True)
    due = window.app.texts.queue("P005", "Your crown is ready", now)
    window.show_view("outbox")
    window.outbox_page.refresh()
    table = window.outbox_page.table
    shown = {table.model_.text(r, 5): table.model_.text(r, 6) for r in range(table.model_.rowCount())}
    assert shown["Your check-up is due"].startswith(LATER), shown
    assert not shown["Your crown is ready"].startswith(LATER), shown
    assert {window.app.outbox_item(waiting).status, window.app.outbox_item(due).status} == {"ready"}
