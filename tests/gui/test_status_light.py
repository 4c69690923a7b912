"""The kiosk's light and the wizard's test result tell the truth (issue 14, finding 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.service.app import App
from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from kiosk.status_light import COLOURS, ServiceDialog, ServiceLight, tooltip
from kiosk.wizard import SetupWizard
from tests.gui.helpers import send_receive
from tests.integration.helpers import draft, open_practice
from tools.fakemail import FakeMail

GREY, AMBER, GREEN = "#8a8f96", COLOURS["failing"], COLOURS["running"]


@pytest.fixture
def empty_window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    """The kiosk on a fresh data folder: nothing set up."""
    with open_practice(tmp_path / "fresh") as p:
        app = App(p)
        app.start()
        w = MainWindow(app)
        qtbot.add_widget(w)
        w.show()
        yield w
        w.timer.stop()
        app.close()


def test_a_fresh_practice_shows_grey_not_set_up(empty_window: MainWindow) -> None:
    """Was: a green "Email service running" on a practice with no account at all."""
    light = empty_window.light
    assert light.state == "not_set_up" and light.colour == GREY and GREY != GREEN
    assert light.text() == "Email not set up: no email account is set up yet"
    assert "Email setup" in light.toolTip()


def test_smtp_login_refused_is_amber_with_the_reason_on_the_light(qtbot: QtBot, window: MainWindow,
                                                                   fakemail: FakeMail) -> None:
    fakemail.faults.add("smtp", "auth", "reject")
    window.app.engine.outbox.add_draft(draft(), window.app.engine.clock.now())
    send_receive(qtbot, window)  # the receive half works: it must not turn the light green
    qtbot.wait_until(lambda: window.light.state == "failing", timeout=5000)
    assert window.light.colour == AMBER
    assert window.light.text().startswith("Email service needs attention: sending: the server refused the login")
    assert "password" in window.light.toolTip()
    fakemail.faults.clear()
    send_receive(qtbot, window)
    qtbot.wait_until(lambda: window.light.state == "running", timeout=5000)
    assert window.light.colour == GREEN and window.light.text() == "Email service running"


def test_wizard_test_passes_on_the_servers_and_shows_the_service_apart(qtbot: QtBot, practice: Practice) -> None:
    """Was: "✘ email service running" listed above "Every step passed"."""
    app = App(practice)  # not started: no service runs on this computer
    wizard = SetupWizard(app)
    qtbot.add_widget(wizard)
    wizard.next()  # the connection page: no proxy
    wizard.next()
    qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    steps = [wizard.test.steps.item(i).text() for i in range(wizard.test.steps.count())]
    assert steps and all(s.startswith("✔") for s in steps), steps
    assert not any("service" in s for s in steps)
    assert wizard.test.passed and wizard.test.verdict.text() == "Passed: every step worked."
    assert wizard.test.service.text().startswith(
        "For information: the email service is not running on this computer.")
    assert wizard.test.result["ok"] is True


HOSTILE = "535 <b>no</b>\r\nX-Evil: 1\u2028line\u2029para\x85nel\x0bvt\x0cff \u202eosla\u202c \u200bzw &amp; " + "x" * 500


def test_a_hostile_reason_is_one_line_of_plain_text(qtbot: QtBot) -> None:
    light = ServiceLight()
    qtbot.add_widget(light)
    st = {"state": "failing", "reason": f"sending: {HOSTILE}", "hint": "<i>call</i>\nthe provider"}
    light.show_status(st)
    shown = light.text()
    assert "\n" not in shown and "\r" not in shown and len(shown) < 120
    assert not any(ch in shown for ch in "\u2028\u2029\x85\x0b\x0c\u202e\u202c\u200b")
    tip = tooltip(st)
    assert "<b>" not in tip and "&lt;b&gt;" in tip and "<i>" not in tip and "&amp;amp;" in tip
    dialog = ServiceDialog(st)
    qtbot.add_widget(dialog)
    assert dialog.reason.textFormat() == Qt.TextFormat.PlainText and "<b>no</b>" in dialog.reason.text()
    assert "\n" not in dialog.reason.text() and "\u202e" not in dialog.reason.text()
