"""A patient found by typing in compose (kiosk/patient_choice.py, #19): the template's words shown
read-only as "what is sent" follow the patient found, as they follow one chosen from the list."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow


def test_a_patient_found_by_typing_shows_the_template_in_their_words(qtbot: QtBot, window: MainWindow) -> None:
    d = window.app.directory
    angus = d.require("patients", "P033")
    other = next(p for p in d.list("patients") if p["id"] != "P033" and p.get("email")
                 and p.get("usual_provider_id") == angus.get("usual_provider_id")
                 and p["last_name"] != angus["last_name"])
    compose = window.open_compose(other["id"])
    compose.template.setCurrentIndex(compose.template.findData("RECALL"))
    assert other["last_name"] in compose.body.toPlainText()  # the words for the patient it opened for
    qtbot.keyClicks(compose.find, "Angus")  # one match: chosen as typed
    assert compose.patient.currentData() == "P033"
    shown = compose.body.toPlainText()
    assert angus["last_name"] in shown and other["last_name"] not in shown, shown
    compose.discard()
