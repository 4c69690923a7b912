"""Email as PDF from the views that print: the PDF made the way the print is, a compose window
opened with it attached, for the patient it is about, through the confidentiality gate."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive
from tests.integration.helpers import configure_incoming, draft
from tools.fakemail import FakeMail


def pdfs(window: MainWindow) -> list:
    assert window.last_compose is not None
    return [f for f in window.last_compose.files.files if f.content_type == "application/pdf"]


def through_the_gate(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.last_compose
    qtbot.add_widget(dialog)
    qtbot.keyClicks(dialog.cc, "kwame.mensah@patientmail.example")  # another patient: refused with the PDF
    assert not dialog.send.isEnabled()
    dialog.cc.clear()
    assert dialog.send.isEnabled()
    qtbot.keyClicks(dialog.subject, "As asked")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    item = window.app.engine.outbox.get(dialog.queued_id)
    assert item["patient_id"] == dialog.patient.currentData()


def test_an_outbox_item_emailed_as_pdf(qtbot: QtBot, window: MainWindow) -> None:
    rid = window.app.engine.outbox.add_draft(draft(to="angus.macleod@patientmail.example", subject="Estimate"),
                                         window.app.engine.clock.now(), patient_id="P033")
    window.refresh_outbox()
    window.outbox.selectRow(0)
    window.outbox_page.email_selected_as_pdf()
    (pdf,) = pdfs(window)
    assert pdf.data.startswith(b"%PDF") and pdf.filename == "outbox-item.pdf"
    assert window.last_compose.patient.currentData() == "P033"
    through_the_gate(qtbot, window)


def test_a_message_emailed_as_pdf(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    configure_incoming(window.app.engine.practice, fakemail, "imap")
    fakemail.deliver("practice", b"From: angus.macleod@patientmail.example\r\nTo: practice@example.test\r\n"
                                 b"Subject: My question\r\nMessage-ID: <q1@x>\r\n\r\nCan I come on Friday?\r\n")
    send_receive(qtbot, window)
    (record,) = window.app.engine.inbox.list(tags=["Patient"])
    window.message_view.show_record(record)
    qtbot.wait_until(lambda: window.message_view.content is not None, timeout=5000)
    window.message_view.email_as_pdf()
    (pdf,) = pdfs(window)
    assert pdf.data.startswith(b"%PDF") and window.last_compose.patient.currentData() == "P033"
    through_the_gate(qtbot, window)


def test_the_contact_history_emailed_as_pdf(qtbot: QtBot, window: MainWindow) -> None:
    window.app.engine.outbox.add_draft(draft(to="angus.macleod@patientmail.example", subject="Estimate"),
                                   window.app.engine.clock.now(), patient_id="P033")
    page = window.open_patient("P033")
    qtbot.add_widget(page)
    page.email_history_as_pdf()
    (pdf,) = pdfs(window)
    assert pdf.data.startswith(b"%PDF") and pdf.filename == "contact-history.pdf"
    assert window.last_compose.patient.currentData() == "P033"
    through_the_gate(qtbot, window)


def _day_list(window: MainWindow) -> None:
    window.day_list.email_as_pdf()


def _recall_list(window: MainWindow) -> None:
    window.day_list.open_recalls()
    window.day_list.last_recalls.email_as_pdf()


def _runbook(window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.admin_page)
    window.admin_page.email_pdf.click()


@pytest.mark.parametrize("view", [_day_list, _recall_list, _runbook], ids=["day list", "recall list", "runbook"])
def test_a_view_about_many_patients_emailed_as_pdf_asks_whose_and_passes_the_gate(
        qtbot: QtBot, window: MainWindow, view: Callable[[MainWindow], None]) -> None:
    """The day's appointments, the recall list and a runbook page are about no one patient: the
    compose window opens with the PDF and no patient chosen, and sends nothing until one is; then
    the confidentiality rules judge it as any email with an attachment (#20 item 3)."""
    view(window)
    (pdf,) = pdfs(window)
    assert pdf.data.startswith(b"%PDF")
    dialog = window.last_compose
    assert dialog.patient.currentData() in ("", None) and not dialog.send.isEnabled()
    dialog.patient.setCurrentIndex(dialog.patient.findData("P033"))
    through_the_gate(qtbot, window)
