"""A whole day at the desk (issue 19): buttons that do what they say, an empty compose, names
not codes, nothing typed lost without asking, a readable outbox, searches, feedback."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive, settle
from tools.fakemail import FakeMail

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
CLICKS = {"clicked", "triggered"}  # Qt passes `checked` into a slot that takes a positional argument


def button(widget: object, text: str) -> QPushButton:
    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)


def _deliver(fakemail: FakeMail, n: int) -> None:
    for i in range(n):
        fakemail.deliver("practice", f"From: stranger{i}@example.com\r\nSubject: Question {i}\r\n"
                                     f"Message-ID: <q{i}@example.com>\r\n\r\nHello\r\n".encode())


def test_mark_read_button_and_menu_mark_read(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """Issue 19 item 13: the button passed checked=False into mark_selected_read(read)."""
    _deliver(fakemail, 1)
    send_receive(qtbot, window)
    window.inbox.selectRow(0)
    rid = window.inbox.selected_ids()[0]
    qtbot.mouseClick(button(window.inbox_page, "Mark unread"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert not window.app.engine.inbox.get(rid)["read"]
    qtbot.mouseClick(button(window.inbox_page, "Mark read"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.app.engine.inbox.get(rid)["read"]
    window.inbox_page.mark_selected_read(False)
    menu = window.inbox_page.menu()
    next(a for a in menu.actions() if a.text() == "Mark read").trigger()
    settle(qtbot, window)
    assert window.app.engine.inbox.get(rid)["read"]


def _methods(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}


def _takes_positional(f: ast.FunctionDef) -> bool:
    names = [a.arg for a in [*f.args.posonlyargs, *f.args.args] if a.arg != "self"]
    return bool(names or f.args.vararg)


def _slot_problem(slot: ast.expr, methods: dict[str, ast.FunctionDef]) -> str | None:
    """A slot Qt would hand `checked` to: a method of ours taking a positional argument, or a
    bare name (a slot from a list, which could be anything)."""
    if isinstance(slot, ast.Lambda):
        return None
    if isinstance(slot, ast.Attribute) and isinstance(slot.value, ast.Name) and slot.value.id == "self":
        f = methods.get(slot.attr)
        return f"self.{slot.attr} takes a positional argument" if f and _takes_positional(f) else None
    if isinstance(slot, ast.Name):
        return f"{slot.id}: a slot from a variable, not wrapped"
    return None


def test_no_click_or_trigger_hands_checked_to_a_slot() -> None:
    """Every clicked/triggered connection (and QMenu.addAction(text, slot)) in kiosk/ reaches a
    slot that takes no positional argument, or goes through a lambda that drops it."""
    found = []
    for path in sorted(KIOSK.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        methods = _methods(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            slot = None
            if node.func.attr == "connect" and isinstance(node.func.value, ast.Attribute) \
                    and node.func.value.attr in CLICKS and node.args:
                slot = node.args[0]
            elif node.func.attr == "addAction" and len(node.args) >= 2:
                slot = node.args[-1]
            problem = _slot_problem(slot, methods) if slot is not None else None
            if problem:
                found.append(f"{path.name}:{node.lineno}: {problem}")
    assert found == []


def test_create_new_email_opens_with_no_patient_chosen(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 3: Ctrl+N chose the alphabetically first patient; two clicks sent to them."""
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.last_compose
    assert dialog is not None
    qtbot.add_widget(dialog)
    assert not dialog.patient.currentData()
    assert not dialog.send.isEnabled() and not dialog.save_draft.isEnabled()
    assert "patient" in dialog.problem.text().lower()
    qtbot.keyClicks(dialog.subject, "Hello")
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)
    assert dialog.queued_id is None and dialog.isVisible()
    dialog.patient.setCurrentIndex(dialog.patient.findData("P001"))
    assert dialog.send.isEnabled() and dialog.problem.text() == ""
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert dialog.queued_id is not None and window.app.engine.outbox.get(dialog.queued_id)["patient_id"] == "P001"


CODE = re.compile(r"\b(P0\d\d|F0\d|DR\d|HYG\d|SP\d)\b")


def _cells(table: object) -> list[str]:
    m = table.model_
    return [m.text(r, c) for r in range(m.rowCount()) for c in range(m.columnCount())]


