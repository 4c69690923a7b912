"""A bounced address is shown where reception looks: the patient file and compose."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kiosk.compose import ComposeDialog
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive
from tests.integration.helpers import configure_incoming, draft
from tools.fakemail import FakeMail


def test_a_bounced_address_shows_on_the_patient_file_and_in_compose(qtbot: QtBot, window: MainWindow,
                                                                     fakemail: FakeMail) -> None:
    practice = window.engine.practice
    configure_incoming(practice, fakemail, "imap")
    angus = practice.directory.require("patients", "P033")
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=550)
    window.engine.outbox.add_draft(draft(to=angus["email"]), window.engine.clock.now(), patient_id="P033")
    send_receive(qtbot, window)
    page = window.open_patient("P033")
    qtbot.add_widget(page)
    texts = [label.text() for label in page.findChildren(QLabel)]
    assert any("bounced" in t and "the mailbox does not exist" in t for t in texts)
    compose = ComposeDialog(window.composer, "P033")
    qtbot.add_widget(compose)
    assert "bounced" in compose.address_warning.text() and not compose.address_warning.isHidden()
    other = ComposeDialog(window.composer, "P036")
    qtbot.add_widget(other)
    assert other.address_warning.isHidden()
