"""Text messages end to end through the Twilio-shaped fake provider over a real socket:
send, delivered, failed with the provider's reason, throttled and retried, a reply filed,
STOP opting out, C confirming, the balance shown; quiet hours on the wired worker; SMS
reminders by the patient's preference."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from engine.adapters.clock import FakeClock
from engine.errors import InputInvalid
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from engine.service.sms import Texts
from tests.integration.stepping import SteppingClock
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # Tuesday morning


def configure_sms(practice: Practice, fm: FakeMail) -> None:
    info = fm.info()["sms"]
    practice.settings.set_many({"sms.provider": "twilio", "sms.account": info["account_sid"],
                                "sms.secret": info["auth_token"], "sms.sender": info["number"],
                                "sms.api_url": info["base_url"], "reminders.prompt_before_send": "false",
                                "reminders.confirmation_template": ""})


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(T0)  # a FakeClock that can tell when the worker has finished a pass


@pytest.fixture
def engine(practice: Practice, clock: FakeClock, fakemail: FakeMail) -> Iterator[Engine]:
    configure_sms(practice, fakemail)
    e = Engine(practice, clock)
    yield e
    e.stop()


def test_send_delivered_failed_with_reason_and_balance(practice: Practice, engine: Engine, clock: FakeClock,
                                                       fakemail: FakeMail) -> None:
    texts = Texts(practice, engine.outbox)
    fakemail.sms.outcome("+447700900034", "failed", 30003, "Unreachable destination handset")
    ok = texts.queue("P040", "Your check-up is due: call 01225 555 010 €", clock.now())
    bad = texts.queue("P033", "Hello Angus", clock.now())
    report = engine.send_receive_now()
    assert report["sent"] == 2
    assert fakemail.sent() == []  # never through SMTP
    sent = {m["to"]: m for m in fakemail.sms.messages("outbound")}
    assert sent["+447700900041"]["body"] == "Your check-up is due: call 01225 555 010 €"
    assert texts.poll_statuses(clock.now()) == 2
    assert engine.outbox.get(ok)["provider_status"] == "delivered"
    failed = engine.outbox.get(bad)
    assert failed["provider_status"] == "failed"
    assert failed["provider_reason"] == "Unreachable destination handset (error 30003)"
    assert texts.provider().balance().amount == "9.92"  # 10.00 less two parts at 0.04


def test_throttled_then_retried_and_refused_number_fails_with_its_words(practice: Practice, engine: Engine,
                                                                       clock: FakeClock, fakemail: FakeMail) -> None:
    texts = Texts(practice, engine.outbox)
    fakemail.faults.add("http", "sms", "reply", code=429, times=1)
    rid = texts.queue("P040", "Hello", clock.now())
    report = engine.send_receive_now()
    assert report["sent"] == 0 and "busy" in report["errors"][0]["error"]
    item = engine.outbox.get(rid)
    assert item["status"] == "ready" and item["attempts"] == 1  # a temporary failure, tried again
    assert engine.send_receive_now()["sent"] == 1
    practice.settings.set("sms.sender", "+447700900998")  # not the account's number: refused for good
    rid = texts.queue("P040", "Again", clock.now())
    engine.send_receive_now()
    item = engine.outbox.get(rid)
    assert item["status"] == "failed" and "21606" in item["last_error"]


def test_replies_filed_stop_opts_out_and_c_confirms(practice: Practice, engine: Engine, clock: FakeClock,
                                                   fakemail: FakeMail) -> None:
    rem = Reminders(practice, engine.outbox)
    aid = rem.book("P040", "2026-11-27T11:00", 30, clock.now())
    fakemail.sms.deliver_reply("+447700900041", "C")
    fakemail.sms.deliver_reply("+447700900002", "Stop.")
    fakemail.sms.deliver_reply("+447700900777", "who is this?")
    texts = Texts(practice, engine.outbox)
    report = texts.fetch_replies(clock.now())
    assert (report.fetched, report.filed, report.opted_out, report.confirmed) == (3, 2, ["P001"], [aid])
    assert texts.fetch_replies(clock.now()).fetched == 0  # each reply once
    filed = {r["from"]: r for r in texts.list_replies()}
    assert filed["+447700900041"]["patient_id"] == "P040" and "SMS" in filed["+447700900041"]["tags"]
    assert filed["+447700900777"]["patient_id"] == ""
    assert rem.get(aid)["confirmed"] is True
    assert practice.directory.require("patients", "P001")["preference"] == "none"
    with pytest.raises(InputInvalid, match="opted out"):
        texts.queue("P001", "Hello", clock.now())


def test_no_provider_fails_with_a_hint(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    practice.settings.set("sms.provider", "none")
    rid = Texts(practice, engine.outbox).queue("P040", "Hello", clock.now())
    engine.send_receive_now()
    item = engine.outbox.get(rid)
    assert item["status"] == "failed" and "SMS provider" in item["last_hint"]


def test_quiet_hours_manual_refused_automatic_waits_for_the_morning(practice: Practice, engine: Engine,
                                                                  clock: FakeClock, fakemail: FakeMail) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true"})
    clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc))
    texts = Texts(practice, engine.outbox)
    with pytest.raises(InputInvalid, match="quiet hours"):
        texts.queue("P040", "Hello", clock.now())
    rid = texts.queue("P040", "Reminder", clock.now(), automatic=True)
    assert engine.outbox.get(rid)["deliver_after"] == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc).isoformat()
    engine.start()
    clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=timezone.utc))
    assert engine.send_receive_now()["sent"] == 0
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc))
    (sent,) = fakemail.sms.wait_for_sent(1)
    assert sent["to"] == "+447700900041" and sent["body"] == "Reminder"


def test_sms_reminders_by_preference_with_fallback(practice: Practice, engine: Engine, clock: FakeClock,
                                                  fakemail: FakeMail) -> None:
    d = practice.directory
    d.update("patients", "P040", {"preference": "sms"})
    d.update("patients", "P033", {"preference": "both", "mobile": ""})  # no number: the SMS rule falls back
    d.update("patients", "P002", {"preference": "none"})
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "sms", "days": 2, "at": "10:00", "template": "APPTSMS"})
    rem.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM"})
    for pid in ("P040", "P033", "P002", "P013"):  # P013: no preference, so email
        rem.book(pid, "2026-11-27T15:00", 30, clock.now())
    items = [i for i in engine.outbox.list() if i.get("kind") in ("reminder", "sms")]
    got = sorted((i["patient_id"], i["kind"], i.get("rule")) for i in items)
    assert got == [("P013", "reminder", "R2"), ("P033", "reminder", "R1"), ("P033", "reminder", "R2"),
                   ("P040", "sms", "R1")]
    sms = next(i for i in items if i["kind"] == "sms")
    assert sms["text"].startswith("Bright Smile Dental: see you Friday 27 November 2026 at 15:00.")
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    assert engine.send_receive_now()["sent"] == 4
    assert [m["to"] for m in fakemail.sms.messages("outbound")] == ["+447700900041"]


def test_sms_reminders_replanned_on_move_and_dropped_on_cancel(practice: Practice, engine: Engine,
                                                              clock: FakeClock) -> None:
    """Found by the wired property: a reminder queued as a text (kind sms) was not recognised as a
    reminder by the planner, so a move or cancellation left it waiting for the old slot."""
    practice.directory.update("patients", "P040", {"preference": "sms"})
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "sms", "days": 2, "at": "10:00", "template": "APPTSMS"})
    aid = rem.book("P040", "2026-11-27T15:00", 30, clock.now())
    rem.move(aid, "2026-12-02T15:00", clock.now())
    texts = [i for i in engine.outbox.list() if i.get("kind") == "sms"]
    assert sorted((i["appointment_version"], i["status"]) for i in texts) == [(1, "cancelled"), (2, "ready")]
    rem.cancel(aid, clock.now())
    assert {i["status"] for i in engine.outbox.list() if i.get("kind") == "sms"} == {"cancelled"}


def test_the_running_service_files_replies_and_polls_delivery(practice: Practice, engine: Engine, clock: FakeClock,
                                                             fakemail: FakeMail) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true", "schedule.check_every_minutes": "5"})
    rid = Texts(practice, engine.outbox).queue("P040", "Hello", clock.now())
    engine.start()
    fakemail.sms.wait_for_sent(1)
    fakemail.sms.wait_for_listings(1)  # the service's first check, right after sending
    fakemail.sms.deliver_reply("+447700900041", "Thanks, see you then")
    clock.settle()  # the first pass over: moving time under it would start its next wait late
    clock.advance(timedelta(minutes=5))
    fakemail.sms.wait_for_listings(2)  # the next check, five minutes on
    clock.settle()  # that pass over, its status poll too (a stop cuts a call to the provider under way)
    engine.stop()
    texts = Texts(practice, engine.outbox)
    assert [(r["patient_id"], r["body"]) for r in texts.list_replies()] == [("P040", "Thanks, see you then")]
    assert engine.outbox.get(rid)["provider_status"] == "delivered"


def test_an_email_reminder_goes_by_text_once_the_address_has_bounced(practice: Practice, engine: Engine,
                                                                    clock: FakeClock) -> None:
    """The recall-Monday journey: 'the next reminder goes by SMS instead' of to the bounced address;
    a corrected address brings email back."""
    d = practice.directory
    d.update("patients", "P040", {"mobile": "07700 900041"})
    d.mark_address_bad(d.require("patients", "P040")["email"], "the mailbox does not exist", 1, clock.now())
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM"})
    rem.book("P040", "2026-11-27T15:00", 30, clock.now())
    d.update("patients", "P040", {"email": "oluwaseun.new@patientmail.example"})  # reception corrects it
    rem.book("P040", "2026-12-04T15:00", 30, clock.now())
    kinds = [i["kind"] for i in engine.outbox.list() if i.get("patient_id") == "P040" and i.get("rule")]
    assert kinds == ["sms", "reminder"]


def test_a_bounced_address_falls_back_to_a_text_only_where_the_patient_allows_it(
        practice: Practice, engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    """Issue 20: automatic mail to an address that bounced for good stops; a reminder goes as a
    text instead to a patient with a mobile who takes messages, and to nobody who asked for none
    (a STOP reply sets that preference)."""
    d = practice.directory
    for pid in ("P033", "P040"):
        d.mark_address_bad(d.require("patients", pid)["email"], "the mailbox does not exist", 1, clock.now())
    d.update("patients", "P033", {"preference": "both"})
    d.update("patients", "P040", {"preference": "none"})
    rem = Reminders(practice, engine.outbox)
    rem.rules.add({"channel": "email", "days": 2, "at": "10:00", "template": "APPTREM"})
    for pid in ("P033", "P040"):
        rem.book(pid, "2026-11-27T15:00", 30, clock.now())
    items = [i for i in engine.outbox.list() if i.get("rule")]
    assert [(i["patient_id"], i["kind"]) for i in items] == [("P033", "sms")]
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    engine.send_receive_now()
    assert [m["to"] for m in fakemail.sms.messages("outbound")] == ["+447700900034"]
    assert not [m for m in fakemail.sent() if set(m["rcpt_tos"]) & {"angus.macleod@patientmail.example",
                                                                  "oluwaseun.adeyemi@patientmail.example"}]


def test_the_provider_is_kept_between_passes_and_built_again_when_the_settings_change(
        practice: Practice, engine: Engine, clock: FakeClock, fakemail: FakeMail) -> None:
    """One HTTP client for the engine's passes (not one per pass, with its TLS context and
    settings decrypted again: the bench's overhead), yet a changed secret is used at once."""
    texts = Texts(practice, engine.outbox)
    texts.queue("P040", "First", clock.now())
    assert engine.send_receive_now()["sent"] == 1
    kept = engine._texts.provider()  # noqa: SLF001 - the engine's own, as its passes use it
    texts.queue("P040", "Second", clock.now())
    assert engine.send_receive_now()["sent"] == 1
    assert engine._texts.provider() is kept  # noqa: SLF001
    practice.settings.set("sms.secret", "not-the-token")
    wrong = texts.queue("P040", "Third", clock.now())
    report = engine.send_receive_now()
    assert report["sent"] == 0 and "refused the account" in report["errors"][0]["error"]
    assert engine.outbox.get(wrong)["status"] == "ready"  # a retry, not lost
    practice.settings.set("sms.secret", fakemail.info()["sms"]["auth_token"])
    assert engine.send_receive_now()["sent"] == 1
    assert [m["body"] for m in fakemail.sms.messages("outbound")] == ["First", "Second", "Third"]
