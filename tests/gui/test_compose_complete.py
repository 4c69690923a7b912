"""The compose window as the reference manual has it (#20 item 5), driven as reception would:
the signature on a templated email, the email's category and description, a file opened with
the computer's program or saved elsewhere, and the outbox's Forward opening the forward window."""

from __future__ import annotations

import email
import email.policy
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import QObject, Qt, QUrl, pyqtSlot
from PyQt6.QtGui import QDesktopServices
from PyQt6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from engine.core.message import Attachment
from engine.service.app import NewEmail
from kiosk.compose import ComposeDialog
from kiosk.forward_compose import QUOTE_MARK
from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive, settle
from tools.fakemail import FakeMail


def compose(qtbot: QtBot, window: MainWindow, patient: str = "P043") -> ComposeDialog:
    dialog = window.open_compose(patient)
    qtbot.add_widget(dialog)
    return dialog


def test_a_templated_email_signed_and_named_from_the_window(qtbot: QtBot, window: MainWindow,
                                                            fakemail: FakeMail) -> None:
    dialog = compose(qtbot, window)
    assert dialog.signature.isChecked() and dialog.signature.isEnabled()
    qtbot.keyClicks(dialog.subject, "My own")
    qtbot.keyClicks(dialog.body, "Typed before choosing a template")
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    # the template's words for her, shown as they will be sent (not the typed ones, silently dropped)
    assert dialog.body.isReadOnly() and dialog.body.toPlainText().startswith("Dear Ms Holloway")
    assert dialog.subject.isReadOnly() and dialog.subject.text() != "My own"
    dialog.template.setCurrentIndex(0)  # back to no template: what was typed is there again
    assert (dialog.subject.text(), dialog.body.toPlainText()) == ("My own", "Typed before choosing a template")
    assert not dialog.body.isReadOnly()
    dialog.template.setCurrentIndex(dialog.template.findData("RECALL"))
    recall = window.app.templates.get("RECALL")
    assert dialog.naming.values() == (recall.category, recall.description)  # the template's, to start with
    dialog.naming.description.clear()
    qtbot.keyClicks(dialog.naming.description, "Six-month recall, November")
    dialog.naming.category.setCurrentText("Recalls\u202e")  # a stranger's bidi control: not kept
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    rid = dialog.queued_id
    assert rid is not None
    item = window.app.outbox_item(rid)
    assert (item["category"], item["description"]) == ("Recalls", "Six-month recall, November")
    assert send_receive(qtbot, window)["sent"] >= 1
    (got,) = [m for m in fakemail.sent() if "grace.holloway@patientmail.example" in m["rcpt_tos"]]
    msg = email.message_from_bytes(got["data"], policy=email.policy.default)
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert plain.startswith("Dear Ms Holloway") and plain.count("14 River Street") == 1
    assert plain.rstrip().endswith("01225 555 010") and "14 River Street" in html


def test_a_draft_keeps_its_naming_and_is_signed_once_when_sent(qtbot: QtBot, window: MainWindow) -> None:
    dialog = compose(qtbot, window)
    dialog.signature.setChecked(False)
    qtbot.keyClicks(dialog.subject, "Your dentures")
    qtbot.keyClicks(dialog.body, "They are ready.")
    dialog.naming.category.setCurrentText("Dentures")
    qtbot.mouseClick(dialog.save_draft, Qt.MouseButton.LeftButton)
    rid = dialog.queued_id
    again = window.outbox_page.open_draft(rid)
    qtbot.add_widget(again)
    assert again.naming.values() == ("Dentures", "") and not again.signature.isChecked()
    qtbot.keyClicks(again.naming.description, "Dentures ready 15 November")
    again.signature.setChecked(True)
    qtbot.mouseClick(again.save_draft, Qt.MouseButton.LeftButton)
    third = window.outbox_page.open_draft(rid)
    qtbot.add_widget(third)
    third.signature.setChecked(True)  # ticked again: the signature is there already, not added twice
    qtbot.mouseClick(third.send, Qt.MouseButton.LeftButton)
    item = window.app.outbox_item(rid)
    assert (item["category"], item["description"]) == ("Dentures", "Dentures ready 15 November")
    text = window.app.composer.draft_contents(rid)["text"]
    assert text.startswith("They are ready.") and text.count("14 River Street") == 1


