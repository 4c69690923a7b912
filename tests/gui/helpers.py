"""Driving the kiosk the way reception does."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow


def send_receive(qtbot: QtBot, w: MainWindow) -> dict:
    w.last_pass = None
    w.send_receive.trigger()
    assert not w.send_receive.isEnabled()  # disabled while the pass runs
    qtbot.wait_until(lambda: w.last_pass is not None, timeout=15000)
    assert w.send_receive.isEnabled()
    settle(qtbot, w)
    return w.last_pass


def settle(qtbot: QtBot, w: MainWindow) -> None:
    """Every command clicked and every refresh asked for has run on the jobs thread and been shown."""
    qtbot.wait_until(w.jobs.idle, timeout=15000)




def answer(button_text: str, asked: list[str] | None = None) -> None:
    """Click `button_text` in the next modal question (shown by exec(), so answered from the event
    loop); what it asked is appended to `asked`."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QAbstractButton, QApplication, QMessageBox

    def click() -> None:
        box = QApplication.activeModalWidget()
        if box is None:  # not shown yet
            QTimer.singleShot(10, click)
            return
        if asked is not None:
            asked.append(box.text() if isinstance(box, QMessageBox) else box.windowTitle())
        next(b for b in box.findChildren(QAbstractButton) if b.text().replace("&", "") == button_text).click()

    QTimer.singleShot(0, click)
