"""The setup wizard's connection page (#18), driven by keys and clicks: a practice behind a proxy
sets it up at the desk (address, port, kind, login, email too), the wizard's Test then goes
through a real proxy (pproxy, its own process; its log is the witness) and says so; the password
is stored encrypted and never shown back; a bad value is named and nothing saved; Cancel puts
back what the page saved."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLineEdit, QWizard
from pytestqt.qtbot import QtBot

from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from kiosk.wizard import SetupWizard
from tests.gui.test_wizard_practice import to_page
from tests.integration.proxying import pproxy
from tools.fakemail import FakeMail

PASSWORD = "s3cret pass:word"  # a space and a colon: quoted for the proxy, never shown


def tick(qtbot: QtBot, box: object) -> None:
    qtbot.keyClick(box, Qt.Key.Key_Space)


def type_port(qtbot: QtBot, spin: object, port: int) -> None:
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, str(port))


def click_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)


def open_at_proxy(qtbot: QtBot, window: MainWindow) -> SetupWizard:
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    to_page(qtbot, wizard, wizard.proxy)
    return wizard


def test_the_proxy_set_in_the_wizard_carries_the_test_and_cancel_puts_it_back(
        qtbot: QtBot, window: MainWindow, practice: Practice, fakemail: FakeMail, data_dir: Path) -> None:
    s = practice.settings
    with pproxy("http", f"desk:{PASSWORD}") as proxy:
        wizard = open_at_proxy(qtbot, window)
        page = wizard.proxy
        assert not page.address.isEnabled()  # no proxy: greyed until ticked
        tick(qtbot, page.use)
        qtbot.keyClicks(page.address, "127.0.0.1")
        type_port(qtbot, page.port, proxy.port)
        qtbot.keyClicks(page.user, "desk")
        qtbot.keyClicks(page.password, PASSWORD)
        tick(qtbot, page.for_email)
        click_next(qtbot, wizard)
        assert wizard.currentPage() is wizard.test, page.error.text()  # password account: no sign-in page
        assert (s.get("proxy.address"), s.get("proxy.port"), s.get("proxy.kind"), s.get("proxy.user"),
                s.get("proxy.use_for_email")) == ("127.0.0.1", proxy.port, "http", "desk", True)
        assert s.secret("proxy.password") == PASSWORD
        stored = [f.read_bytes() for f in data_dir.rglob("*") if f.is_file()]
        assert stored and not any(PASSWORD.encode() in b for b in stored)  # encrypted at rest, not in the log
        qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
        qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
        where = f"127.0.0.1:{proxy.port}"
        steps = [wizard.test.steps.item(i).text() for i in range(wizard.test.steps.count())]
        assert wizard.test.passed, (wizard.test.verdict.text(), steps)
        assert wizard.test.verdict.text() == f"Passed: every step worked through the proxy at {where}."
        assert sum(f"answered through the proxy at {where}" in x for x in steps) == 2, steps
        assert proxy.went_to(int(s.get("outgoing.port"))) and proxy.went_to(int(s.get("incoming.port")))
        assert fakemail.sent() == []
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert s.get("proxy.address") in ("", None) and s.secret("proxy.password") == ""
    assert s.get("proxy.use_for_email") is False


def test_the_password_is_never_shown_back_and_socks5_takes_its_own_port(
        qtbot: QtBot, window: MainWindow, practice: Practice) -> None:
    s = practice.settings
    s.set_many({"proxy.address": "proxy.practice.local", "proxy.kind": "http", "proxy.user": "desk",
                "proxy.password": PASSWORD})
    wizard = open_at_proxy(qtbot, window)
    page = wizard.proxy
    assert page.use.isChecked() and page.address.text() == "proxy.practice.local" and page.port.value() == 3128
    assert page.password.text() == "" and page.password.placeholderText() == "unchanged"
    assert not any(PASSWORD in w.text() for w in wizard.findChildren(QLineEdit))
    page.kind.setFocus()
    qtbot.keyClick(page.kind, Qt.Key.Key_Down)
    assert page.kind.currentData() == "socks5" and page.port.value() == 1080  # the kind's usual port
    click_next(qtbot, wizard)
    assert (s.get("proxy.kind"), s.get("proxy.port")) == ("socks5", 1080)
    assert s.secret("proxy.password") == PASSWORD  # left empty: unchanged
    assert wizard.proxy.route() == " directly (email does not use the proxy at proxy.practice.local:1080)"
    click_back = wizard.button(QWizard.WizardButton.BackButton)
    qtbot.mouseClick(click_back, Qt.MouseButton.LeftButton)
    page.user.selectAll()
    qtbot.keyClick(page.user, Qt.Key.Key_Delete)  # no login any more: its password goes too
    click_next(qtbot, wizard)
    assert s.get("proxy.user") in ("", None) and s.secret("proxy.password") == ""


def test_a_bad_proxy_address_is_named_and_nothing_is_saved(qtbot: QtBot, window: MainWindow,
                                                           practice: Practice) -> None:
    s = practice.settings
    wizard = open_at_proxy(qtbot, window)
    page = wizard.proxy
    tick(qtbot, page.use)
    for bad in ("proxy.practice.local\u202e", "two words"):
        page.address.clear()
        page.address.insert(bad)  # QTest types ASCII only: the bidi control as an input method puts it
        click_next(qtbot, wizard)
        assert wizard.currentPage() is page
        assert "proxy.address" in page.error.text() and page.error.text().startswith("Not saved:")
        assert "\u202e" not in page.error.text()
        assert s.get("proxy.address") in ("", None)
    page.address.setText("10.0.0.5\r\nHost: evil.example")  # a line break, as pasted (offscreen has no clipboard)
    click_next(qtbot, wizard)
    stored = s.get("proxy.address") or ""
    assert "\r" not in stored and "\n" not in stored and "evil" not in stored
    assert stored == "" and wizard.currentPage() is page


def test_unticking_turns_the_proxy_off_and_cancel_turns_it_back_on(qtbot: QtBot, window: MainWindow,
                                                                   practice: Practice) -> None:
    s = practice.settings
    s.set_many({"proxy.address": "10.0.0.5", "proxy.port": 8080, "proxy.use_for_email": True})
    wizard = open_at_proxy(qtbot, window)
    tick(qtbot, wizard.proxy.use)
    assert not wizard.proxy.address.isEnabled() and wizard.proxy.address.text() == "10.0.0.5"  # kept, greyed
    click_next(qtbot, wizard)
    assert s.get("proxy.address") in ("", None) and s.get("proxy.port") == 8080
    assert wizard.proxy.route() == ""
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert (s.get("proxy.address"), s.get("proxy.port"), s.get("proxy.use_for_email")) == ("10.0.0.5", 8080, True)