class UrlTaker(QObject):
    """What Qt hands to the computer's program for a file: kept here instead (Qt's own hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @pyqtSlot(QUrl)
    def take(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def taker() -> Iterator[UrlTaker]:
    t = UrlTaker()
    QDesktopServices.setUrlHandler("file", t, "take")
    yield t
    QDesktopServices.unsetUrlHandler("file")


def test_a_file_in_compose_opens_from_a_private_copy(qtbot: QtBot, window: MainWindow, taker: UrlTaker) -> None:
    dialog = compose(qtbot, window)
    assert not dialog.files.open.isEnabled()  # nothing to open yet
    dialog.files.add(Attachment("results\u202efdp.txt", b"Ms Holloway's results", "text/plain"))
    url = dialog.files.open_selected()
    assert url is not None and taker.urls == [url] and url.isLocalFile()
    path = Path(url.toLocalFile())
    assert window.app.folder / "opened" in path.parents  # the practice's folder, not the shared /tmp
    assert path.read_bytes() == b"Ms Holloway's results" and path.name == "resultsfdp.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    dialog.files.add(Attachment("second.txt", b"two", "text/plain"))  # of several, the one chosen
    assert dialog.files.open_selected() is None and "Choose the file" in dialog.problem.text()
    dialog.files.list.setCurrentRow(1)
    second = dialog.files.open_selected()
    assert second is not None and taker.urls[-1] == second and Path(second.toLocalFile()).read_bytes() == b"two"
    dialog.discard()


def test_a_file_in_compose_saved_elsewhere_never_replaces_silently(qtbot: QtBot, window: MainWindow, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = compose(qtbot, window)
    dialog.files.add(Attachment("letter.pdf", b"%PDF-1.4 new", "application/pdf"))
    offered: list[str] = []

    def save_dialog(_parent: Any, _title: str, name: str, *_args: Any, **_kw: Any) -> tuple[str, str]:
        offered.append(name)  # reception keeps the name offered, in their folder
        return str(tmp_path / name), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    saved = dialog.files.save_selected()
    assert saved == tmp_path / "letter.pdf" and saved.read_bytes() == b"%PDF-1.4 new" and offered == ["letter.pdf"]
    saved.write_bytes(b"%PDF-1.4 reception's own")
    asked: list[str] = []
    answer("No", asked)
    assert dialog.files.save_selected() is None
    assert asked and saved.read_bytes() == b"%PDF-1.4 reception's own"
    answer("Yes")
    assert dialog.files.save_selected() == saved and saved.read_bytes() == b"%PDF-1.4 new"
    dialog.discard()


def test_the_outbox_forward_opens_the_forward_window_with_the_item_quoted(qtbot: QtBot, window: MainWindow) -> None:
    pdf = Attachment("results.pdf", b"%PDF-1.4 results", "application/pdf")
    rid = window.app.compose(NewEmail("P043", subject="Your results", text="Your results are attached.",
                                      attached=(pdf,)))
    window.refresh_outbox()
    settle(qtbot, window)
    window.outbox.selectRow(next(n for n in range(window.outbox.model_.rowCount()) if window.outbox.id_at(n) == rid))
    dialog = window.outbox_page.forward_selected()
    assert dialog is not None
    qtbot.add_widget(dialog)
    quote = dialog.text.toPlainText()
    assert dialog.subject.text() == "Fwd: Your results" and QUOTE_MARK in quote
    assert "To: grace.holloway@patientmail.example" in quote and "Your results are attached." in quote
    assert "results.pdf" in dialog.files.text()
    qtbot.keyClicks(dialog.to, "angus.macleod@patientmail.example")  # another family: refused, window stays
    assert not dialog.apply() and "Not forwarded" in dialog.problem.text() and dialog.isVisible()
    dialog.to.clear()
    qtbot.keyClicks(dialog.to, "a.okafor@brightsmile.example")
    dialog.text.setPlainText("Dr Okafor, for the referral." + quote)
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    fwd = dialog.queued_id
    assert fwd is not None and not dialog.isVisible()
    sent = email.message_from_bytes(window.app.outbox.blob(window.app.outbox.get(fwd)), policy=email.policy.default)
    assert sent.get_body(("plain",)).get_content().startswith("Dr Okafor, for the referral.")
    (original,) = [p for p in sent.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert [p.get_filename() for p in original.get_content().iter_attachments()] == ["results.pdf"]


def test_a_sent_email_renamed_from_the_outbox_shows_so_on_the_patient_file(qtbot: QtBot, window: MainWindow) -> None:
    rid = window.app.compose(NewEmail("P043", template="RECALL"))
    assert send_receive(qtbot, window)["sent"] >= 1
    window.refresh_outbox()
    settle(qtbot, window)
    window.outbox.selectRow(next(n for n in range(window.outbox.model_.rowCount()) if window.outbox.id_at(n) == rid))
    dialog = window.outbox_page.describe_selected()
    assert dialog is not None
    qtbot.add_widget(dialog)
    naming = dialog.naming  # type: ignore[attr-defined]
    assert naming.values() == (window.app.templates.get("RECALL").category, window.app.templates.get("RECALL").description)
    naming.category.setCurrentText("Dentures")
    naming.description.setText("Dentures reminder\n15 November")
    qtbot.keyClick(naming.description, Qt.Key.Key_Return)  # Enter: OK
    assert not dialog.isVisible()
    item = window.app.outbox_item(rid)
    assert item.status.value == "sent" and (item["category"], item["description"]) == ("Dentures", "Dentures reminder 15 November")
    patient = window.open_patient("P043")
    qtbot.add_widget(patient)
    row = next(n for n in range(patient.history.model_.rowCount()) if patient.history.id_at(n) == rid)
    assert [patient.history.model_.text(row, c) for c in (3, 4)] == ["Dentures", "Dentures reminder 15 November"]


def choose_frame(number: int | None, asked: list[str]) -> None:
    """Answer the next 'Which frame?' as reception would: a number and OK, or Cancel (None)."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QInputDialog

    def go() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QInputDialog):
            QTimer.singleShot(10, go)
            return
        asked.append(box.labelText())
        if number is None:
            box.reject()
        else:
            box.setIntValue(number)
            box.accept()

    QTimer.singleShot(0, go)


def test_a_multi_frame_xray_asks_which_frame_goes(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """#20 item 2: the first frame or a chosen one; Cancel attaches nothing."""
    import io

    import numpy as np
    from PIL import Image

    from tests.unit.adapters.test_dicom import make

    frames = np.stack([np.zeros((32, 32), np.uint16), np.full((32, 32), 4000, np.uint16)])
    frames[:, 0, 0] = (4000, 0)  # each frame has a range to show
    xray = tmp_path / "pano.dcm"
    xray.write_bytes(make(frames, frames=2))
    dialog = compose(qtbot, window, "P033")
    asked: list[str] = []
    choose_frame(None, asked)
    assert not dialog.files.add_path(xray) and dialog.files.files == [] and "2 pictures" in asked[0]
    choose_frame(2, asked)
    assert dialog.files.add_path(xray)
    (jpeg,) = dialog.files.files
    assert jpeg.filename == "pano.jpg" and Image.open(io.BytesIO(jpeg.data)).getpixel((16, 16)) > 245  # the second
    dialog.files.scale.setChecked(False)  # the original file: no frame to choose
    assert dialog.files.add_path(xray) and len(asked) == 2
    assert dialog.files.files[-1].content_type == "application/dicom"
    dialog.discard()
