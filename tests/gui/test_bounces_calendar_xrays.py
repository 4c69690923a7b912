"""Where reception looks: a bounced address (patient file, compose), calendar answers on the
appointments, and a DICOM x-ray attached in compose."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kiosk.compose import ComposeDialog
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive
from tests.integration.helpers import configure_incoming, draft
from tools.fakemail import FakeMail


def test_a_bounced_address_shows_on_the_patient_file_and_in_compose(qtbot: QtBot, window: MainWindow,
                                                                     fakemail: FakeMail) -> None:
    practice = window.app.engine.practice
    configure_incoming(practice, fakemail, "imap")
    angus = practice.directory.require("patients", "P033")
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=550)
    window.app.engine.outbox.add_draft(draft(to=angus["email"]), window.app.engine.clock.now(), patient_id="P033")
    send_receive(qtbot, window)
    page = window.open_patient("P033")
    qtbot.add_widget(page)
    texts = [label.text() for label in page.findChildren(QLabel)]
    assert any("bounced" in t and "the mailbox does not exist" in t for t in texts)
    compose = ComposeDialog(window.app, "P033")
    qtbot.add_widget(compose)
    assert "bounced" in compose.address_warning.text() and not compose.address_warning.isHidden()
    other = ComposeDialog(window.app, "P036")
    qtbot.add_widget(other)
    assert other.address_warning.isHidden()


def test_calendar_answers_show_on_the_appointment(qtbot: QtBot, window: MainWindow) -> None:
    from kiosk.appointments import calendar_text

    current = {"answer": "declined", "words": "declined", "standing": "current"}
    assert calendar_text({"calendar_answer": current, "calendar_answers": [current], "attention": "x"}) == \
        "declined - contact the patient"
    old = {"answer": "accepted", "words": "accepted", "standing": "outdated"}
    assert calendar_text({"calendar_answers": [old]}) == "outdated answer: accepted"
    assert calendar_text({}) == ""
    proposal = {"answer": "proposed", "words": "proposed a new time (2026-12-02T10:00:00+00:00)",
                "proposed_start": "2026-12-02T10:00:00+00:00"}
    assert calendar_text({"calendar_answer": proposal}, window.when) == f"proposed {window.when(proposal['proposed_start'])}"
    rid = window.reminders.book("P033", "2026-12-02T15:00", 30, window.app.engine.clock.now())
    appt = window.reminders.get(rid)
    window.reminders.appointments.update(appt["_rid"], {"calendar_answer": {"words": "proposed a new time\u2028x"},
                                                        "attention": "y"})
    page = window.open_patient("P033")
    qtbot.add_widget(page)
    texts = [page.appointments.table.model_.text(r, 5) for r in range(page.appointments.table.model_.rowCount())]
    assert any(t.startswith("proposed a new time") and "\u2028" not in t and t.endswith("contact the patient")
               for t in texts)


def test_compose_converts_a_dicom_xray_notes_its_quality_and_refuses_the_wrong_patient(
        qtbot: QtBot, window: MainWindow, tmp_path) -> None:  # noqa: ANN001
    from tests.unit.adapters.test_dicom import make, ramp

    right, wrong = tmp_path / "bitewing.dcm", tmp_path / "other.dcm"
    right.write_bytes(make(ramp()))
    wrong.write_bytes(make(ramp(), name="MENSAH^KWAME", born="19530812"))
    compose = ComposeDialog(window.app, "P033")
    qtbot.add_widget(compose)
    assert not compose.files.add_path(wrong)
    assert compose.files.files == [] and "Kwame Mensah" in compose.files.problem
    assert compose.files.add_path(right)
    assert [f.filename for f in compose.files.files] == ["bitewing.jpg"]
    assert "not of diagnostic quality" in compose.files.note.text() and not compose.files.note.isHidden()


def test_a_calendar_decline_is_put_in_front_of_reception(qtbot: QtBot, window: MainWindow,
                                                         fakemail: FakeMail) -> None:
    from tests.integration.test_calendar_answers import answer, invitation

    practice = window.app.engine.practice
    practice.settings.set_many({"reminders.prompt_before_send": "false", "reminders.confirmation_delay_minutes": "0"})
    configure_incoming(practice, fakemail, "imap")
    window.reminders.book("P033", "2026-12-02T15:00", 30, window.app.engine.clock.now())
    send_receive(qtbot, window)
    assert window.to_act_on.text() == ""
    fakemail.deliver("practice", answer(invitation(fakemail.sent()[-1]), "DECLINED"))
    send_receive(qtbot, window)
    qtbot.wait_until(lambda: "1 calendar answer to act on" in window.to_act_on.text(), timeout=5000)
    assert "declined" in window.to_act_on.toolTip()


def test_held_mail_and_bounced_items_are_marked_in_the_outbox(qtbot: QtBot, window: MainWindow,
                                                              fakemail: FakeMail) -> None:
    practice = window.app.engine.practice
    practice.settings.set_many({"reminders.prompt_before_send": "false"})
    configure_incoming(practice, fakemail, "imap")
    angus = practice.directory.require("patients", "P033")
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=550)
    window.app.engine.outbox.add_draft(draft(to=angus["email"]), window.app.engine.clock.now(), patient_id="P033")
    send_receive(qtbot, window)
    window.reminders.book("P033", "2026-12-02T15:00", 30, window.app.engine.clock.now())
    window.refresh_outbox()
    model = window.outbox.model_
    statuses = [model.text(r, 1) for r in range(model.rowCount())]
    assert "bounced" in statuses and "draft (held)" in statuses
    notes = [model.text(r, 7) for r in range(model.rowCount())]  # Reason (the From column went, #19)
    assert any("does not exist" in n for n in notes) and any(n.startswith("held: the address") for n in notes)
