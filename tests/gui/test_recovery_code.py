"""The Users page and recovery codes (engine/service/recovery.py): a super user without a PIN
chooses one before anything else there, and sees their first code once; "New recovery code"
gives a signed-in super user a new one, the old one stops working, neither is kept in clear."""

from __future__ import annotations

import re

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.service.app import SUPER, PinRefused
from engine.service.recovery import ALPHABET
from kiosk.main_window import MainWindow

CODE = re.compile(rf"[{ALPHABET}]{{5}}(-[{ALPHABET}]{{5}}){{3}}")


def test_a_super_user_without_a_pin_chooses_one_first_and_sees_the_code_once(qtbot: QtBot,
                                                                            window: MainWindow) -> None:
    assert window.sign_in(SUPER, "") and not window.role.permissions >= {"manage_pins"}
    assert window.pins.isEnabled()
    dialog = window.open_pins()
    qtbot.add_widget(dialog)
    page = dialog.page
    assert not page.add_user.isEnabled() and not page.save_group.isEnabled() and not page.new_code.isEnabled()
    assert "no PIN yet" in page.problem.text()
    page.select(user="reception")  # only their own PIN, whatever is chosen
    qtbot.keyClicks(page.pin, "8642")
    qtbot.keyClicks(page.again, "8642")
    qtbot.mouseClick(page.save_user, Qt.MouseButton.LeftButton)
    assert window.roles.verify(SUPER, "8642") and not window.roles.has_pin("reception")
    found = CODE.search(page.code.text())
    assert found and "only this once" in page.code.text()
    assert "manage_pins" in window.role.permissions and page.add_user.isEnabled() and page.new_code.isEnabled()
    window.app.recovery.recover(SUPER, found.group(0), "1357")
    assert window.roles.verify(SUPER, "1357")


def test_new_recovery_code_replaces_the_old_and_neither_is_kept_in_clear(qtbot: QtBot, window: MainWindow) -> None:
    window.roles.add_user("Boss", SUPER, "2468")
    old = window.app.recovery.first_code("Boss")
    assert old and window.sign_in("Boss", "2468")
    dialog = window.open_pins()
    qtbot.add_widget(dialog)
    page = dialog.page
    assert page.new_code.isEnabled() and page.code.text() == ""
    qtbot.mouseClick(page.new_code, Qt.MouseButton.LeftButton)
    found = CODE.search(page.code.text())
    assert found and found.group(0) != old and "no longer works" in page.said.text()
    with pytest.raises(PinRefused):
        window.app.recovery.recover("Boss", old, "1357")  # the old one stops working
    folder = window.app.practice.folder
    blob = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())
    for code in (old, found.group(0)):
        assert code not in blob and code.replace("-", "") not in blob
    window.app.recovery.recover("Boss", found.group(0), "1357")
    assert window.roles.verify("Boss", "1357")
