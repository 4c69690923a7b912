"""The message record's one shape (engine/service/inbox_records.py): what intake stores is
InboxMessage.record(), and a stored record reads back as the same frozen value."""

from __future__ import annotations

from datetime import datetime, timezone

from engine.adapters.store import RID
from engine.service.inbox_records import MAX_IN_REPLY_TO, MAX_REFERENCES, InboxMessage, timeline_entry

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def sample(**kw: object) -> InboxMessage:
    base = dict(from_address="grace@patientmail.example", from_name="Grace", subject="Hello",
                received=T0.isoformat(), blob="a" * 64, size=120, source="imap uid 7", origin="imap:x uid 7",
                message_id="<1@p>", tags=("Patient",), patient_id="P001",
                timeline=(timeline_entry(T0, "received", "imap uid 7"),))
    return InboxMessage(**{**base, **kw})  # type: ignore[arg-type]


def test_a_record_reads_back_as_the_value_it_was_made_from() -> None:
    for msg in (sample(), sample(bounce={"permanent": True}), sample(calendar_answer={"answer": "DECLINED"})):
        stored = {**msg.record(), RID: 42}
        back = InboxMessage.from_record(stored)
        assert back == msg and back.id == 42
        assert back.record() == msg.record()


def test_the_stored_form_keeps_the_keys_reception_reads_and_no_answer_keys_it_is_not() -> None:
    rec = sample().record()
    assert rec["from"] == "grace@patientmail.example" and "from_address" not in rec and RID not in rec
    assert "bounce" not in rec and "calendar_answer" not in rec
    assert isinstance(rec["tags"], list) and rec["read"] is False and rec["deleted"] is False


def test_long_header_lists_are_cut_to_what_filing_uses() -> None:
    ids = tuple(f"<{i}@x>" for i in range(50))
    rec = sample(in_reply_to=ids, references=ids, problems=tuple(f"p{i}" for i in range(9))).record()
    assert rec["in_reply_to"] == list(ids[:MAX_IN_REPLY_TO])
    assert rec["references"] == list(ids[-MAX_REFERENCES:])
    assert len(rec["problems"]) == 5
