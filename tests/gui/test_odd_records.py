"""Patients' records not of the shape the desk writes (an older import, a record edited outside the
kiosk, another program on the database): a mobile stored as a JSON number, a record with no first
or last name. The views that read the patient index since #19 (the Patients list with mobiles in
national form, the mass email's count) show them, as they showed them before, instead of failing
for everyone on the list."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import settle

ODD: list[dict[str, Any]] = [
    {"id": "Q001", "title": "", "first_name": "Quill", "last_name": "Quarry", "family_id": "", "email": "",
     "mobile": 447700900071, "date_of_birth": "1990-01-01", "usual_provider_id": "DR1", "source": "test"},
    {"id": "Q002", "email": "", "mobile": "", "date_of_birth": "", "source": "test"},  # no name at all
]


def _rows(window: MainWindow) -> dict[str, list[str]]:
    model = window.patients.model_
    return {window.patients.id_at(r): [model.text(r, c) for c in range(model.columnCount())]
            for r in range(model.rowCount())}


def test_a_mobile_stored_as_a_number_and_a_nameless_record_are_listed(qtbot: QtBot, window: MainWindow) -> None:
    window.app.directory._coll("patients").insert_many([dict(r) for r in ODD])
    window.tabs.setCurrentIndex(3)
    qtbot.keyClicks(window.patient_search, "Quarry")
    qtbot.waitUntil(lambda: "Q001" in _rows(window), timeout=10000)
    assert _rows(window)["Q001"][2] == "447700900071"  # shown as stored (not guessed at)
    window.patient_search.clear()
    qtbot.keyClicks(window.patient_search, "Q002")
    qtbot.waitUntil(lambda: "Q002" in _rows(window), timeout=10000)
    settle(qtbot, window)


def test_the_mass_email_counts_everyone_with_a_nameless_record_among_them(qtbot: QtBot, window: MainWindow) -> None:
    window.app.directory._coll("patients").insert_many([dict(r) for r in ODD])
    dialog = window.open_mass_mail()
    qtbot.add_widget(dialog)
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    qtbot.waitUntil(lambda: dialog.count.text() not in ("Counting...", "") or dialog.problem.text() != "",
                    timeout=10000)
    assert dialog.problem.text() == "" and "emails to" in dialog.count.text(), (dialog.problem.text(),
                                                                               dialog.count.text())
    dialog.close()


def test_a_count_that_fails_says_so_and_no_longer_says_counting(qtbot: QtBot, window: MainWindow) -> None:
    """An address stored as a number (another program's write) fails the count: the problem is
    said, and the count no longer says "Counting..." beside it as if it were still coming."""
    window.app.directory._coll("patients").insert({**ODD[0], "id": "Q003", "email": 12345})
    dialog = window.open_mass_mail()
    qtbot.add_widget(dialog)
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    qtbot.waitUntil(lambda: "Could not count" in dialog.problem.text(), timeout=10000)
    settle(qtbot, window)
    assert dialog.count.text() != "Counting..." and not dialog.queue.isEnabled()
    dialog.close()
