"""File... in the inbox (#19: "read and file replies by name"): the address's family first, any
other patient found by typing, or a specialist; clicked through, filed by name and said so."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from kiosk.file_to import FileTo
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def _family_mail(qtbot: QtBot, window: MainWindow, fakemail: FakeMail, n: int = 1) -> None:
    for i in range(n):
        fakemail.deliver("practice", b"From: patel.family@mailhome.example\r\nSubject: Family question %d\r\n"
                                     b"Message-ID: <fam%d@x>\r\n\r\nhello\r\n" % (i, i))
    send_receive(qtbot, window)
    window.show_view("inbox")
    qtbot.waitUntil(lambda: window.inbox.model_.rowCount() == n)


def _open(qtbot: QtBot, window: MainWindow) -> FileTo:
    window.inbox.selectRow(0)
    button = next(b for b in window.inbox_page.findChildren(QPushButton) if b.text() == "File...")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    (dialog,) = [d for d in window.inbox_page.findChildren(FileTo) if d.isVisible()]
    assert dialog.isModal()
    return dialog


def test_the_family_first_then_anyone_by_typing(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    _family_mail(qtbot, window, fakemail, 2)
    dialog = _open(qtbot, window)
    listed = [dialog.patient.itemText(i) for i in range(1, 5)]
    assert all("Patel" in name for name in listed), listed  # the four at the address, by name
    assert dialog.file.isEnabled()  # the first of them offered, to confirm
    qtbot.keyClicks(dialog.choice.find, "Angus")  # someone else entirely: found as typed
    assert dialog.patient.currentData() == "P033"
    qtbot.mouseClick(dialog.file, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert "Angus" in window.status_line.text() and "Family question" in window.status_line.text()
    assert any(r["patient_id"] == "P033" for r in window.app.engine.inbox.list(any_tags=True, include_actioned=True))
    dialog = _open(qtbot, window)  # the other message: to a specialist
    index = next(i for i in range(dialog.specialist.count()) if "Lindqvist" in dialog.specialist.itemText(i))
    dialog.specialist.setCurrentIndex(index)
    assert dialog.patient.currentData() == ""  # one or the other
    qtbot.mouseClick(dialog.file, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert "specialist" in window.status_line.text() and "Lindqvist" in window.status_line.text()


def test_cancel_files_nothing(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    _family_mail(qtbot, window, fakemail)
    dialog = _open(qtbot, window)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    settle(qtbot, window)
    (msg,) = window.app.engine.inbox.list(any_tags=True, include_actioned=True)
    assert not msg.get("patient_id") and msg.get("candidates")

