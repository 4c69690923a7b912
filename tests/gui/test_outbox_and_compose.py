"""The outbox's own actions and the compose window's files, driven as reception would."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

from PIL import Image
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.adapters.documents import patient_folder
from kiosk import printing
from kiosk.main_window import MainWindow
from tests.gui.helpers import answer, send_receive, settle
from tools.fakemail import FakeMail


def _photo(path: Path, side: int) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (side, side // 2), (200, 180, 160)).save(out, "JPEG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


def test_draft_with_a_document_saved_reopened_and_sent(qtbot: QtBot, window: MainWindow, fakemail: FakeMail,
                                                        tmp_path: Path) -> None:
    _photo(patient_folder(window.app.practice.folder, "P001") / "xray-2026.jpg", 4000)
    dialog = window.open_compose("P001")
    qtbot.add_widget(dialog)
    assert [d.name for d in dialog._documents()] == ["xray-2026.jpg"]
    assert dialog.files.add_path(dialog._documents()[0].path)  # as the documents picker does
    (attached,) = dialog.files.files
    assert max(Image.open(io.BytesIO(attached.data)).size) == 1600  # scaled down on the way in
    qtbot.keyClicks(dialog.subject, "Your x-ray")
    qtbot.keyClicks(dialog.body, "As discussed.")
    qtbot.keyClicks(dialog.bcc, "a.okafor@brightsmile.example")
    qtbot.mouseClick(dialog.save_draft, Qt.MouseButton.LeftButton)
    rid = dialog.queued_id
    assert window.app.engine.outbox.get(rid)["status"] == "draft"
    assert window.outbox.model_.text(0, 1) == "draft"

    window.outbox.selectRow(0)
    again = window.outbox_page.open_selected_draft()
    qtbot.add_widget(again)
    assert again.subject.text() == "Your x-ray" and again.bcc.text() == "a.okafor@brightsmile.example"
    assert [a.filename for a in again.files.files] == ["xray-2026.jpg"] and not again.patient.isEnabled()
    qtbot.keyClicks(again.cc, "angus.macleod@patientmail.example")  # another family: refused inline
    assert not again.send.isEnabled() and "family" in again.problem.text()
    again.cc.clear()
    again.body.setPlainText("As discussed, your x-ray.")
    qtbot.mouseClick(again.send, Qt.MouseButton.LeftButton)
    assert window.app.engine.outbox.get(rid)["status"] == "ready"
    assert send_receive(qtbot, window)["sent"] == 1
    (got,) = fakemail.sent()
    msg = email.message_from_bytes(got["data"], policy=email.policy.default)
    assert "your x-ray" in msg.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in msg.iter_attachments()] == ["xray-2026.jpg"]
    assert "a.okafor@brightsmile.example" in got["rcpt_tos"] and "Bcc" not in msg


def test_outbox_find_by_day_info_forward_print_and_delete(qtbot: QtBot, window: MainWindow,
                                                          tmp_path: Path) -> None:
    rid = window.composer.from_patient("P005", window.app.engine.clock.now(), subject="Tuesday at ten", text="See you")
    window.refresh_outbox()
    window.outbox_page.day.setDate(window.outbox_page.day.date().addDays(-3))
    window.outbox_page.by_day.setChecked(True)
    assert window.outbox.model_.rowCount() == 0  # nothing was created three days ago
    window.outbox_page.day.setDate(window.outbox_page.day.date().addDays(3))
    assert window.outbox.model_.rowCount() == 1

    info = window.outbox_page.show_info(rid)
    assert "Tuesday at ten" in info.text() and "created" in info.text()
    assert window.outbox_page.forward(rid, "patel.family@mailhome.example") is None  # another family
    assert "Not forwarded" in window.status_line.text()
    fwd = window.outbox_page.forward(rid, "a.okafor@brightsmile.example")
    assert window.app.engine.outbox.get(fwd)["subject"] == "Fwd: Tuesday at ten"

    pdf = printing.save_pdf(window.outbox_page.document(rid), tmp_path / "item.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    window.outbox_page.by_day.setChecked(False)
    window.outbox.selectRow(window.outbox.model_.rowCount() - 1)
    window.outbox_page.delete_selected()
    settle(qtbot, window)
    deleted = window.app.engine.outbox.get(rid)
    assert deleted["status"] == "deleted"
    assert rid not in [window.outbox.id_at(n) for n in range(window.outbox.model_.rowCount())]
    window.outbox_page.show_deleted.setChecked(True)
    assert [window.outbox.id_at(n) for n in range(window.outbox.model_.rowCount())] == [rid]
    window.outbox.selectRow(0)
    window.outbox_page.restore_selected()
    settle(qtbot, window)
    # back to where it was (ready, or sent if the running service was quicker than the test)
    assert window.app.engine.outbox.get(rid)["status"] == deleted["deleted_from"] and window.outbox.model_.rowCount() == 0


def test_formatted_email_with_the_usual_provider_and_the_signature(qtbot: QtBot, window: MainWindow,
                                                                   fakemail: FakeMail) -> None:
    dialog = window.open_compose("P003")  # Anika Patel, whose usual provider is DR1
    qtbot.add_widget(dialog)
    assert dialog.provider.currentData() == "DR1" and dialog.signature.isChecked()
    dialog.patient.setCurrentIndex(dialog.patient.findData("P002"))
    assert dialog.provider.currentData() == "DR2"  # follows the patient chosen
    assert not dialog.bold.isEnabled()
    dialog.formatted.setChecked(True)
    qtbot.keyClicks(dialog.subject, "After your visit")
    qtbot.mouseClick(dialog.bold, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.body, "Rinse twice a day")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    assert send_receive(qtbot, window)["sent"] == 1
    msg = email.message_from_bytes(fakemail.sent()[0]["data"], policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    plain = msg.get_body(("plain",)).get_content()
    assert "Rinse twice a day" in html and "font-weight:700" in html.replace(" ", "")
    assert "Rinse twice a day" in plain and "Bright Smile" in plain  # the signature, in both


def test_booking_at_the_desk_sends_one_confirmation_for_the_slot_taken(qtbot: QtBot, window: MainWindow) -> None:
    """Journey: Wednesday 15:00 offered, then Thursday 14:00 taken; one confirmation, for
    Thursday, with a calendar file; then the patient cancels before it left: it is withdrawn
    (a confirmation that never went needs no cancellation; tests/integration/test_reminders.py
    has the one that did)."""
    from datetime import date, timedelta

    pfile = window.open_patient("P010")
    qtbot.add_widget(pfile)
    panel = pfile.appointments
    monday = date.today() + timedelta(days=7 - date.today().weekday())
    wednesday, thursday = monday + timedelta(days=2), monday + timedelta(days=3)
    assert panel.book(f"{wednesday}T15:00", 30, "HYG1", "Riverside Surgery")
    settle(qtbot, window)  # booked on the jobs thread
    (appt,) = [r for r in window.reminders.for_patient("P010") if r.get("source") == "reception"]
    panel.table.selectRow([panel.table.id_at(n) for n in range(panel.table.model_.rowCount())].index(appt["id"]))
    assert panel.move(appt["id"], f"{thursday}T14:00")
    settle(qtbot, window)
    assert "14:00" in panel.table.model_.text(0, 0) or any(
        "14:00" in panel.table.model_.text(n, 0) for n in range(panel.table.model_.rowCount()))
    mail = [r for r in window.app.engine.outbox.list() if r.get("appointment_id") == appt["id"]
            and r["status"] not in ("cancelled", "deleted")]
    assert len(mail) == 1  # the Wednesday one was replaced, never sent
    msg = email.message_from_bytes(window.app.engine.outbox.blob(mail[0]), policy=email.policy.default)
    (ics,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert thursday.strftime("%Y%m%d") + "T14" in ics.get_payload(decode=True).decode()
    assert window.outbox.model_.rowCount() >= 1  # the outbox view was told

    panel.table.selectRow([panel.table.id_at(n) for n in range(panel.table.model_.rowCount())].index(appt["id"]))
    answer("Yes")  # cancelling asks first since #19
    assert panel.cancel()
    settle(qtbot, window)
    assert window.reminders.get(appt["id"])["status"] == "cancelled"
    assert window.app.engine.outbox.get(mail[0]["_rid"])["status"] == "cancelled"
    assert [r for r in window.app.engine.outbox.list() if r.get("appointment_id") == appt["id"]
            and r["status"] not in ("cancelled", "deleted")] == []
    assert "cancelled" in [panel.table.model_.text(n, 4) for n in range(panel.table.model_.rowCount())]


def test_a_formatted_draft_reopens_formatted(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.open_compose("P003")
    qtbot.add_widget(dialog)
    dialog.signature.setChecked(False)
    dialog.formatted.setChecked(True)
    qtbot.keyClicks(dialog.subject, "Aftercare")
    qtbot.mouseClick(dialog.bold, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.body, "No hot drinks today")
    qtbot.mouseClick(dialog.save_draft, Qt.MouseButton.LeftButton)
    again = window.outbox_page.open_draft(dialog.queued_id)
    qtbot.add_widget(again)
    assert again.formatted.isChecked() and "No hot drinks today" in again.body.toPlainText()
    assert "font-weight:700" in again.body.toHtml().replace(" ", "")
    qtbot.mouseClick(again.send, Qt.MouseButton.LeftButton)
    msg = email.message_from_bytes(window.app.engine.outbox.blob(window.app.engine.outbox.get(dialog.queued_id)),
                                   policy=email.policy.default)
    assert "No hot drinks today" in msg.get_body(("html",)).get_content()


def test_the_x_ray_goes_to_the_specialist_from_the_patients_file(qtbot: QtBot, window: MainWindow,
                                                                 fakemail: FakeMail) -> None:
    """Journey: a patient at the counter asks for their x-ray to go to a specialist."""
    _photo(patient_folder(window.app.practice.folder, "P020") / "xray.jpg", 3000)
    pfile = window.open_patient("P020")
    qtbot.add_widget(pfile)
    qtbot.mouseClick(pfile.email, Qt.MouseButton.LeftButton)
    dialog = window.last_compose
    qtbot.add_widget(dialog)
    dialog.send_to.setCurrentIndex(dialog.send_to.findData("SP1"))
    assert dialog.files.add_path(dialog._documents()[0].path)
    qtbot.keyClicks(dialog.cc, "angus.macleod@patientmail.example")  # another patient: refused before Send
    assert not dialog.send.isEnabled() and "family" in dialog.problem.text()
    dialog.cc.clear()
    qtbot.keyClicks(dialog.subject, "X-ray for your referral")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    item = window.app.engine.outbox.get(dialog.queued_id)
    assert item["to"] == ["lindqvist@ortho-referrals.example"] and item["patient_id"] == "P020"
    assert send_receive(qtbot, window)["sent"] == 1
    assert fakemail.sent()[0]["rcpt_tos"] == ["lindqvist@ortho-referrals.example"]
    assert any(h["subject"] == "X-ray for your referral" for h in window.app.engine.inbox.contact_history("P020"))
