"""Recall runs on the demo practice: one message per patient, families merged only when they
share the address, staggered (no hour above recalls.per_hour), dry-run changes nothing, a
rerun after a crash queues nobody twice; and the staggered items go out through the real
worker at their times."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.adapters.clock import FakeClock
from engine.core import recalls as rc
from engine.core.pacing import in_period
from engine.core.periods import parse_periods
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.recalls import Recalls
from tests.conftest import ROOT
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
CSV = ROOT / "fixtures" / "demo" / "recalls.csv"


@pytest.fixture
def recalls(practice: Practice) -> Recalls:
    from engine.service.outbox import Outbox

    practice.settings.set_many({"recalls.per_hour": "2"})
    r = Recalls(practice, Outbox(practice.store))
    assert r.import_csv(CSV) == 9
    return r


def recall_items(r: Recalls) -> list[dict]:
    return [i for i in r.outbox.list() if i.get("kind") == "recall"]


def test_one_message_per_patient_families_merged_only_at_a_shared_address(recalls: Recalls) -> None:
    result = recalls.run(date(2026, 12, 31), T0)
    shown = sorted((m["to"], tuple(m["patients"])) for m in result.messages)
    assert shown == [("angus.macleod@patientmail.example", ("P033",)), ("greta.mueller@patientmail.example", ("P008",)),
                     ("lukas.mueller@patientmail.example", ("P009",)),  # family F03, two addresses: two messages
                     ("oluwaseun.adeyemi@patientmail.example", ("P040",)),
                     ("patel.family@mailhome.example", ("P001", "P002", "P003"))]  # P004 due in February
    assert result.no_address == ["P041"]  # listed, not silently skipped
    items = recall_items(recalls)
    assert len(items) == 5 and {i["status"] for i in items} == {"ready"}
    patel = next(i for i in items if i["to"] == ["patel.family@mailhome.example"])
    raw = recalls.outbox.blob(patel)
    assert "Patel family" in str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])
    tz, periods = ZoneInfo("Europe/London"), parse_periods("Mon-Fri 08:00-18:00; Sat 09:00-12:00")
    times = [datetime.fromisoformat(i["deliver_after"]) for i in items]
    assert rc.busiest_hour(times) <= 2 and all(in_period(t, tz, periods) for t in times)
    assert {r.status for r in recalls.list() if r.patient_id in ("P001", "P002", "P003", "P033")} == {"sent"}


def test_a_rerun_and_a_crash_before_marking_send_nobody_twice(recalls: Recalls, practice: Practice) -> None:
    first = recalls.run(date(2026, 12, 31), T0)
    assert recalls.run(date(2026, 12, 31), T0).queued == []  # a plain rerun
    # the state a crash between queueing a chunk and marking its recalls leaves: queued, still due
    coll = practice.store.collection("recalls")
    coll.modify_many(coll.ids(lambda r: True), lambda _i, r: {**r, "status": "due"})
    again = recalls.run(date(2026, 12, 31), T0 + timedelta(hours=1))
    assert again.queued == [] and sorted(again.already) == ["P001", "P002", "P003", "P008", "P009", "P033", "P040"]
    assert len(recall_items(recalls)) == len(first.queued) == 5
    assert {r.status for r in recalls.list() if r.due <= date(2026, 12, 31) and r.patient_id != "P041"} == {"sent"}


def test_location_and_due_before(recalls: Recalls) -> None:
    result = recalls.run(date(2026, 12, 3), T0, location="Riverside Surgery", dry_run=True)
    assert [m["patients"] for m in result.messages] == [["P001", "P002"], ["P033"]]
    assert recall_items(recalls) == []  # a dry run queues nothing


def test_staggered_items_go_out_through_the_worker_at_their_times(recalls: Recalls, practice: Practice,
                                                                  fakemail: FakeMail) -> None:
    practice.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": "false"})
    recalls.run(date(2026, 12, 31), T0)
    times = sorted(datetime.fromisoformat(i["deliver_after"]) for i in recall_items(recalls))
    clock = FakeClock(T0)
    engine = Engine(practice, clock)
    try:
        engine.start()
        for n, at in enumerate(times, start=1):
            clock.set(at - timedelta(seconds=1))
            assert engine.send_receive_now()["sent"] == 0  # not before its time
            clock.set(at)
            fakemail.wait_for_sent(n)
    finally:
        engine.stop()
    assert len(fakemail.sent()) == 5


def test_derived_from_the_last_appointment_of_a_type(practice: Practice) -> None:
    from engine.errors import InputInvalid
    from engine.service.outbox import Outbox

    d = practice.directory
    rows = [(2, {"id": "H1", "patient_id": "P040", "start": "2026-03-02T10:00", "minutes": "30", "type": "Hygiene"}),
            (3, {"id": "H2", "patient_id": "P040", "start": "2026-08-31T10:00", "minutes": "30", "type": "hygiene"}),
            (4, {"id": "C1", "patient_id": "P033", "start": "2026-09-01T10:00", "minutes": "30", "type": "checkup"})]
    d.import_rows("appointments", rows)
    with pytest.raises(InputInvalid):  # a type is a word, not a header
        d.import_rows("appointments", [(2, {"id": "H3", "patient_id": "P040", "start": "2026-03-02T10:00",
                                            "minutes": "30", "type": "hygiene\r\nBcc: x"})])
    r = Recalls(practice, Outbox(practice.store))
    hygiene = {a["patient_id"] for a in practice.store.collection("appointments").all() if a.get("type") == "hygiene"}
    assert r.derive("hygiene", 6) == len(hygiene)  # P040's and the demo week's hygiene visits, one each
    assert [x.as_dict() for x in r.list() if x.patient_id == "P040"] == [{"patient_id": "P040", "type": "hygiene", "interval_months": 6,
                                                 "due": "2027-02-28", "status": "due"}]


def test_recalls_go_by_preference_and_opted_out_patients_are_listed(recalls: Recalls, practice: Practice,
                                                                   fakemail: FakeMail) -> None:
    from tests.integration.test_sms import configure_sms

    configure_sms(practice, fakemail)
    practice.settings.set_many({"sms.quiet_hours": "", "schedule.periods": ""})
    d = practice.directory
    d.update("patients", "P040", {"preference": "sms"})
    d.update("patients", "P033", {"preference": "none"})
    d.update("patients", "P041", {"preference": "sms", "mobile": "07700 900042"})  # no email, now a number
    result = recalls.run(date(2026, 12, 31), T0)
    assert result.opted_out == ["P033"] and result.no_address == []
    to = sorted(m["to"] for m in result.messages)
    assert "sms:+447700900041" in to and "sms:+447700900042" in to and "angus.macleod@patientmail.example" not in to
    texts = [i for i in recalls.outbox.list() if i.get("kind") == "sms"]
    assert sorted(i["to"][0] for i in texts) == ["+447700900041", "+447700900042"]
    assert all(i["recall_keys"] and i["text"].startswith("Dear ") for i in texts)
    again = recalls.run(date(2026, 12, 31), T0)  # the texts count as queued for a rerun too
    assert again.queued == [] and again.messages == []
    engine = Engine(practice, FakeClock(T0 + timedelta(days=1)))
    try:
        assert engine.send_receive_now()["sent"] == 5  # three emails (the Patels share one), two texts
    finally:
        engine.stop()
    assert sorted(m["to"] for m in fakemail.sms.messages("outbound")) == ["+447700900041", "+447700900042"]


def test_a_booking_after_the_send_closes_the_recall(recalls: Recalls, practice: Practice) -> None:
    from engine.service.reminders import Reminders

    recalls.run(date(2026, 12, 3), T0)
    rem = Reminders(practice, recalls.outbox)
    rem.book("P033", "2026-12-08T10:00", 30, T0)
    rem.book("P004", "2026-12-08T11:00", 30, T0)  # P004's recall was not sent yet: it stays due
    status = {(r.patient_id, r.type): r.status for r in recalls.list()}
    assert status[("P033", "hygiene")] == "booked" and status[("P004", "checkup")] == "due"
    assert status[("P001", "checkup")] == "sent"


def test_families_merged_only_when_they_share_the_number(recalls: Recalls, practice: Practice,
                                                         fakemail: FakeMail) -> None:
    """By text: the Müllers on one mobile get one text; the Patels share an email address but not a
    number, so each gets their own; a stranger on the Müllers' number is not of their family."""
    from tests.integration.test_sms import configure_sms

    configure_sms(practice, fakemail)
    practice.settings.set_many({"sms.quiet_hours": "", "schedule.periods": ""})
    d = practice.directory
    for pid in ("P001", "P002", "P008", "P009", "P040"):
        d.update("patients", pid, {"preference": "sms"})
    d.update("patients", "P009", {"mobile": "07700 900009"})  # Greta's number
    d.update("patients", "P040", {"mobile": "07700 900009"})  # not family: the same number by mistake
    recalls.run(date(2026, 12, 31), T0)
    texts = sorted(((i["to"][0], tuple(i.get("family_patients") or [i["patient_id"]]))
                    for i in recalls.outbox.list() if i.get("kind") == "sms"))
    assert texts == [("+447700900002", ("P001",)), ("+447700900003", ("P002",)),
                     ("+447700900009", ("P008", "P009")), ("+447700900009", ("P040",))]
