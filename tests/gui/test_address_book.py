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


def test_any_patient_of_a_large_practice_is_found_and_cc_completes_as_typed(qtbot: QtBot, window: MainWindow) -> None:
    """The windows list the first 500 by name and find the rest as typed (kiosk/patient_choice.py):
    a patient far down the alphabet is reached by the find box, by the address book and by the
    text window; Cc offers the addresses matching what is typed."""
    many = [{"id": f"Z{i:04d}", "title": "", "first_name": f"Zed{i}", "last_name": "Zylstra", "family_id": "",
             "email": f"zed{i}@patientmail.example", "mobile": f"+447700900{i:03d}", "date_of_birth": "1990-01-01",
             "usual_provider_id": "DR1", "preferred_location": "Riverside Surgery", "source": "test"}
            for i in range(600)]
    window.app.directory._coll("patients").insert_many(many)
    dialog = window.open_compose()
    qtbot.add_widget(dialog)
    assert dialog.patient.findData("Z0599") < 0 < dialog.patient.count() <= 501  # not all 643 listed
    qtbot.keyClicks(dialog.find, "Zed599")
    assert dialog.patient.currentData() == "Z0599"  # the one match chosen
    dialog.find.clear()
    assert dialog.patient.currentData() == "Z0599"  # kept when the box is cleared
    book = dialog.open_address_book(modal=False)
    qtbot.keyClicks(book.search, "Zed598")
    book.select(book.shown_contacts[0].name)
    qtbot.mouseClick(book.buttons["To"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(book.ok, Qt.MouseButton.LeftButton)
    assert dialog.patient.currentData() == "Z0598"
    qtbot.keyClicks(dialog.cc, "zed597@")
    offered = dialog.cc.completer().model()
    assert [offered.index(r, 0).data() for r in range(offered.rowCount())] == ["zed597@patientmail.example"]
    text = dialog.open_text()  # the text window: its patient, and any other found as typed
    qtbot.add_widget(text)
    assert text.patient.currentData() == "Z0598" and "07700 900598" in text.patient.currentText()
    qtbot.keyClicks(text.choice.find, "Zed590")
    assert text.patient.currentData() == "Z0590"
    text.reject()
    dialog.discard()
