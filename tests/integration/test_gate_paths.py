"""The confidentiality gate on every path that queues mail, both sides, on the wired system:
the demo practice, the real Composer, Outbox and CLI, mail through the fake servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine import cli
from engine.adapters.store import RID
from engine.admin.diagnostics import email_support
from engine.admin.facade import Admin
from engine.service.app import App
from engine.core import confidentiality as c
from engine.core.message import Attachment, Draft, Recipient
from engine.errors import InputInvalid, RuleRefused
from engine.service.compose import Composer
from engine.service.engine import Engine
from engine.service.inbox import Inbox
from engine.service.practice import Practice
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
GRACE, ANGUS = "grace.holloway@patientmail.example", "angus.macleod@patientmail.example"  # P043 alone, P033 of F12
PATELS, OBRIENS = "patel.family@mailhome.example", "obriens@mailhome.example"  # F01 (P001-P004), F02
SPECIALIST = "lindqvist@ortho-referrals.example"
XRAY = Attachment("xray.png", b"\x89PNG fake x-ray", "image/png")


@pytest.fixture
def setup(practice: Practice, fakemail: FakeMail) -> Iterator[tuple[Engine, Composer]]:
    configure_incoming(practice, fakemail, "imap")
    e = Engine(practice)
    yield e, Composer(practice, e.outbox, e.inbox)
    e.stop()


def receive(engine: Engine, fakemail: FakeMail, sender: str, subject: str) -> dict:
    fakemail.deliver("practice", f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{abs(hash(subject))}@p>\r\n"
                                 f"\r\nhere it is\r\n".encode())
    engine.send_receive_now()
    return next(m for m in engine.inbox.list(show_all=True) if m["subject"] == subject)


def refused(rule: str) -> pytest.RaisesContext:
    return pytest.raises(RuleRefused, match=rule)


# -- compose from a patient, drafts --------------------------------------------------------------

def test_compose_case_and_tag_variants_of_another_family_are_that_family(setup: tuple) -> None:
    engine, composer = setup
    for variant in ("Angus.MacLeod@PatientMail.example", "angus.macleod+dentist@patientmail.example"):
        with refused(c.FAMILY_ONLY_COPIES):
            composer.from_patient("P043", NOW, subject="x", extra_cc=[variant])
        with refused(c.FAMILY_ONLY_COPIES):
            composer.from_patient("P043", NOW, subject="x", bcc=[variant])
    assert engine.outbox.list() == []
    composer.from_patient("P001", NOW, subject="x", extra_cc=["Patel.Family+kids@MailHome.example"])  # the family


def test_compose_a_document_to_an_outsider_only_when_confirmed(setup: tuple) -> None:
    engine, composer = setup
    with refused(c.ATTACHMENT_RECIPIENTS):
        composer.from_patient("P043", NOW, subject="x-ray", extra_cc=["friend@elsewhere.example"], attached=[XRAY])
    rid = composer.from_patient("P043", NOW, subject="x-ray", extra_cc=["friend@elsewhere.example"], attached=[XRAY],
                                confirmed_outside=True)
    history = engine.outbox.get(rid)["history"]
    assert any(h["event"] == "confirmed outside" and "Grace Holloway" in h["detail"]
               and "friend@elsewhere.example" in h["detail"] for h in history)


def test_a_draft_revised_or_sent_passes_the_gate(setup: tuple) -> None:
    engine, composer = setup
    rid = composer.from_patient("P001", NOW, subject="Results", text="x", as_draft=True)
    for send in (False, True):
        with refused(c.FAMILY_ONLY_COPIES):
            composer.revise_draft(rid, NOW, "Results", "x", ["OBRIENS+dad@mailhome.example"], [], [], send=send)
    assert engine.outbox.get(rid)["status"] == "draft"
    assert composer.revise_draft(rid, NOW, "Results", "x", [PATELS.upper()], [], [], send=True)["status"] == "ready"


# -- reply -------------------------------------------------------------------------------------

def test_reply_about_one_patient_to_another_familys_address_is_refused(setup: tuple, fakemail: FakeMail) -> None:
    engine, composer = setup
    msg = receive(engine, fakemail, ANGUS, "Question")
    engine.inbox.file(msg[RID], NOW, patient_id="P043")  # filed to the wrong patient by mistake
    with refused(c.FAMILY_ONLY_COPIES):
        composer.reply(msg[RID], NOW, "About Grace's treatment...")
    engine.inbox.file(msg[RID], NOW, patient_id="P033")
    assert engine.outbox.get(composer.reply(msg[RID], NOW, "Of course."))["to"] == [ANGUS]


# -- forward (filed, unfiled, shared address, outbox item) ---------------------------------------

def test_forward_patient_mail_outside_the_practice_needs_confirmation(setup: tuple, fakemail: FakeMail) -> None:
    engine, composer = setup
    msg = receive(engine, fakemail, f"Grace Holloway <{GRACE}>", "My x-ray")
    assert msg["patient_id"] == "P043"
    with refused(c.FORWARD_OUTSIDE_PRACTICE) as exc:
        composer.forward(msg[RID], "someone@elsewhere.example", NOW)
    assert "Grace Holloway" in exc.value.message and engine.outbox.list() == []
    with refused(c.FORWARD_OUTSIDE_FAMILY):
        composer.forward(msg[RID], ANGUS, NOW, confirmed_outside=True)  # no confirmation lets a patient have it
    rid = composer.forward(msg[RID], "someone@elsewhere.example", NOW, confirmed_outside=True)
    timeline = engine.inbox.get(msg[RID])["timeline"]
    assert "outside the practice, confirmed by reception for Ms Grace Holloway" in timeline[-1]["detail"]
    assert any(h["event"] == "confirmed outside" for h in engine.outbox.get(rid)["history"])
    composer.forward(msg[RID], SPECIALIST, NOW)  # a specialist needs no confirmation
    engine.send_receive_now()
    assert sorted(r for m in fakemail.sent() for r in m["rcpt_tos"]) == [SPECIALIST, "someone@elsewhere.example"]


def test_unfiled_mail_from_a_family_address_stays_in_that_family(setup: tuple, fakemail: FakeMail) -> None:
    engine, composer = setup
    msg = receive(engine, fakemail, f"Priya Patel <{PATELS}>", "Dev's x-ray")
    assert msg["patient_id"] == "" and len(msg["candidates"]) == 4  # unfiled: four Patels share it
    with refused(c.FORWARD_OUTSIDE_FAMILY) as exc:
        composer.forward(msg[RID], ANGUS, NOW)
    assert "Patel" in exc.value.message
    with refused(c.FORWARD_OUTSIDE_PRACTICE):
        composer.forward(msg[RID], "someone@elsewhere.example", NOW)
    composer.forward(msg[RID], SPECIALIST, NOW)
    composer.forward(msg[RID], PATELS, NOW)


def test_mail_from_a_tagged_variant_is_the_patients(setup: tuple, fakemail: FakeMail) -> None:
    engine, composer = setup
    msg = receive(engine, fakemail, "Grace.Holloway+dentist@PatientMail.example", "From my tagged address")
    assert msg["patient_id"] == "P043"  # filed: the same mailbox
    with refused(c.FORWARD_OUTSIDE_FAMILY):
        composer.forward(msg[RID], ANGUS, NOW)


def test_forward_of_a_sent_item(setup: tuple) -> None:
    engine, composer = setup
    item = composer.from_patient("P043", NOW, subject="Your appointment", text="Tuesday at 10")
    with refused(c.FORWARD_OUTSIDE_FAMILY):
        composer.forward_sent(item, "ANGUS.MACLEOD+x@patientmail.example", NOW)
    with refused(c.FORWARD_OUTSIDE_PRACTICE):
        composer.forward_sent(item, "her.work@office.example", NOW)
    fwd = composer.forward_sent(item, "her.work@office.example", NOW, confirmed_outside=True)
    assert any("Grace Holloway" in h.get("detail", "") for h in engine.outbox.get(fwd)["history"])
    composer.forward_sent(item, GRACE.upper(), NOW)


# -- mass mail, import -------------------------------------------------------------------------

def test_two_families_sharing_an_address_get_one_email_each(setup: tuple, practice: Practice, tmp_path: Path) -> None:
    engine, composer = setup
    csv = tmp_path / "new.csv"
    csv.write_text("id,first_name,last_name,email,family_id,shared_address\n"
                   "N1,Rosa,Okoro,okoro.home@mailhome.example,F50,\n"
                   "N2,Ben,Okoro,okoro.home@mailhome.example,F50,\n"
                   "N3,Lily,Hart,Okoro.Home@mailhome.example,F51,\n")
    with pytest.raises(InputInvalid) as exc:
        practice.directory.import_csv("patients", csv)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "email"), (3, "email"), (4, "email")]
    assert practice.directory.find("patients", "N1") is None  # nothing imported
    csv.write_text(csv.read_text().replace(",F50,\n", ",F50,yes\n").replace(",F51,\n", ",F51,yes\n"))
    assert practice.directory.import_csv("patients", csv) == 3
    result = composer.mass("RECALL", ["N1", "N2", "N3"], NOW)
    items = [engine.outbox.get(i) for i in result.ids]
    assert sorted((tuple(i["family_patients"]) or (i["patient_id"],)) for i in items) == [("N1", "N2"), ("N3",)]


def test_mass_and_batch_queueing_refuse_a_merged_family_email(setup: tuple) -> None:
    engine, composer = setup
    sender = composer.practice.settings.get("practice.email")
    good = (Draft(sender, "", [Recipient(PATELS)], "Recall", "x"), {"family_patients": ["P001", "P002"]})
    merged = (Draft(sender, "", [Recipient(PATELS)], "Recall", "x"), {"family_patients": ["P001", "P005"]})
    with refused(c.FAMILY_ONLY_COPIES):
        engine.outbox.add_drafts([good, merged], NOW)
    assert engine.outbox.list() == []  # all or none
    assert len(engine.outbox.add_drafts([good], NOW)) == 1


# -- automatic mail: confirmations (link ready), welcome; the support email ----------------------

def test_a_confirmation_whose_link_arrives_goes_only_to_its_patient(setup: tuple) -> None:
    engine, composer = setup
    sender = composer.practice.settings.get("practice.email")
    rid = engine.outbox.add_pending_link({"kind": "confirmation", "automatic": True, "patient_id": "P043",
                                          "from": sender, "to": [GRACE], "cc": [], "bcc": [], "envelope_to": [GRACE],
                                          "subject": "(waiting)", "deliver_after": NOW.isoformat()}, NOW)
    with refused(c.FAMILY_ONLY_COPIES):
        engine.outbox.link_ready(rid, Draft(sender, "", [Recipient(GRACE)], "Confirmed", "x",
                                            cc=[Recipient(ANGUS)]), NOW)
    assert engine.outbox.get(rid)["status"] == "pending_link"
    engine.outbox.link_ready(rid, Draft(sender, "", [Recipient(GRACE)], "Confirmed", "x"), NOW)
    assert engine.outbox.get(rid)["status"] == "ready"


def test_booking_and_welcome_pass_the_gate(setup: tuple, practice: Practice) -> None:
    engine, composer = setup
    from engine.service.reminders import Reminders

    reminders = Reminders(practice, engine.outbox)
    practice.directory.on_patient_created(lambda p: reminders.welcome(p, NOW))
    reminders.book("P043", "2026-12-02T15:00", 30, NOW)
    with pytest.raises(InputInvalid, match="shared_address"):  # another family's address: refused, no welcome
        practice.directory.add_patient({"id": "N9", "first_name": "Max", "last_name": "Roe", "email": ANGUS})
    practice.directory.add_patient({"id": "N9", "first_name": "Max", "last_name": "Roe", "email": "max@roe.example"})
    queued = sorted((r["to"], r["kind"]) for r in engine.outbox.list())
    assert queued == [([GRACE], "confirmation"), (["max@roe.example"], "welcome")]


def test_the_support_email_passes_the_gate(setup: tuple, practice: Practice) -> None:
    engine, _ = setup
    practice.settings.set_many({"support.address": "help@vendor.example"})
    rid = email_support(Admin(App(practice)), NOW)
    assert engine.outbox.get(rid)["to"] == ["help@vendor.example"]


# -- the command line --------------------------------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--data", str(folder)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_outbox_add_refuses_two_families_and_an_unrelated_copy(practice: Practice,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = practice.folder
    practice.close()
    code, _, err = run(capsys, folder, "outbox", "add", "--to", PATELS, "--to", OBRIENS, "--subject", "Hi")
    assert code == 1 and c.ONE_PATIENT_IN_TO in err and err.count("\n") == 1
    code, _, err = run(capsys, folder, "outbox", "add", "--to", GRACE, "--cc", "Angus.MacLeod+x@patientmail.example")
    assert code == 1 and c.FAMILY_ONLY_COPIES in err
    code, _, err = run(capsys, folder, "outbox", "add", "--to", PATELS, "--cc", GRACE, "--patient", "P001")
    assert code == 1 and c.FAMILY_ONLY_COPIES in err
    code, out, _ = run(capsys, folder, "outbox", "list", "--json")
    assert out.strip() == "[]"  # nothing queued
    code, out, err = run(capsys, folder, "outbox", "add", "--to", PATELS, "--cc", "a.okafor@brightsmile.example",
                         "--cc", "someone@elsewhere.example", "--patient", "P002")
    assert code == 0, err


def test_cli_forward_needs_a_confirmation_naming_the_patient(setup: tuple, practice: Practice, fakemail: FakeMail,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    engine, composer = setup
    msg = receive(engine, fakemail, GRACE, "Results please")
    item = composer.from_patient("P043", NOW, subject="Your results", attached=[XRAY])
    engine.stop()
    folder = practice.folder
    practice.close()
    mid = str(msg[RID])
    code, _, err = run(capsys, folder, "inbox", "forward", mid, "--to", "her.work@office.example")
    assert code == 1 and c.FORWARD_OUTSIDE_PRACTICE in err and "Grace Holloway" in err
    code, _, err = run(capsys, folder, "inbox", "forward", mid, "--to", "her.work@office.example",
                       "--confirm-outside", "P033")
    assert code == 1 and "P043" in err  # the confirmation must name her
    code, _, err = run(capsys, folder, "inbox", "forward", mid, "--to", "her.work@office.example",
                       "--confirm-outside", "P043")
    assert code == 0, err
    code, _, err = run(capsys, folder, "outbox", "forward", str(item), "--to", ANGUS, "--confirm-outside", "P043")
    assert code == 1 and c.FORWARD_OUTSIDE_FAMILY in err
    code, _, err = run(capsys, folder, "outbox", "forward", str(item), "--to", "her.work@office.example",
                       "--confirm-outside", "P043")
    assert code == 0, err
    code, _, err = run(capsys, folder, "compose", "--patient", "P043", "--subject", "x", "--cc", "her.work@office.example",
                       "--attach", str(Path(__file__)))
    assert code == 1 and c.ATTACHMENT_RECIPIENTS in err
    code, _, err = run(capsys, folder, "compose", "--patient", "P043", "--subject", "x", "--cc", "her.work@office.example",
                       "--attach", str(Path(__file__)), "--confirm-outside", "P043")
    assert code == 0, err
    with Practice(folder, writer=False) as p:
        events = Inbox.for_practice(p).get(int(mid))["timeline"]
        assert "confirmed by reception for Ms Grace Holloway" in events[-1]["detail"]
        raw = [r for r in p.store.partitioned("outbox").all() if r.get("forward_of_item")]
        assert len(raw) == 1 and any(h["event"] == "confirmed outside" for h in raw[0]["history"])


HOSTILE = [" angus.macleod@patientmail.example ", "ANGUS.MACLEOD@PATIENTMAIL.EXAMPLE", "angus.macleod+x.y@patientmail.example",
           "<angus.macleod@patientmail.example>", "Angus <angus.macleod@patientmail.example>",
           "angus.macleod@patientmail.example.", "angus.macleod@patientmail.example\r\nBcc: evil@x.test",
           "angus.macleod@patientmail.example\u2028", "angus.macleod@patientmail.example\x85",
           "angus.macleod@patientmail.example\x0b", "=?utf-8?q?angus.macleod=40patientmail.example?=",
           "\u202eangus.macleod@patientmail.example", "angus.macleod@" + "p" * 5000 + ".example", ""]


@pytest.mark.parametrize("variant", HOSTILE)
def test_no_spelling_of_another_familys_address_gets_a_copy(setup: tuple, variant: str) -> None:
    """Whatever is typed, Grace's mail never goes to Angus: the gate refuses it, or the
    address is refused as no address at all; nothing is queued either way."""
    engine, composer = setup
    sender = composer.practice.settings.get("practice.email")
    draft = Draft(sender, "", [Recipient(GRACE)], "Results", "x", cc=[Recipient(variant)])
    with pytest.raises((RuleRefused, InputInvalid)):
        engine.outbox.add_draft(draft, NOW, patient_id="P043")
    assert engine.outbox.list() == []


def test_patients_add_refuses_another_familys_address_unless_said(practice: Practice,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = practice.folder
    practice.close()
    base = ("patients", "add", "--id", "N7", "--first-name", "Ivy", "--last-name", "Stone", "--email",
            "OBRIENS+ivy@mailhome.example", "--family-id", "F77")
    code, _, err = run(capsys, folder, *base)
    assert code == 1 and "shared_address" in err and err.count("\n") == 1
    code, out, err = run(capsys, folder, *base, "--shared-address")
    assert code == 0 and "added patient N7" in out, err


def test_the_gate_sees_a_directory_change_at_once(setup: tuple, practice: Practice) -> None:
    engine, composer = setup
    assert engine.outbox.book().person("ivy.stone@new.example").kind == "other"  # built and cached
    composer.from_patient("P043", NOW, subject="x", extra_cc=["ivy.stone@new.example"])
    practice.directory.add_patient({"id": "N8", "first_name": "Ivy", "last_name": "Stone",
                                    "email": "ivy.stone@new.example", "family_id": "F88"})
    with refused(c.FAMILY_ONLY_COPIES):
        composer.from_patient("P043", NOW, subject="x", extra_cc=["Ivy.Stone@new.example"])


@pytest.mark.parametrize("args", [
    ("inbox", "forward", "abc", "--to", SPECIALIST), ("outbox", "forward", "9" * 40, "--to", SPECIALIST),
    ("inbox", "forward", "99", "--to", SPECIALIST), ("outbox", "forward", "1", "--to", "x@y.example\r\nBcc: z@evil.test"),
    ("outbox", "forward", "1", "--to", "x@y.example", "--confirm-outside", "P043\u2028"),
    ("outbox", "add", "--to", "\u202eangus.macleod@patientmail.example", "--cc", ANGUS, "--patient", "P043"),
])
def test_forward_and_add_answer_hostile_input_in_one_line(practice: Practice, capsys: pytest.CaptureFixture[str],
                                                          args: tuple[str, ...]) -> None:
    engine = Engine(practice)
    Composer(practice, engine.outbox, engine.inbox).from_patient("P043", NOW, subject="Results", text="x")
    folder = practice.folder
    practice.close()
    code, out, err = run(capsys, folder, *args)
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    code, out, _ = run(capsys, folder, "outbox", "list", "--json")
    assert out.count('"id"') == 1  # only the item made above
