from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.service.demo import load_demo
from engine.service.practice import Practice
from kiosk.main_window import MainWindow


def test_demo_window_shows_the_practice(qtbot: QtBot, data_dir: Path) -> None:
    with Practice(data_dir, writer=True) as p:
        load_demo(p)
        window = MainWindow(p)
        qtbot.add_widget(window)
        window.show_view("patient")
        table = window.tabs.currentWidget()
        assert table.rowCount() == len(p.directory.list("patients"))
        assert "Bright Smile" in window.windowTitle()
