"""Start the kiosk: a QApplication, the main window, and optionally a screenshot."""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from engine.service.practice import Practice
from kiosk.main_window import MainWindow


def run_kiosk(folder: Path, screenshot: str | None = None, view: str = "inbox") -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    practice = Practice(folder, writer=True, command="practicemail kiosk")
    try:
        window = MainWindow(practice)
        window.resize(1200, 760)
        window.show_view(view)
        window.show()
        if screenshot:
            def grab() -> None:
                window.grab().save(screenshot, "PNG")
                app.quit()

            QTimer.singleShot(200, grab)
        return app.exec()
    finally:
        practice.close()
