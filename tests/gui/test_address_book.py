"""The address book from compose: people chosen by name into To, Cc and Bcc; the rules still decide."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow


def test_address_book_fills_to_and_cc_and_the_rules_still_refuse(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.open_compose()
    qtbot.add_widget(dialog)
    assert not dialog.patient.currentData()
    book = dialog.open_address_book(modal=False)
    qtbot.keyClicks(book.search, "Priya")
    book.select("Mrs Priya Patel")
    qtbot.mouseClick(book.buttons["To"], Qt.MouseButton.LeftButton)
    book.search.clear()
    qtbot.keyClicks(book.search, "MacLeod")  # another family's patient
    book.select(book.shown_contacts[0].name)
    qtbot.mouseClick(book.buttons["Cc"], Qt.MouseButton.LeftButton)
    assert "Patel" in book.lines["To"].text() and "MacLeod" in book.lines["Cc"].text()
    book.grab().save("/tmp/kioska/address_book.png")
    qtbot.mouseClick(book.ok, Qt.MouseButton.LeftButton)
    assert dialog.patient.currentData() == "P001"
    assert "macleod" in dialog.cc.text().lower()
    assert not dialog.send.isEnabled() and "family" in dialog.problem.text()  # refused in words
    dialog.cc.clear()
    book = dialog.open_address_book(modal=False)
    qtbot.keyClicks(book.search, "Lindqvist")  # a specialist may be copied
    book.select(book.shown_contacts[0].name)
    qtbot.mouseClick(book.buttons["Bcc"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(book.ok, Qt.MouseButton.LeftButton)
    assert "lindqvist" in dialog.bcc.text().lower()
    assert dialog.send.isEnabled() and dialog.problem.text() == ""
    dialog.grab().save("/tmp/kioska/compose.png")
    dialog.discard()


def test_a_provider_chosen_for_to_goes_to_cc_and_is_said(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.open_compose("P005")
    qtbot.add_widget(dialog)
    book = dialog.open_address_book(modal=False)
    provider = next(c for c in book.shown_contacts if c.kind == "provider" and c.email)
    book.select(provider.name)
    qtbot.mouseClick(book.buttons["To"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(book.ok, Qt.MouseButton.LeftButton)
    assert dialog.patient.currentData() == "P005"
    assert provider.email in dialog.cc.text()
    assert "put in Cc" in dialog.problem.text()
    dialog.discard()
