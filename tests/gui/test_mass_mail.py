"""The mass-email screen: the count per family first, nothing queued without Yes, the CLI's path."""

from __future__ import annotations

import re
import threading

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive
from tools.fakemail import FakeMail


def test_mass_email_counts_families_asks_then_queues(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    window.mass_mail.trigger()
    dialog = window.last_mass_mail
    qtbot.add_widget(dialog)
    assert not dialog.queue.isEnabled() and "Choose the template" in dialog.problem.text()
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    qtbot.waitUntil(lambda: re.match(r"(\d+) emails to (\d+) patients", dialog.count.text()) is not None)
    everyone = re.match(r"(\d+) emails to (\d+) patients", dialog.count.text())
    assert everyone and int(everyone[1]) < int(everyone[2])  # families sharing an address get one
    assert dialog.queue.isEnabled()
    qtbot.keyClicks(dialog.search, "Patel")  # the search is chosen as it is typed
    assert dialog.choices["search"].isChecked()
    qtbot.waitUntil(lambda: dialog.count.text() == "1 email to 4 patients.")  # one family, one shared address
    dialog.grab().save("/tmp/kioska/mass_mail.png")
    before = len(window.app.outbox_items())
    asked: list[str] = []
    answer("No", asked)
    qtbot.mouseClick(dialog.queue, Qt.MouseButton.LeftButton)
    assert "Queue 1 email" in asked[0] and len(window.app.outbox_items()) == before  # nothing without Yes
    answer("Yes")
    qtbot.mouseClick(dialog.queue, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result is not None)
    assert dialog.result.queued == 1 and dialog.count.text() == "Queued 1 email."
    send_receive(qtbot, window)
    assert any("patel.family@mailhome.example" in str(m) for m in fakemail.sent())


def test_mass_email_lists_who_has_no_address(qtbot: QtBot, window: MainWindow) -> None:
    window.app.directory.update("patients", "P005", {"email": ""})
    dialog = window.open_mass_mail()
    qtbot.add_widget(dialog)
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    qtbot.keyClicks(dialog.search, "O'Brien")
    qtbot.waitUntil(lambda: dialog.count.text() == "1 email to 2 patients; 1 without an address: Mrs Niamh O'Brien.")
    dialog.choices["recall"].setChecked(True)
    qtbot.waitUntil(lambda: dialog.count.text() not in ("Counting...", ""))
    assert dialog.count.text() != "No patients chosen." or not window.app.recall_patients()
    dialog.close()


def test_a_search_reaches_everyone_it_finds_and_the_count_is_read_off_the_gui_thread(
        qtbot: QtBot, window: MainWindow) -> None:
    """A mass email to 'Patients found by a search' went to the first 200 found only; the count
    read every patient on the GUI thread at each keystroke."""
    window.app.directory._coll("patients").insert_many([
        {"id": f"Z{i:04d}", "title": "", "first_name": f"Zed{i}", "last_name": "Zylstra", "family_id": "",
         "email": f"zed{i}@patientmail.example", "mobile": "", "date_of_birth": "1990-01-01",
         "usual_provider_id": "DR1", "preferred_location": "Riverside Surgery", "source": "test"} for i in range(250)])
    threads: list[str] = []
    preview = window.app.mass_preview
    window.app.mass_preview = lambda ids: (threads.append(threading.current_thread().name), preview(ids))[1]
    dialog = window.open_mass_mail()
    qtbot.add_widget(dialog)
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    qtbot.keyClicks(dialog.search, "Zylstra")
    qtbot.waitUntil(lambda: dialog.count.text() == "250 emails to 250 patients.")
    assert threads and "MainThread" not in threads
    dialog.close()
