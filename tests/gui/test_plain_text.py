"""Nothing a stranger, a patient's record or a server writes is drawn as markup at the desk,
and no hidden bidi control changes what a name looks like (issue 13, findings 3 and 4).

The walk is generic: every label, message box, tooltip, list, table and combo under the
window and its dialogs is read the way Qt would draw it, so a widget added later is covered
without touching this test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import QAbstractListModel, QModelIndex, Qt, QTimer
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QComboBox, QDialog, QFileDialog,
                             QHeaderView, QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QTextEdit, QWidget)
from pytestqt.qtbot import QtBot

from engine.adapters.store import RID
from engine.core.message import Attachment
from engine.core.names import hidden
from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive
from tools.fakemail import FakeMail

SENDER = '"<b>Dr Okafor</b>" <x@evil.example>'
SUBJECT = "Invoice <img src=file:///etc/passwd> <font size=20>BIG</font>"
SERVER_SAYS = "<b>Mailbox</b> <font size=20>unknown</font> <img src=file:///etc/shadow>"
FIRST, LAST = "<i>Bo</i>", "Ng\u202e<u>evil</u>"
# markup that must never reach Qt's rich-text engine unescaped
MARKUP = ("<b>Dr Okafor</b>", "<img src=file", "<font size=20>", "<b>Mailbox</b>", "<i>Bo</i>", "<u>evil</u>")
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

HOSTILE_MAIL = ("From: " + SENDER + "\r\nTo: practice@brightsmile.example\r\nSubject: " + SUBJECT + "\r\n"
                "Message-ID: <hostile1@evil.example>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
                "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease pay the attached invoice.\r\n"
                "--B\r\nContent-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--B--\r\n").encode()


def _rich(text: str, fmt: Qt.TextFormat) -> bool:
    """Whether Qt draws this text as rich text (AutoText guesses from the first line)."""
    return fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and Qt.mightBeRichText(text))


def _seen(text: str, rich: bool) -> str:
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def _model_texts(view: QAbstractItemView) -> Iterator[tuple[str, str, bool]]:
    model = view.model()
    if model is None:
        return
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(QModelIndex())
    for r in range(min(model.rowCount(QModelIndex()), 600)):
        for c in range(columns):
            index = model.index(r, c)
            shown = model.data(index, Qt.ItemDataRole.DisplayRole)
            if isinstance(shown, str):
                yield "cell", shown, False
            tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
            if isinstance(tip, str):
                yield "cell tooltip", tip, Qt.mightBeRichText(tip)


def _texts(widget: QWidget) -> Iterator[tuple[str, str, bool]]:
    """(what, text, drawn as rich text) for everything this one widget shows."""
    name = type(widget).__name__
    if widget.isWindow():
        yield f"{name} title", widget.windowTitle(), False
    if widget.toolTip():
        yield f"{name} tooltip", widget.toolTip(), Qt.mightBeRichText(widget.toolTip())
    if isinstance(widget, QLabel):
        yield f"QLabel {widget.objectName()}", widget.text(), _rich(widget.text(), widget.textFormat())
    elif isinstance(widget, QMessageBox):
        yield "QMessageBox", widget.text(), _rich(widget.text(), widget.textFormat())
        yield "QMessageBox informative", widget.informativeText(), Qt.mightBeRichText(widget.informativeText())
    elif isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):  # a header: its view's model
        yield from ((f"{name} {what}", t, rich) for what, t, rich in _model_texts(widget))
    elif isinstance(widget, QComboBox):
        yield from ((f"QComboBox item", widget.itemText(i), False) for i in range(widget.count()))
    elif isinstance(widget, (QPlainTextEdit, QTextEdit)):
        yield name, widget.toPlainText(), False
    elif isinstance(widget, (QLineEdit, QAbstractButton)):
        yield name, widget.text(), False


def walk(window: MainWindow) -> list[tuple[str, str, bool]]:
    """Every text under the window and every other visible top-level widget (a dialog)."""
    roots = [window, *(w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not window)]
    seen: set[int] = set()
    found = []
    for root in roots:
        for w in [root, *root.findChildren(QWidget)]:
            if id(w) not in seen:
                seen.add(id(w))
                found.extend(_texts(w))
    return found


PROBLEMS: list[str] = []  # every view's, said together at the end of the walk


def assert_plain(window: MainWindow, view: str) -> str:
    """No markup from outside drawn as rich text, no bidi control shown raw (problems are
    gathered, so one run names every view that breaks); returns what is seen."""
    seen, problems = [], []
    for what, text, rich in walk(window):
        problems += [f"{what} draws {m!r} as markup: {text!r}" for m in MARKUP if rich and m in text]
        problems += [f"{what} shows a raw bidi control: {text!r}" for _ in set(text) & BIDI][:1]
        seen.append(_seen(text, rich))
    PROBLEMS.extend(f"{view}: {p}" for p in sorted(set(problems)))
    return "\n".join(seen)


def answer_modal(found: list[str], window: MainWindow, view: str, tries: int = 250) -> None:
    """A modal dialog (Qt's static QInputDialog/QMessageBox) about to open: walk it, then close it."""
    def close(left: int) -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            if left:
                QTimer.singleShot(20, lambda: close(left - 1))
            return
        try:
            found.append(assert_plain(window, view))
        finally:
            if isinstance(modal, QDialog):
                modal.reject()
    QTimer.singleShot(0, lambda: close(tries))


@pytest.fixture
def hostile(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> dict[str, Any]:
    """The hostile patient, their failed email (the server's reply in markup) and the
    stranger's message, all received and sent through the running engine."""
    d = window.app.practice.directory
    patient = d.add_patient({"id": "PX1", "first_name": FIRST, "last_name": LAST, "email": "x@evil.example",
                             "family_id": "FX1"})
    now = datetime.now(timezone.utc)
    sent = window.composer.from_patient(patient["id"], now, subject=SUBJECT, text="Your invoice.")
    fakemail.faults.add("smtp", "rcpt", "reply", code=550, text=SERVER_SAYS)
    fakemail.deliver("practice", HOSTILE_MAIL)
    report = send_receive(qtbot, window)
    assert report["received"] == 1 and report["failed"] == 1
    window.inbox_page.tag_filter.setCurrentIndex(window.inbox_page.tag_filter.findData("all"))
    window.refresh_all()
    (rid,) = [r[RID] for r in window.app.engine.inbox.list(any_tags=True, include_actioned=True)
              if r["from"] == "x@evil.example"]
    return {"patient": patient, "rid": rid, "sent": sent}


def test_every_view_shows_untrusted_text_as_plain_text(qtbot: QtBot, window: MainWindow,
                                                       hostile: dict[str, Any]) -> None:
    PROBLEMS.clear()
    rid = hostile["rid"]
    seen: list[str] = []
    # the inbox and the reading pane, with the status line saying what the server answered
    window.show_view("inbox")
    row = [window.inbox.id_at(r) for r in range(window.inbox.model_.rowCount())].index(rid)
    window.inbox.selectRow(row)
    view = window.message_view
    qtbot.wait_until(lambda: view.content is not None and view.attachments.count() == 1, timeout=5000)
    seen.append(assert_plain(window, "inbox"))
    assert "<b>Dr Okafor</b>" in view.header.text() and "x@evil.example" in view.header.text()
    # the message's Info box, the Reply window, a forward
    box = window.inbox_page.show_info(rid)
    seen.append(assert_plain(window, "message info"))
    box.close()
    reply = window.inbox_page.open_reply(rid)
    seen.append(assert_plain(window, "reply"))
    reply.close()
    forward = window.inbox_page.forward_selected()  # the forward window: the original quoted
    assert forward is not None
    seen.append(assert_plain(window, "forward window"))
    forward.to.setText("lab@elsewhere.example")
    answer_modal(seen, window, "forward outside the practice")  # the gate asks, naming the patient
    assert not forward.apply()
    seen.append(assert_plain(window, "forward"))
    answer("Discard")
    forward.reject()
    filing = window.inbox_page.file_selected()
    seen.append(assert_plain(window, "file to patient"))
    filing.reject()
    # the modal was walked (the patient by name since #19: codes only in tooltips)
    assert any("Specialist: " in text and "Ng\\u202e<u>evil</u>" in text for text in seen)
    # the outbox: its table (the server's reply as the tooltip) and the item's Info
    window.show_view("outbox")
    window.refresh_outbox()
    seen.append(assert_plain(window, "outbox"))
    box = window.outbox_page.show_info(hostile["sent"])
    seen.append(assert_plain(window, "outbox info"))
    box.close()
    # the patient's file, the compose window (its rules naming the patient, a stranger's file)
    window.show_view("patients")
    patient_file = window.open_patient("PX1")
    seen.append(assert_plain(window, "patient file"))
    patient_file.close()
    compose = window.open_compose("P001")
    compose.cc.setText("x@evil.example")
    compose.files.add(Attachment("invoice\u202efdp.exe", b"MZ", "application/octet-stream"))
    seen.append(assert_plain(window, "compose"))
    answer("Discard")  # something typed: closing asks first (#19)
    compose.close()
    compose = window.open_compose("PX1")
    seen.append(assert_plain(window, "compose to the patient"))
    compose.close()
    # templates, admin, the setup wizard's test lines, the status light and its dialog
    window.show_view("templates")
    window.template_editor.subject.setText(SUBJECT)
    seen.append(assert_plain(window, "templates"))
    window.show_view("admin")
    window.admin_page._failed(RuntimeError(SERVER_SAYS))
    seen.append(assert_plain(window, "admin"))
    wizard = window.open_wizard()
    step = {"name": "login", "ok": False, "seconds": 0.1, "message": SERVER_SAYS}
    wizard.test.done({"ok": False, "steps": [step], "message": SERVER_SAYS, "hint": "Check the password."})
    wizard.currentPage().setSubTitle(f"Not saved: {SERVER_SAYS}")  # as the Tomorrow page says a bad value
    seen.append(assert_plain(window, "wizard"))
    wizard.close()
    window.light.show_status({"state": "failing", "reason": SERVER_SAYS, "hint": "Check the account."})
    service = window.open_service_dialog()
    seen.append(assert_plain(window, "status light"))
    service.close()

    problems = sorted(set(PROBLEMS))
    PROBLEMS.clear()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(p[:200] for p in problems)
    everything = "\n".join(seen)
    for literal in ("<b>Dr Okafor</b>", "<img src=file:///etc/passwd>", "<b>Mailbox</b>", "<i>Bo</i> Ng",
                    f"Not saved: {SERVER_SAYS}", f"The runbook could not run: {SERVER_SAYS}"):
        assert literal in everything, f"{literal!r} is not shown as text anywhere"
    assert "invoicefdp.exe" in everything  # the stranger's attachment, without its override
    assert "invoice\\u202efdp.exe" in everything and "Ng\\u202e<u>evil</u>" in everything  # shown, visibly


def test_an_attachment_saved_from_the_kiosk_has_no_bidi_control(qtbot: QtBot, window: MainWindow,
                                                                hostile: dict[str, Any], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    window.show_view("inbox")
    row = [window.inbox.id_at(r) for r in range(window.inbox.model_.rowCount())].index(hostile["rid"])
    window.inbox.selectRow(row)
    view = window.message_view
    qtbot.wait_until(lambda: view.content is not None and view.attachments.count() == 1, timeout=5000)
    offered: list[str] = []
    folder = tmp_path / "saved"
    folder.mkdir()

    def save_dialog(_parent: Any, _title: str, name: str, *_args: Any) -> tuple[str, str]:
        offered.append(name)  # reception accepts the name offered, in their folder
        return str(folder / name), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    saved = view.ask_save_attachment()
    assert saved is not None and saved.read_bytes().startswith(b"MZ")
    assert [p.name for p in folder.iterdir()] == ["invoicefdp.exe"]
    assert not any(hidden(c) for c in offered[0])
    # a name typed into the dialog is made safe too (the dialog is Qt's, the name anyone's)
    assert view.save_attachment(0, folder / "CON\u202e.txt") == folder / "_CON.txt"


def test_a_file_attached_at_the_desk_goes_out_under_a_safe_name(qtbot: QtBot, window: MainWindow,
                                                               tmp_path: Path) -> None:
    spoofed = tmp_path / "x-ray\u202egnp.exe"
    spoofed.write_bytes(b"MZ")
    compose = window.open_compose("P001")
    qtbot.add_widget(compose)
    assert compose.files.add_path(spoofed)
    assert [a.filename for a in compose.files.files] == ["x-raygnp.exe"]
    compose.discard()  # typed work asks before it goes (#19): this test meant to throw it away


def test_the_new_windows_show_a_hostile_family_as_plain_text(qtbot: QtBot, window: MainWindow,
                                                             fakemail: FakeMail) -> None:
    """#19's windows read the patient index: the inbox's one question for a shared address, File...,
    the text window's list (mobiles in national form), the address book and the mass email's
    count naming who has no address. Two hostile patients sharing one address, one without an
    email, with every line end and bidi control a CSV can carry."""
    PROBLEMS.clear()
    d = window.app.practice.directory
    names = [("<b>Ann</b>\u2028", "Ng\u202e<u>evil</u>\u0085"), ("Bo\u2029\r\n", "Ng\u202e<u>evil</u>\u0085")]
    for n, (first, last) in enumerate(names):
        d.add_patient({"id": f"PH{n}", "first_name": first.strip(), "last_name": last, "family_id": f"FH{n}",
                       "email": "shared@evil.example", "mobile": "07700 900099", "shared_address": "yes"})
    d.add_patient({"id": "PH9", "first_name": "<i>Bo</i>\u2066", "last_name": "Ng\u202e<u>evil</u>", "email": ""})
    fakemail.deliver("practice", b"From: shared@evil.example\r\nSubject: =?utf-8?b?" + __import__("base64").b64encode(
        "Hi\u202e <b>there</b>".encode()) + b"?=\r\nMessage-ID: <sh1@x>\r\n\r\nhello\r\n")
    send_receive(qtbot, window)
    window.show_view("inbox")
    qtbot.waitUntil(lambda: window.inbox.model_.rowCount() >= 1)
    seen = [assert_plain(window, "inbox: the one question")]
    window.inbox.selectRow([window.inbox_page.messages[window.inbox.id_at(r)].subject.startswith("Hi")
                            for r in range(window.inbox.model_.rowCount())].index(True))
    filing = window.inbox_page.file_selected()
    qtbot.keyClicks(filing.choice.find, "evil")
    seen.append(assert_plain(window, "File..."))
    filing.reject()
    text = window.open_compose("PH0").open_text()
    seen.append(assert_plain(window, "text window"))
    text.reject()
    compose = window.open_compose()
    book = compose.open_address_book(modal=False)
    qtbot.keyClicks(book.search, "evil")
    book.table.selectAll()
    book.add_to("Cc")
    seen.append(assert_plain(window, "address book"))
    book.reject()
    compose.close()
    mass = window.open_mass_mail()
    mass.template.setCurrentIndex(mass.template.findData("RECALL"))
    qtbot.keyClicks(mass.search, "evil")
    qtbot.waitUntil(lambda: "without an address" in mass.count.text())
    seen.append(assert_plain(window, "mass email"))
    mass.close()
    problems = sorted(set(PROBLEMS))
    PROBLEMS.clear()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(p[:200] for p in problems)
    everything = "\n".join(seen)
    assert "<b>Ann</b> or Bo Ng\\u202e<u>evil</u>?" in seen[0]  # the one question, read as text
    assert "\\u202e" in everything and "<b>Ann</b>" in everything
    assert not any(ch in everything for ch in "\u2028\u2029\u0085\u2066")
