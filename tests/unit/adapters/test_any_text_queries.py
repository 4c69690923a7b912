"""Untrusted text in any field must not break a query (issue 21): a subject or a name holding
NUL ("\\u0000" in the stored JSON) made PostgreSQL's json operators fail for the whole query, so
one stranger's message broke the outbox's counts, the inbox's search (its index is built from
`project`) and the tag filter. Held to a Python reading of every record, on both backends."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from engine.adapters.storage import RID
from engine.service.inbox import Inbox
from engine.service.inbox_records import InboxMessage
from engine.service.outbox import Outbox
from tests.backends import Backend

NOW = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
NUL = "Crown\x00 fitted"


def test_a_nul_in_a_message_or_an_outbox_item_breaks_no_count_search_or_view(backend: Backend) -> None:
    with backend.practice() as p:
        inbox, outbox = Inbox.for_practice(p), Outbox(p.store)
        message = InboxMessage(from_address="a\x00@x.example", from_name="Ann\x00", subject=NUL,
                               received=NOW.isoformat(), blob="0" * 64, size=1, source="test", origin="test").record()
        plain = InboxMessage(from_address="b@x.example", from_name="Bo", subject="Crown", received=NOW.isoformat(),
                             blob="0" * 64, size=1, source="test", origin="test").record()
        ids = inbox.messages.insert_many([{**message, "tags": ["Patient", "x\x00"]}, {**plain, "tags": ["Patient"]}])
        rid = outbox.add_sms("+15550100", "Hi\x00 there", NOW, sender="Clinic", parts=1, meta={"note": "\x00"})
        assert [r[RID] for r in inbox.list(search="crown", show_all=True)] == [ids[1], ids[0]]
        assert [r[RID] for r in inbox.list(search="ann", show_all=True)] == [ids[0]]
        assert [r[RID] for r in inbox.list(tags=["Patient"])] == [ids[1], ids[0]]
        assert [r[RID] for r in inbox.list(tags=["x\x00"])] == [ids[0]]
        assert inbox.list(tags=["x"]) == []
        assert inbox.unread() == 2
        assert sum(outbox.counts().values()) == 1
        assert outbox.count_in(outbox.item(rid).status) == 1
        found, mark = outbox.addressed_since()
        assert (found, mark.upto) == ({}, rid)


_fresh = itertools.count()
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)  # NUL included
scalar = st.one_of(any_text, st.sampled_from(["\x00", "a\\u0000", "\\", ""]), st.none(), st.integers(-3, 3),
                   st.booleans())
tag = st.sampled_from(["A", "\x00", "A\x00", "B", ""])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(records=st.lists(st.fixed_dictionaries({"status": scalar, "subject": st.one_of(scalar, st.lists(any_text))},
                                              optional={"tags": st.lists(tag, max_size=3)}), max_size=8),
       wanted=st.lists(tag, min_size=1, max_size=2))
def test_counts_projections_and_tag_lists_read_any_text_as_stored(backend: Backend, records: list[dict[str, Any]],
                                                                  wanted: list[str]) -> None:
    with backend.open() as s:
        p = s.partitioned(f"text{next(_fresh)}")
        p.insert_many(records)
        stored = p.all()
        counts: dict[Any, int] = {}
        for r in stored:
            counts[r.get("status")] = counts.get(r.get("status"), 0) + 1
        assert p.count_by("status") == counts
        projected = dict(p.project(("subject", "status")))
        assert sorted(projected) == [r[RID] for r in stored]
        for r in stored:  # text as stored ('' for none); other values as JSON text, spelt per backend
            for f, got in zip(("subject", "status"), projected[r[RID]]):
                if r.get(f) is None or isinstance(r[f], str):
                    assert got == (r.get(f) or "")
        scan = [r[RID] for r in p.iter_newest(lambda r: isinstance(r.get("tags"), list)
                                              and all(t in r["tags"] for t in wanted))]
        assert [r[RID] for r in p.newest_holding("tags", wanted)] == scan
