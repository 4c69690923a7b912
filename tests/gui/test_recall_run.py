"""A recall run started at the desk (issue 18): from the recall list, for a group allowed mass
email; the engine's dry run first (the CLI's own), then the messages queued after a question,
on the jobs thread, shown in the outbox with their clock; Cancel and No queue nothing."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from kiosk.recall_run import RecallRunDialog, end_of_next_month
from tests.conftest import ROOT
from tests.gui.helpers import answer, settle
from tests.unit.test_cli import pm

CSV = ROOT / "fixtures" / "demo" / "recalls.csv"


def recall_items(window: MainWindow) -> list:
    return [i for i in window.app.outbox_items() if i.record.get("recall_keys")]


def open_run(qtbot: QtBot, window: MainWindow, due: QDate | None = None) -> RecallRunDialog:
    """The recall list's "Run recalls..." clicked, its preview waited for (on the jobs thread)."""
    from engine.service.recalls import Recalls

    Recalls(window.app.practice, window.app.outbox).import_csv(CSV)
    window.tabs.setCurrentWidget(window.day_list)
    qtbot.mouseClick(window.day_list.buttons["Recall list..."], Qt.MouseButton.LeftButton)
    recalls = window.day_list.last_recalls
    qtbot.add_widget(recalls)
    assert recalls.buttons["Run recalls..."].isVisibleTo(recalls)
    qtbot.mouseClick(recalls.buttons["Run recalls..."], Qt.MouseButton.LeftButton)
    dialog = recalls.last_run
    assert dialog is not None
    qtbot.add_widget(dialog)
    if due is not None:
        dialog.due.setDate(due)
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    return dialog


def test_the_preview_is_the_command_lines_dry_run(qtbot: QtBot, window: MainWindow, data_dir: Path) -> None:
    dialog = open_run(qtbot, window)
    today = window.app.now().astimezone(window.app.zone()).date()
    assert dialog.due.date().toPyDate() == end_of_next_month(today)  # the default
    assert dialog.location.currentText() == "All locations"
    dialog.due.setDate(QDate(2026, 12, 31))
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    run = dialog.preview
    cli = pm("recalls", "run", "--due-before", "2026-12-31", "--dry-run", "--json", data=data_dir)
    assert cli.returncode == 0, cli.stderr
    doc = json.loads(cli.stdout)
    assert [(m.to, list(m.patient_ids)) for m in run.messages] == [(m["to"], m["patients"]) for m in doc["messages"]]
    assert len(run.messages) == 5 and run.emails + run.texts == 5
    no_address = [window.app.patient(pid).name for pid in doc["no_address"]]
    assert [name for name, _why in run.skipped] == no_address and doc["opted_out"] == doc["already_queued"] == []
    assert [why for _name, why in run.skipped] == ["no email address or mobile"]
    text = dialog.summary.text()
    assert text.startswith(f"{run.patients} patients: 5 messages, {run.emails} by email and {run.texts} by text")
    assert no_address[0] in text and dialog.queue.text() == "Queue 5 messages..." and dialog.queue.isEnabled()
    for family in run.families:  # a family due together at one address: one message, its names listed
        assert ", ".join(family.names) in text
    assert "Staggered: the first goes after" in text
    assert len(run.families) == sum(1 for m in doc["messages"] if len(m["patients"]) > 1) >= 1
    dialog.location.setCurrentIndex(dialog.location.findData("Riverside Surgery"))
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    cli = pm("recalls", "run", "--due-before", "2026-12-31", "--location", "Riverside Surgery", "--dry-run",
             "--json", data=data_dir)
    assert [list(m.patient_ids) for m in dialog.preview.messages] == \
        [m["patients"] for m in json.loads(cli.stdout)["messages"]]
    assert recall_items(window) == []  # previews queue nothing


def test_queueing_asks_then_the_outbox_shows_the_items_with_their_clock(qtbot: QtBot, window: MainWindow) -> None:
    from kiosk.outbox_page import LATER

    dialog = open_run(qtbot, window, QDate(2026, 12, 31))
    asked: list[str] = []
    answer("No", asked)
    qtbot.mouseClick(dialog.queue, Qt.MouseButton.LeftButton)
    assert asked[0].startswith("Queue 5 recall messages to") and recall_items(window) == []
    answer("Yes")
    qtbot.mouseClick(dialog.queue, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: dialog.result is not None, timeout=15000)
    assert dialog.result.queued == 5 and len(recall_items(window)) == 5
    assert dialog.summary.text().startswith("Queued 5 recall messages") and not dialog.queue.isEnabled()
    assert dialog.cancel.text() == "Close"
    assert {r.status for r in window.app.recall_list() if r.patient_id in ("P001", "P002", "P033")} == {"sent"}
    window.show_view("outbox")
    window.outbox_page.refresh()
    settle(qtbot, window)
    table = window.outbox_page.table
    m = table.model_
    cells = [[m.text(r, c) for c in range(m.columnCount())] for r in range(m.rowCount())]
    later = [row for row in cells if any(c.startswith(LATER) for c in row)]
    assert len(later) >= 4, cells  # staggered: all but the first wait for their time


def test_cancel_queues_nothing(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_run(qtbot, window, QDate(2026, 11, 30))  # before the first recall is due
    assert dialog.summary.text() == "Nobody is due a recall then." and not dialog.queue.isEnabled()
    dialog.due.setDate(QDate(2026, 12, 31))
    qtbot.wait_until(lambda: dialog.preview is not None, timeout=15000)
    assert dialog.queue.isEnabled()
    qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    settle(qtbot, window)
    assert recall_items(window) == [] and {r.status for r in window.app.recall_list()} == {"due"}


def test_only_a_group_allowed_mass_email_may_run_recalls(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_run(qtbot, window, QDate(2026, 12, 31))  # reception may
    window.apply_role("dentist")  # no mass email: signed in while the dialog was open
    looked: list[str] = []
    say_yes_if_asked(looked)  # a question asked would be answered Yes (and named): the test then fails
    qtbot.mouseClick(dialog.queue, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(looked), timeout=15000)
    assert looked == ["nothing asked"] and "allowed mass email" in dialog.problem.text()
    settle(qtbot, window)
    assert recall_items(window) == [] and dialog.result is None
    dialog.close()
    qtbot.mouseClick(window.day_list.buttons["Recall list..."], Qt.MouseButton.LeftButton)
    recalls = window.day_list.last_recalls
    qtbot.add_widget(recalls)
    assert not recalls.buttons["Run recalls..."].isVisibleTo(recalls)  # not shown
    assert recalls.open_run() is None and recalls.last_run is None  # and not opened when asked anyway
    assert recall_items(window) == []


def say_yes_if_asked(looked: list[str], tries: int = 20) -> None:
    """Like helpers.answer("Yes"), but it looks a few times only, then appends "nothing asked"."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QAbstractButton, QApplication, QMessageBox

    def look(left: int) -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            if left:
                QTimer.singleShot(10, lambda: look(left - 1))
            else:
                looked.append("nothing asked")
            return
        looked.append(box.text() if isinstance(box, QMessageBox) else box.windowTitle())
        next(b for b in box.findChildren(QAbstractButton) if b.text().replace("&", "") == "Yes").click()

    QTimer.singleShot(0, lambda: look(tries))
