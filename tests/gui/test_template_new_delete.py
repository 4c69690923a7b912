"""Template New / Copy / Delete with the code guard, and text-message templates with their live count."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication, QInputDialog
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import answer


def type_answer(text: str) -> None:
    """Type `text` into the next modal input dialog and press OK."""

    def fill() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QInputDialog):
            QTimer.singleShot(10, fill)
            return
        box.setTextValue(text)
        box.accept()

    QTimer.singleShot(0, fill)


def click(qtbot: QtBot, button) -> None:  # noqa: ANN001
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_new_template_code_is_guarded_then_saved(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("templates")
    ed = window.template_editor
    before = ed.list.count()
    type_answer("bad code!")
    click(qtbot, ed.actions["New..."])
    assert "cannot be a template code" in ed.problems.text() and not ed.is_new
    type_answer("recall")  # upper-cased: another template's code
    click(qtbot, ed.actions["New..."])
    assert "already used" in ed.problems.text() and not ed.is_new
    type_answer("NEWSLETTER")
    click(qtbot, ed.actions["New..."])
    assert ed.is_new and ed.code.text() == "NEWSLETTER" and ed.body.toPlainText() == ""
    qtbot.keyClicks(ed.description, "Winter newsletter")
    qtbot.keyClicks(ed.subject, "News from {{ practice.name }}")
    qtbot.keyClicks(ed.body, "Dear {{ patient.first_name }}")
    click(qtbot, ed.save)
    assert ed.list.count() == before + 1 and window.app.templates.get("NEWSLETTER").description == "Winter newsletter"
    ed.code.setText("RECALL")  # typing another template's code into Code does not overwrite it
    assert not ed.save_template() and "already used" in ed.problems.text()
    assert window.app.templates.get("RECALL").description != "Winter newsletter"


def test_delete_asks_naming_the_template_and_refuses_one_in_use(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("templates")
    ed = window.template_editor
    ed.list.setCurrentRow(ed.row_of("RECALL"))
    asked: list[str] = []
    answer("Yes", asked)
    click(qtbot, ed.actions["Delete..."])
    assert "(RECALL)" in asked[0]
    assert "recalls.template" in ed.problems.text() and window.app.templates.exists("RECALL")
    type_answer("RECALL-2")
    click(qtbot, ed.actions["Copy..."])
    assert window.app.templates.get("RECALL-2").body == window.app.templates.get("RECALL").body
    ed.list.setCurrentRow(ed.row_of("RECALL-2"))
    answer("No")
    click(qtbot, ed.actions["Delete..."])
    assert window.app.templates.exists("RECALL-2")  # No keeps it
    answer("Yes", asked)
    click(qtbot, ed.actions["Delete..."])
    assert "Copy of" in asked[-1] and not window.app.templates.exists("RECALL-2")
    assert ed.row_of("RECALL-2") == -1


def test_sms_template_counts_live_and_keeps_to_the_most_segments(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("templates")
    ed = window.template_editor
    type_answer("TEXTREM")
    click(qtbot, ed.actions["New..."])
    ed.kind.setCurrentIndex(ed.kind.findData("sms"))
    assert not ed.subject.isVisible() and ed.count.isVisible()
    qtbot.keyClicks(ed.description, "Reminder by text")
    qtbot.keyClicks(ed.body, "Hi {{ patient.first_name }}, see you soon.")
    # the sample patient is Zoë: ë is not in the GSM alphabet, so the text counts in UCS-2 (70 a message)
    assert ed.count.text() == "1 message, 49 characters left"
    ed.body.setPlainText("x" * 161)
    assert ed.count.text().startswith("2 messages")
    ed.grab().save("/tmp/kioska/template_editor_sms.png")
    ed.body.setPlainText("x" * 153 * 3 + "y")  # four parts; the demo allows three
    assert not ed.save_template() and "allows 3" in ed.problems.text()
    ed.body.setPlainText("Hi {{ patient.first_name }}, see you soon. {{ practice.phone }}")
    assert ed.save_template()
    saved = window.app.templates.get("TEXTREM")
    assert saved.kind == "sms" and saved.subject == ""
    assert ed.list.item(ed.row_of("TEXTREM")).text() == "Reminder by text (SMS)"