def test_the_inbox_fits_a_1280_window_with_a_family_to_choose_from(qtbot: QtBot, window: MainWindow,
                                                                   fakemail: FakeMail) -> None:
    """Candidates listed whole with titles ('? Mrs Priya Patel, Mr Arjun Patel, ...') pushed the
    Specialist and Tags columns out of a 1280x800 window: reception scrolled sideways."""
    fakemail.deliver("practice", b"From: patel.family@mailhome.example\r\nSubject: Family question\r\n"
                                 b"Message-ID: <fam@x>\r\n\r\nhello\r\n")
    send_receive(qtbot, window)
    window.resize(1280, 800)
    window.show()
    window.show_view("inbox")
    qtbot.waitUntil(lambda: window.inbox.model_.rowCount() == 1)
    qtbot.waitUntil(lambda: window.inbox.isVisible())
    assert window.inbox.horizontalScrollBar().maximum() == 0, "the inbox scrolls sideways at 1280x800"


def test_names_not_codes_where_a_person_reads(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """Issue 19 item 2: '? P001, P002', 'SP1', 'filed to P004', 'F01', 'DR1', templates by code."""
    fakemail.deliver("practice", b"From: patel.family@mailhome.example\r\nSubject: Family question\r\n"
                                 b"Message-ID: <fam@x>\r\n\r\nhello\r\n")
    send_receive(qtbot, window)
    cell = window.inbox.model_.text(0, 4)
    assert cell == "Priya, Arjun, Anika or Dev Patel?" and not CODE.search(cell)  # a question, no titles
    assert "P001" in window.inbox.model_.data(window.inbox.model_.index(0, 4), Qt.ItemDataRole.ToolTipRole)
    rid = window.inbox.id_at(0)
    window.show_view("inbox")
    window.inbox.selectRow(0)
    window.inbox_page.file_message(rid, "P004")
    settle(qtbot, window)
    assert "Dev Patel" in window.status_line.text() and "Family question" in window.status_line.text()
    box = window.inbox_page.show_info(rid)
    assert "Dev Patel" in box.text() and not CODE.search(box.text())
    box.close()
    window.inbox_page.tag_filter.setCurrentIndex(window.inbox_page.tag_filter.findData("all"))
    assert window.inbox.model_.text(0, 4) == "Master Dev Patel"

    settle(qtbot, window)
    assert not [c for c in _cells(window.patients) if CODE.search(c)]
    row = window.patients.model_.rows.index(next(r for r in window.patients.model_.rows if r[0] == "P001"))
    assert "Arjun" in window.patients.model_.text(row, 4)  # the family, by first name
    ed = window.template_editor
    listed = [ed.list.item(i).text() for i in range(ed.list.count())]
    assert "RECALL" not in listed and all(ed.list.item(i).toolTip() for i in range(ed.list.count()))

    dialog = window.open_compose("P001")
    qtbot.add_widget(dialog)
    for combo in (dialog.patient, dialog.provider, dialog.send_to, dialog.template):
        texts = [combo.itemText(i) for i in range(combo.count())]
        assert not [t for t in texts if CODE.search(t) or "RECALL" in t], texts
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    for combo in wizard.reminders.combos.values():
        texts = [combo.itemText(i) for i in range(combo.count())]
        assert "APPTCONF" not in texts and len(texts) > 2
    wizard.close()
    page = window.open_patient("P001")
    qtbot.add_widget(page)
    shown = " ".join(label.text() for label in page.findChildren(QLabel)) + page.windowTitle()
    assert "Arjun Patel" in shown and not CODE.search(shown)


def test_compose_with_changes_asks_before_closing(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 5: Cancel/Escape threw typed work away."""
    untouched = window.open_compose("P001")
    qtbot.add_widget(untouched)
    qtbot.keyClick(untouched, Qt.Key.Key_Escape)  # nothing typed: closes without a question
    assert not untouched.isVisible()

    dialog = window.open_compose("P001")
    qtbot.add_widget(dialog)
    qtbot.keyClicks(dialog.subject, "Your new crown")
    asked: list[str] = []
    answer("Keep editing", asked)
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Escape)
    assert asked and "not saved" in asked[0] and dialog.isVisible()
    answer("Save draft", asked)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert len(asked) == 2 and not dialog.isVisible() and dialog.queued_id is not None
    item = window.app.engine.outbox.get(dialog.queued_id)
    assert item["status"] == "draft" and item["subject"] == "Your new crown"

    again = window.outbox_page.open_draft(dialog.queued_id)
    qtbot.add_widget(again)
    again.subject.setText("Changed my mind")
    answer("Discard", asked)
    qtbot.keyClick(again.subject, Qt.Key.Key_Escape)
    assert len(asked) == 3 and not again.isVisible()
    assert window.app.engine.outbox.get(dialog.queued_id)["subject"] == "Your new crown"


def test_a_typed_reply_asks_before_it_goes(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    _deliver(fakemail, 1)
    send_receive(qtbot, window)
    window.inbox.selectRow(0)
    reply = window.inbox_page.reply_selected()
    qtbot.add_widget(reply)
    qtbot.keyClicks(reply.text, "We can see you at 3.")
    asked: list[str] = []
    answer("Keep editing", asked)
    qtbot.keyClick(reply.text, Qt.Key.Key_Escape)
    assert asked and reply.isVisible() and "Save draft" not in asked[0]
    answer("Discard", asked)
    qtbot.keyClick(reply.text, Qt.Key.Key_Escape)
    assert len(asked) == 2 and not reply.isVisible() and reply.queued_id is None


def test_switching_templates_with_changes_asks(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("templates")
    ed = window.template_editor
    ed.list.setCurrentRow(ed.row_of("RECALL"))
    original = window.composer.templates.get("RECALL").body
    ed.body.setPlainText("Dear {{ patient.first_name }}, a new recall text.")
    asked: list[str] = []
    answer("Keep editing", asked)
    ed.list.setCurrentRow(ed.row_of("RECALL") - 1 if ed.row_of("RECALL") else 1)
    assert asked and ed.code.text() == "RECALL" and "new recall text" in ed.body.toPlainText()
    assert ed.list.currentRow() == ed.row_of("RECALL")
    other = 1 if ed.row_of("RECALL") == 0 else 0
    answer("Discard", asked)
    ed.list.setCurrentRow(other)
    assert len(asked) == 2 and ed.code.text() != "RECALL"
    assert window.composer.templates.get("RECALL").body == original
    ed.list.setCurrentRow(ed.row_of("RECALL"))
    ed.body.setPlainText("Dear {{ patient.first_name }}, saved on the way.")
    answer("Save", asked)
    ed.list.setCurrentRow(other)
    assert len(asked) == 3 and window.composer.templates.get("RECALL").body.endswith("saved on the way.")


def test_cancelling_an_appointment_asks_and_says_the_email_will_go(qtbot: QtBot, window: MainWindow) -> None:
    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    from datetime import date, timedelta

    assert panel.book(f"{date.today() + timedelta(days=8)}T10:00", 30, "HYG1", "Riverside Surgery")
    settle(qtbot, window)  # booked on the jobs thread
    (appt,) = [r for r in window.reminders.for_patient("P010") if r.get("source") == "reception"]
    panel.table.selectRow([panel.table.id_at(n) for n in range(panel.table.model_.rowCount())].index(appt["id"]))
    asked: list[str] = []
    answer("No", asked)
    qtbot.mouseClick(button(pfile, "Cancel appointment"), Qt.MouseButton.LeftButton)
    assert asked and "cancellation email will be queued" in asked[0]
    assert window.reminders.get(appt["id"]).get("status", "booked") != "cancelled"
    answer("Yes", asked)
    qtbot.mouseClick(button(pfile, "Cancel appointment"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.reminders.get(appt["id"])["status"] == "cancelled"


def test_the_wizards_cancel_cancels(qtbot: QtBot, window: MainWindow) -> None:
    """The wizard saved on the way (the test, the Tomorrow page): its Cancel kept all of it."""
    from PyQt6.QtWidgets import QWizard

    settings = window.app.practice.settings
    before = settings.get("schedule.periods"), settings.get("practice.email")
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    wizard.account.email.setText("someone.else@example.test")
    wizard.schedule.periods.setText("Mon-Fri 09:00-17:00")
    while wizard.currentPage() is not wizard.tomorrow:
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.tomorrow.saved_ok and settings.get("schedule.periods") == "Mon-Fri 09:00-17:00"
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    assert (settings.get("schedule.periods"), settings.get("practice.email")) == before
    assert settings.secret("account.password")  # the password kept too


def _fits(table: object) -> list[str]:
    """Headers and cells of up to 30 characters wider than their column (a longer subject may be
    elided so that every column stays in view: the Reason scrolled out of sight)."""
    fm = table.fontMetrics()
    m = table.model_
    out = []
    for c, title in enumerate(m.headers):
        for text in [title, *(t for t in (m.text(r, c) for r in range(m.rowCount())) if len(t) <= 30)]:
            if fm.horizontalAdvance(text) > table.columnWidth(c) - 8:
                out.append(f"{title}: {text!r} in {table.columnWidth(c)} px")
    return out


def test_outbox_columns_fit_a_sent_item_reads_and_reset_acts_on_the_selection(
        qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    """Issue 19 item 7: 'cance…', 'confi…', From wasting room, no way to read what was sent,
    Reset Failed always on and resetting every failure."""
    from tests.integration.helpers import draft

    now = window.app.engine.clock.now()
    window.app.engine.outbox.add_draft(draft(subject="Went fine", text="Your results are normal."), now)
    window.refresh_outbox()
    send_receive(qtbot, window)
    fakemail.faults.add("smtp", "rcpt", "reply", code=550, text="No such mailbox")
    for n in range(2):
        window.app.engine.outbox.add_draft(draft(subject=f"Will fail {n}"), now)
    send_receive(qtbot, window)
    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    from datetime import date, timedelta

    assert pfile.appointments.book(f"{date.today() + timedelta(days=9)}T11:00", 30, "HYG1", "Riverside Surgery")
    settle(qtbot, window)  # booked on the jobs thread, the outbox read again
    window.show_view("outbox")
    table = window.outbox
    assert "From" not in table.model_.headers
    texts = _cells(table)
    assert "Email: confirmation" in texts and "failed" in texts
    assert _fits(table) == []
    assert not table.horizontalScrollBar().isVisible()  # the Reason in view, not scrolled to

    subjects = [table.model_.text(r, 5) for r in range(table.model_.rowCount())]
    reset = window.outbox_page.buttons["Reset Failed"]
    table.clearSelection()
    assert not reset.isEnabled()
    table.selectRow(subjects.index("Went fine"))
    assert not reset.isEnabled()
    where = table.visualRect(table.model_.index(subjects.index("Went fine"), 5)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    reading = window.outbox_page.last_read
    assert reading is not None and "Your results are normal." in reading.body.toPlainText()
    reading.close()

    first = table.id_at(subjects.index("Will fail 0"))
    other = table.id_at(subjects.index("Will fail 1"))
    table.selectRow(subjects.index("Will fail 0"))
    assert reset.isEnabled()
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.app.engine.outbox.get(first)["status"] != "failed"
    assert window.app.engine.outbox.get(other)["status"] == "failed"
    assert "tried again" in window.status_line.text()

    count = table.model_.rowCount()
    table.selectRow(0)
    first = table.id_at(0)
    qtbot.mouseClick(window.outbox_page.buttons["Delete"], Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.app.engine.outbox.get(first)["status"] == "deleted" and table.model_.rowCount() == count - 1
    assert table.selected_ids() == [table.id_at(0)] and "1 item deleted" in window.status_line.text()


def _shown_names(window: MainWindow) -> list[str]:
    m = window.patients.model_
    return [m.text(r, 0) for r in range(m.rowCount())]


def test_find_a_patient_by_name_birth_date_phone_or_email(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 8: no way to find a patient."""
    window.show_view("patients")
    box = window.patient_search
    qtbot.keyClicks(box, "patel")
    settle(qtbot, window)  # the view is read on the jobs thread
    assert _shown_names(window) and all("Patel" in n for n in _shown_names(window))
    box.clear()
    qtbot.keyClicks(box, "13/03/1991")
    settle(qtbot, window)  # as the desk types a date of birth
    assert _shown_names(window) == ["Mrs Priya Patel"]
    box.clear()
    qtbot.keyClicks(box, "07700 900002")
    settle(qtbot, window)
    assert _shown_names(window) == ["Mrs Priya Patel"]
    box.clear()
    qtbot.keyClicks(box, "priya mailhome")
    settle(qtbot, window)  # every word, in any field
    assert _shown_names(window) == ["Mrs Priya Patel"]
    row = window.patients.model_.text(0, 4)
    assert "Arjun" in row  # the family still shown for a search result
    box.clear()
    settle(qtbot, window)
    assert len(_shown_names(window)) == len(window.app.practice.directory.list("patients"))


def test_inbox_search_delete_keeps_a_selection_and_the_status_bar_speaks(
        qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    _deliver(fakemail, 3)
    fakemail.deliver("practice", b"From: Ann Lee <ann@example.com>\r\nSubject: Broken crown\r\n"
                                 b"Message-ID: <crown@example.com>\r\n\r\nHelp\r\n")
    send_receive(qtbot, window)
    window.show_view("inbox")
    page = window.inbox_page
    subjects = lambda: sorted(window.inbox.model_.text(r, 3) for r in range(window.inbox.model_.rowCount()))  # noqa: E731
    assert subjects() == ["Broken crown", "Question 0", "Question 1", "Question 2"]
    qtbot.keyClicks(page.search, "crown")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert subjects() == ["Broken crown"]
    page.search.clear()
    qtbot.keyClicks(page.search, "ann lee")  # the sender's name
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert subjects() == ["Broken crown"]
    page.search.clear()
    qtbot.keyClicks(page.search, "stranger2@")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert subjects() == ["Question 2"]
    page.search.clear()
    from datetime import datetime, timezone

    qtbot.keyClicks(page.search, datetime.now(timezone.utc).strftime("%d/%m/%Y"))
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert len(subjects()) == 4
    page.search.clear()
    assert len(subjects()) == 4

    window.inbox.selectRow(1)
    gone = window.inbox.selected_ids()[0]
    window.inbox.setFocus()
    qtbot.keyClick(window.inbox, Qt.Key.Key_Delete)
    settle(qtbot, window)
    assert window.app.engine.inbox.get(gone)["deleted"]
    assert window.inbox.model_.rowCount() == 3 and window.inbox.selected_ids() == [window.inbox.id_at(1)]
    assert "deleted" in window.status_line.text()
    window.tabs.setCurrentIndex(1)
    assert window.status_line.text() == ""

    window.show_view("inbox")
    window.inbox.selectRow(0)
    reply = page.reply_selected()
    qtbot.add_widget(reply)
    qtbot.keyClicks(reply.text, "Thank you, we will call you.")
    qtbot.mouseClick(reply.send, Qt.MouseButton.LeftButton)
    assert "in the outbox" in window.status_line.text()


def test_admin_page_by_title_cells_in_words_no_restart_question_no_microseconds(
        qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 9: runbooks by file name, cells as Python source, an empty pane, a restart
    asked for before service_health ran, timestamps with microseconds."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    window.apply_role("super user")
    window.show_view("admin")
    page = window.admin_page
    books = [page.books.item(i).text() for i in range(page.books.count())]
    assert "Service health" in books and "service_health" not in books
    page.select_book("service_health")
    cells = [page.cells.item(i).text() for i in range(page.cells.count())]
    assert cells and not [c for c in cells if "show(" in c or "admin." in c]
    assert "Action: Restart the email service" in cells[-1]
    assert "heartbeat" in page.output.toPlainText()  # the runbook's own words before anything runs

    asked: list[str] = []

    def refuse_any_question() -> None:
        box = QApplication.activeModalWidget()
        if box is not None:
            asked.append(box.windowTitle())
            box.reject()

    watch = QTimer()
    watch.timeout.connect(refuse_any_question)
    watch.start(20)
    page.last_page = ""
    qtbot.mouseClick(page.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(page.last_page), timeout=20000)
    watch.stop()
    assert asked == []
    assert re.search(r"\d\d:\d\d:\d\d\.\d", page.last_page) is None
    assert re.search(r"\d\d:\d\d:\d\d", page.output.toPlainText())  # times are still there, to the second


def test_template_mistakes_in_the_practices_words_with_the_line(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 19 item 10: "expected 'end of print statement'" is Jinja's, not the practice's."""
    window.show_view("templates")
    ed = window.template_editor
    ed.list.setCurrentRow(ed.row_of("RECALL"))
    ed.body.setPlainText("Dear {{ patient.first_name }},\n{{ patient.first_name x }}")
    shown = ed.problems.text()
    assert "Body, line 2" in shown and '"x"' in shown and "{{ patient.first_name }}" in shown
    for jinja in ("end of print statement", "token", "syntax error", "Jinja"):
        assert jinja not in shown
    ed.body.setPlainText("{% if patient.first_name %}Hello")
    assert "never closed with {% endif %}" in ed.problems.text()
    qtbot.mouseClick(ed.save, Qt.MouseButton.LeftButton)
    assert ed.problems.text().startswith("Not saved: Body, line 1:") and "Jinja" not in ed.problems.text()
    ed.body.setPlainText(window.composer.templates.get("RECALL").body)  # as it was: nothing to ask


def test_compose_finds_the_patient_as_reception_types(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.last_compose
    qtbot.add_widget(dialog)
    qtbot.keyClicks(dialog.find, "patel")
    assert dialog.patient.count() == 5 and not dialog.patient.currentData()  # four Patels, none chosen yet
    qtbot.keyClicks(dialog.find, " 2003")  # Dev's year of birth
    assert dialog.patient.currentData() == "P004" and dialog.send.isEnabled()
    assert dialog.provider.currentData() == "DR1"  # his usual provider followed
    dialog.find.clear()
    assert dialog.patient.currentData() == "P004" and dialog.patient.count() > 40
    dialog.discard()
