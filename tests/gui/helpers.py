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
    return w.last_pass


