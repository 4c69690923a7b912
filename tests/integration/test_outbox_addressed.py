"""What inbox filing matches replies by (Outbox.addressed_since), on both backends: the items
after an id that carry a Message-ID and a patient or specialist; an item still waiting for its
booking link is read again until it has its Message-ID; texts (no Message-ID) are passed over."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from engine.core.message import Draft, Recipient
from engine.service.outbox import Outbox
from engine.service.outbox_queries import SentMark
from tests.backends import Backend

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
SENDER = "practice@example.test"


def _draft(to: str) -> Draft:
    return Draft(SENDER, "Bright Smile Dental", [Recipient(to)], "Your check-up", "See you soon.")


def test_addressed_since_reads_on_past_a_waiting_link_and_a_text(backend: Backend) -> None:
    with backend.practice() as p:
        outbox = Outbox(p.store)
        first = outbox.add_draft(_draft("a@example.com"), T0, patient_id="P001")
        link = outbox.add_pending_link({"from": SENDER, "to": ["b@example.com"], "envelope_to": ["b@example.com"],
                                        "patient_id": "P002"}, T0)
        nobody = outbox.add_draft(_draft("c@example.com"), T0)
        text = outbox.add_sms("+447700900041", "Hello", T0, sender="+447700900999", parts=1, patient_id="P040")
        last = outbox.add_draft(_draft("d@example.com"), T0, patient_id="P003")
        mid = {rid: outbox.get(rid).get("message_id") for rid in (first, nobody, text, last)}
        found, mark = outbox.addressed_since()
        assert found == {mid[first]: ("P001", ""), mid[last]: ("P003", "")}
        assert mark == SentMark(link - 1)  # the waiting link is read again next time
        outbox.link_ready(link, _draft("b@example.com"), T0)
        found, mark = outbox.addressed_since(mark)
        assert found == {outbox.get(link)["message_id"]: ("P002", ""), mid[last]: ("P003", "")}
        assert mark == SentMark(last)
        assert outbox.addressed_since(mark) == ({}, SentMark(last))
        outbox.close()


def test_an_item_committed_after_a_newer_one_is_still_read(data_dir: Path, pg_url: str) -> None:
    """On PostgreSQL an item can be committed after one with a higher id (another desk's long
    transaction): made here without threads by storing it with its id given, below the mark."""
    with Backend("postgres", data_dir, pg_url).practice() as p:
        outbox = Outbox(p.store)
        first = outbox.add_draft(_draft("a@example.com"), T0, patient_id="P001")
        items = p.store.partitioned("outbox")
        base = items.require(first)
        items.insert({**base, "message_id": "<newer@x>", "patient_id": "P010"}, record_id=first + 3)
        found, mark = outbox.addressed_since()
        assert set(found) == {base["message_id"], "<newer@x>"} and mark == SentMark(first + 3, (first + 1, first + 2))
        items.insert({**base, "message_id": "<late@x>", "patient_id": "P009"}, record_id=first + 1)  # committed late
        found, mark = outbox.addressed_since(mark)
        assert found == {"<late@x>": ("P009", "")} and mark == SentMark(first + 3, (first + 2,))
        assert outbox.addressed_since(mark) == ({}, mark)
        outbox.close()
