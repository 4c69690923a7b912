"""Bounces end to end: the fake SMTP server accepts, then returns a delivery status
notification to the practice's mailbox (a `bounce` fault); intake recognises it, the outbox
item is bounced, the patient's address is marked bad, automatic mail to it is held for
reception, and a corrected address clears it. The real worker pass, the fake clock, the
fake servers' own records as the witness."""

from __future__ import annotations

from datetime import timedelta

from engine.adapters.clock import FakeClock
from engine.adapters.store import RID
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.conftest import ROOT
from tests.integration.helpers import draft
from tests.integration.answering import ANGUS, clock, engine, practice  # noqa: F401 - fixtures
from tools.fakemail import FakeMail

CORPUS = ROOT / "fixtures" / "bounces"


def send_to(engine: Engine, practice: Practice, patient_id: str, subject: str = "Your appointment") -> int:
    p = practice.directory.require("patients", patient_id)
    return engine.outbox.add_draft(draft(to=p["email"], subject=subject), engine.clock.now(), patient_id=patient_id)


def bounce_messages(engine: Engine) -> list[dict]:
    return engine.inbox.list(tags=["Bounce"], include_actioned=True)


def test_a_bounce_marks_the_item_and_the_patient_and_holds_automatic_mail(
        practice: Practice, engine: Engine, fakemail: FakeMail, clock: FakeClock) -> None:
    angus = practice.directory.require("patients", ANGUS)
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=550)
    rid = send_to(engine, practice, ANGUS)
    other = send_to(engine, practice, "P036")  # a patient whose mail goes through
    result = engine.send_receive_now()
    assert result["sent"] == 2 and result["received"] == 1  # the relay took both, then bounced one

    item = engine.outbox.get(rid)
    assert item["status"] == "bounced" and item["bounce"] == "the mailbox does not exist [5.1.1]"
    assert engine.outbox.get(other)["status"] == "sent"
    bad = practice.directory.require("patients", ANGUS)["email_bad"]
    assert bad["address"] == angus["email"] and bad["reason"] == "the mailbox does not exist" and bad["outbox_id"] == rid
    assert not practice.directory.require("patients", "P036").get("email_bad")
    (msg,) = bounce_messages(engine)
    assert msg["patient_id"] == ANGUS and "Bounce" in msg["tags"] and msg["bounce"]["outbox_id"] == rid
    assert msg[RID] not in {m[RID] for m in engine.inbox.list()}  # out of the default inbox view
    assert any(e["event"] == "bounce" for e in msg["timeline"])

    # automatic mail to the bad address is held for reception, not sent
    rem = Reminders(practice, engine.outbox)
    rem.book(ANGUS, "2026-11-30T15:00", 30, clock.now())
    (held,) = rem.held_for_bad_address()
    assert held["status"] == "draft" and held["patient_id"] == ANGUS and "does not exist" in held["held"]
    before = len(fakemail.sent())
    clock.advance(timedelta(minutes=5))
    assert engine.send_receive_now()["sent"] == 0 and len(fakemail.sent()) == before

    # a corrected address clears the mark; the next automatic mail goes
    practice.directory.update("patients", ANGUS, {"email": "angus.new@patientmail.example"})
    assert not practice.directory.require("patients", ANGUS).get("email_bad")
    rem.book(ANGUS, "2026-12-01T15:00", 30, clock.now())
    clock.advance(timedelta(minutes=5))
    assert engine.send_receive_now()["sent"] == 1
    assert fakemail.sent()[-1]["rcpt_tos"] == ["angus.new@patientmail.example"]


def test_a_delayed_bounce_is_shown_and_changes_nothing(practice: Practice, engine: Engine,
                                                       fakemail: FakeMail) -> None:
    angus = practice.directory.require("patients", ANGUS)
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=451)
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    item = engine.outbox.get(rid)
    assert item["status"] == "sent" and item["delivery_note"].startswith("delivery is delayed")
    assert not practice.directory.require("patients", ANGUS).get("email_bad")
    (msg,) = bounce_messages(engine)
    assert msg["patient_id"] == ANGUS and msg["bounce"]["permanent"] is False


