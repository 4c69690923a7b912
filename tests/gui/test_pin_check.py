"""Signing in at the desk with a PIN (#19), as reception sees it. The PIN is checked off the GUI
thread (scrypt is slow on purpose: on the GUI thread the window froze for it): the window keeps
ticking meanwhile, the dialog says it is checking and takes no second Sign in. Five wrong PINs
lock the user out: the dialog says until when, in the practice's time; the wait passes on the
App's clock (a fake one, never a sleep), or the practice manager lets them sign in again from
the Users page, after a question naming them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from PyQt6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from engine.adapters.clock import FakeClock
from engine.service.app import SUPER, App
from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from kiosk.pins import CHECKING, SignInDialog
from tests.gui.helpers import answer, settle
from tests.gui.test_security_groups import click_action

PIN, WRONG = "2580", "0000"
START = datetime(2026, 12, 1, 10, 37, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def desk(qtbot: QtBot, practice: Practice, clock: FakeClock) -> Iterator[MainWindow]:
    """The kiosk's window over an App on a fake clock (its engine not started: nothing here sends)."""
    app = App(practice, clock=clock)
    w = MainWindow(app)
    qtbot.add_widget(w)
    w.show()
    yield w
    w.timer.stop()
    w.jobs.finish()
    app.close()


def open_sign_in(qtbot: QtBot, w: MainWindow, name: str) -> SignInDialog:
    click_action(qtbot, w, w.role_action)
    dialog = w.sign_in_dialog
    qtbot.add_widget(dialog)
    dialog.user.setCurrentIndex(dialog.user.findData(name))
    return dialog


def submit(qtbot: QtBot, dialog: SignInDialog, pin: str) -> str:
    """Type `pin`, press Return, wait for the answer: what the dialog says then."""
    qtbot.keyClicks(dialog.pin, pin)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.wait_until(lambda: not dialog.checking, timeout=30000)
    return dialog.problem.text()


def wrong_pins(w: MainWindow, name: str) -> int:
    found = w.app.practice.store.collection("pin_tries").find_by("user", name.casefold())
    return int(found[0]["wrong"]) if found else 0


def test_the_window_keeps_ticking_while_a_pin_is_checked_and_a_second_return_is_no_second_try(
        qtbot: QtBot, window: MainWindow) -> None:
    window.roles.pin_cost = 2**16  # a costly PIN on purpose: four times the usual scrypt work
    window.roles.add_user("Tess", "dentist", PIN)
    settle(qtbot, window)
    ticks = {"checking": 0}

    def tick() -> None:
        dialog = getattr(window, "sign_in_dialog", None)
        if dialog is not None and dialog.checking:
            ticks["checking"] += 1

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(0)  # every turn of the GUI thread's event loop
    dialog = open_sign_in(qtbot, window, "Tess")
    qtbot.keyClicks(dialog.pin, WRONG)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert dialog.checking and dialog.problem.text() == CHECKING
    assert not dialog.go.isEnabled() and not dialog.pin.isEnabled() and dialog.pin.text() == ""
    assert not dialog.apply()  # a second Sign in (Return again, a click) while it is checked: not asked
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dialog.checking, timeout=30000)
    assert "do not match" in dialog.problem.text() and dialog.isVisible()
    assert wrong_pins(window, "Tess") == 1, "one Sign in, one wrong PIN counted"
    assert ticks["checking"] >= 2, f"the GUI thread stood still while the PIN was checked ({ticks})"
    print(f"GUI ticks while a wrong PIN was checked: {ticks['checking']}")
    ticks["checking"] = 0
    assert submit(qtbot, dialog, PIN) == ""
    timer.stop()
    assert window.role.user == "Tess" and not dialog.isVisible()
    assert ticks["checking"] >= 2, f"the GUI thread stood still while the PIN was checked ({ticks})"


def test_cancel_while_checking_signs_nobody_in(qtbot: QtBot, window: MainWindow) -> None:
    window.roles.add_user("Tess", "dentist", PIN)
    dialog = open_sign_in(qtbot, window, "Tess")
    qtbot.keyClicks(dialog.pin, PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    dialog.reject()
    qtbot.wait_until(lambda: not dialog.checking, timeout=30000)
    assert window.role.user == ""


def test_five_wrong_pins_say_when_to_try_again_and_the_wait_passes(qtbot: QtBot, desk: MainWindow,
                                                                   clock: FakeClock) -> None:
    desk.roles.add_user("Tess", "dentist", PIN)
    dialog = open_sign_in(qtbot, desk, "Tess")
    said = [submit(qtbot, dialog, WRONG) for _ in range(5)]
    assert all("do not match" in text for text in said[:4])
    again_at = (START + timedelta(minutes=5)).astimezone(desk.app.zone()).strftime("%H:%M")
    assert said[4].startswith(f"Too many wrong PINs for Tess: try again at {again_at}. "), said[4]
    assert "practice manager" in said[4] and dialog.isVisible()
    assert f"try again at {again_at}" in submit(qtbot, dialog, PIN)  # the right PIN waits too
    clock.advance(timedelta(minutes=4, seconds=59))
    assert f"try again at {again_at}" in submit(qtbot, dialog, PIN)
    clock.advance(timedelta(seconds=1))
    assert submit(qtbot, dialog, PIN) == "" and desk.role.user == "Tess" and not dialog.isVisible()


def test_the_practice_manager_lets_a_locked_out_user_sign_in_again(qtbot: QtBot, desk: MainWindow) -> None:
    desk.roles.add_user("Tess", "dentist", PIN)
    desk.roles.add_user("Ann", "reception", "1357")
    dialog = open_sign_in(qtbot, desk, "Tess")
    for _ in range(5):
        submit(qtbot, dialog, WRONG)
    dialog.close()
    desk.roles.update_user(SUPER, pin="8642")  # a super user manages once they have a PIN
    dialog = open_sign_in(qtbot, desk, SUPER)
    assert submit(qtbot, dialog, "8642") == "" and desk.role.user == SUPER
    click_action(qtbot, desk, desk.pins)
    users = desk.users_dialog
    qtbot.add_widget(users)
    page = users.page
    page.select(user="Ann")
    assert not page.let_in.isEnabled()  # Ann is not locked out
    page.select(user="Tess")
    shown = page.users.currentItem().text()
    assert "locked out until" in shown and page.let_in.isEnabled()
    asked: list[str] = []
    answer("No", asked)
    qtbot.mouseClick(page.let_in, Qt.MouseButton.LeftButton)
    assert asked and "Let Tess sign in again" in asked[0]
    assert desk.roles.locked_until("Tess") is not None  # No: still waiting
    answer("Yes", asked)
    qtbot.mouseClick(page.let_in, Qt.MouseButton.LeftButton)
    assert "Tess may sign in again" in page.said.text() and desk.roles.locked_until("Tess") is None
    assert "locked out" not in page.users.currentItem().text() and not page.let_in.isEnabled()
    users.close()
    dialog = open_sign_in(qtbot, desk, "Tess")
    assert submit(qtbot, dialog, PIN) == "" and desk.role.user == "Tess"  # no time passed
