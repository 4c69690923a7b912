"""Start the kiosk: a QApplication, the main window, and optionally a screenshot."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PyQt6.QtCore import QEvent, QTimer
from PyQt6.QtWidgets import QApplication

from engine.service.app import App
from kiosk.main_window import MainWindow


def _choose_platform(screenshot: str | None) -> None:
    """Qt aborts without a display; a screenshot never needs one, and a machine without one says so."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("win32", "darwin")
    if screenshot or not has_display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not screenshot:
            print("practicemail: no display found; the kiosk runs offscreen (set DISPLAY to see it)", file=sys.stderr)


def settle_heap() -> None:
    """What the kiosk has loaded once its window shows lives as long as it does (the modules and
    classes of PyQt, the email package and ours, the window, the stores' first reads): collected
    once, then frozen out of every later full garbage collection.

    Why (issue 15): a full collection holds the GIL while it visits every tracked object of the
    process, ~110,000 here, 60-150 ms, on whichever thread's allocation tripped it: during a
    Send/Receive of 500 the worker's, while the GUI thread waited for the GIL (the kiosk's
    longest stall; tools/bench/kiosk_receive.py --why times them). Frozen, a later collection
    visits only what came after. Frozen objects are still freed by their reference counts; only
    a cycle among them that becomes garbage later stays, and collecting first freezes none of
    today's garbage."""
    gc.collect()
    gc.freeze()


GIL_TURN = 0.0005  # seconds; CPython's default is 0.005


def share_the_gil() -> None:
    """A thread that wants the GIL asks the holder to let go after GIL_TURN instead of 5 ms.

    Why (issue 15): every call into Qt lets go of the GIL, so the GUI thread takes it back many
    times per frame; during a Send/Receive the worker and the jobs thread are busy in Python and
    each take back waited up to a whole switch interval, again and again (a convoy). Measured with
    tools/bench/kiosk_receive.py at load ~1: longest stall of the 500/500 pass 40-83 ms (median
    ~61, 8 runs) at 5 ms; 35-51 ms at 1 ms; 29-38 ms at 0.5 ms (4 runs each); the pass itself no
    slower (1.4-1.8 s). Only the kiosk's process: the headless service keeps the default."""
    sys.setswitchinterval(GIL_TURN)


def run_kiosk(folder: Path, screenshot: str | None = None, view: str = "inbox", first_pass: bool = False,
              database: str | None = None, sign_in_as: str = "") -> int:
    """`database`: a URL typed on the command line (else PRACTICEMAIL_DATABASE, else TinyDB). On a
    database where the service runs elsewhere, this desk asks it and hears its changes (App.open_desk).
    `sign_in_as`: a user without a PIN signed in first (the demo's super user, for Setup)."""
    _choose_platform(screenshot)
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    share_the_gil()  # before the window is built: the start waits on the busy threads' turns too
    with App.open_desk(folder, database=database, url_typed=database is not None) as app:
        if app.writer:
            app.start()
        if first_pass and app.writer:  # the demo opens on a morning's mail already fetched
            app.send_receive_now(timeout=60)
        window = MainWindow(app)
        window.resize(1280, 800)
        if sign_in_as:
            window.sign_in(sign_in_as, "")
        window.show_view(view)
        window.show()
        settle_heap()
        if screenshot:
            def grab() -> None:
                target = window.dialog if window.dialog is not None else window
                target.grab().save(screenshot, "PNG")
                qt.quit()

            QTimer.singleShot(200, grab)
        code = qt.exec()
        take_down(qt)
        return code


def take_down(qt: QApplication) -> None:
    """Every window deleted by Qt now, while Python still runs: left to PyQt's clean-up at
    interpreter exit, a wrapper whose widget Qt had already deleted (the setup wizard's) was
    visited after its memory was freed, and the process ended in a segmentation fault (1 run
    in 6-14 of `demo --view wizard --screenshot`, exit code 139)."""
    for widget in qt.topLevelWidgets():
        widget.deleteLater()
    qt.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