def test_the_same_bounce_fetched_twice_marks_once(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    angus = practice.directory.require("patients", ANGUS)
    fakemail.faults.add("smtp", "bounce", "bounce", text=angus["email"], code=552)
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    practice.settings.set_many({"incoming.protocol": "pop3", "incoming.port": str(fakemail.ports["pop3"]["pop3s"])})
    engine.send_receive_now()  # POP3 fetches the bounce again: the item is not bounced twice
    item = engine.outbox.get(rid)
    assert [h["event"] for h in item["history"]].count("bounce") == 1 and item["bounce"].startswith("the mailbox is full")
    assert practice.directory.require("patients", ANGUS)["email_bad"]["outbox_id"] == rid
    notes = [m["timeline"][-1]["detail"] for m in bounce_messages(engine)]
    did = [n for n in notes if " bounced: " in n and " is bounced: " not in n]
    assert len(did) == 1 and all(" is bounced: " in n for n in notes if n not in did)  # a copy redoes nothing


def test_a_vacation_reply_is_never_a_bounce(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    ours = engine.outbox.get(rid)["message_id"].encode()
    angus = practice.directory.require("patients", ANGUS)["email"].encode()
    raw = (CORPUS / "vacation-reply.eml").read_bytes().replace(
        b"<176449392100.1.ours-user-unknown@practice.example>", ours).replace(b"ann.lee@example.org", angus)
    fakemail.deliver("practice", raw)
    engine.send_receive_now()
    assert engine.outbox.get(rid)["status"] == "sent"
    assert not practice.directory.require("patients", ANGUS).get("email_bad")
    assert bounce_messages(engine) == []


def test_a_bounce_for_a_message_we_never_sent_changes_nothing(practice: Practice, engine: Engine,
                                                               fakemail: FakeMail) -> None:
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    fakemail.deliver("practice", (CORPUS / "never-sent.eml").read_bytes())
    engine.send_receive_now()
    (msg,) = bounce_messages(engine)
    assert msg["patient_id"] == "" and msg["bounce"]["outbox_id"] is None
    assert engine.outbox.get(rid)["status"] == "sent"
    assert not any(p.get("email_bad") for p in practice.directory.list("patients"))


def test_a_bounce_quoting_another_of_our_messages_bounces_only_the_returned_one(
        practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    earlier = send_to(engine, practice, ANGUS, "Earlier")
    returned = send_to(engine, practice, ANGUS, "Re: Can I move my appointment?")
    engine.send_receive_now()
    angus = practice.directory.require("patients", ANGUS)["email"].encode()
    raw = (CORPUS / "quoting-other-message.eml").read_bytes() \
        .replace(b"<176452200000.10.ours-quoting@practice.example>", engine.outbox.get(returned)["message_id"].encode()) \
        .replace(b"<176452000000.11.ours-earlier@practice.example>", engine.outbox.get(earlier)["message_id"].encode()) \
        .replace(b"ivy.jones@example.net", angus)
    fakemail.deliver("practice", raw)
    engine.send_receive_now()
    assert engine.outbox.get(returned)["status"] == "bounced"
    assert engine.outbox.get(earlier)["status"] == "sent"
    assert practice.directory.require("patients", ANGUS)["email_bad"]["outbox_id"] == returned


def test_a_forged_bounce_naming_another_address_marks_nobody(practice: Practice, engine: Engine,
                                                             fakemail: FakeMail) -> None:
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    raw = (CORPUS / "standard-user-unknown.eml").read_bytes().replace(
        b"<176449392100.1.ours-user-unknown@practice.example>", engine.outbox.get(rid)["message_id"].encode())
    fakemail.deliver("practice", raw)  # says ann.lee@example.org bounced: not whom we sent it to
    engine.send_receive_now()
    assert engine.outbox.get(rid)["status"] == "bounced"
    assert not any(p.get("email_bad") for p in practice.directory.list("patients"))


def test_a_bounce_for_an_item_reception_has_deleted_is_kept_and_changes_nothing(
        practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    angus = practice.directory.require("patients", ANGUS)
    rid = send_to(engine, practice, ANGUS)
    engine.send_receive_now()
    from engine.core.outbox import Event
    engine.outbox.apply(rid, Event.DELETE, engine.clock.now())
    raw = (CORPUS / "standard-user-unknown.eml").read_bytes() \
        .replace(b"<176449392100.1.ours-user-unknown@practice.example>", engine.outbox.get(rid)["message_id"].encode()) \
        .replace(b"ann.lee@example.org", angus["email"].encode())
    fakemail.deliver("practice", raw)
    assert engine.send_receive_now()["received"] == 1
    assert engine.outbox.get(rid)["status"] == "deleted"
    (msg,) = bounce_messages(engine)
    assert msg["patient_id"] == ANGUS and "is deleted" in msg["timeline"][-1]["detail"]
    assert not practice.directory.require("patients", ANGUS).get("email_bad")
