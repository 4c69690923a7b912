"""The inbox search answered from its index (engine/service/inbox_search.py, issue 19) finds what a
scan of every message finds, in the same order, whatever the text; messages stored after the
index was built (by this Inbox or another writer) are found too; the projection the index is
built from reads the same on both backends."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.adapters.storage import RID
from engine.service import inbox_search
from engine.service.inbox import Inbox, _found
from engine.service.inbox_records import InboxMessage
from engine.service.practice import Practice
from tests.backends import Backend

NOW = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
ODD = ["\u2028", "\x85", "\u202e", "\r\n", "\n", "ß", "SS", "İ", "ﬁ", "é", "e\u0301", "🦷", "/", "-", "30", "11"]
piece = st.one_of(st.sampled_from(ODD), st.text(alphabet="abcAB /-:.@0123", max_size=4))
words = st.lists(piece, max_size=4).map("".join)
day = st.dates().map(lambda d: d.isoformat() + "T09:00:00+00:00")
message = st.fixed_dictionaries({"from_address": words, "from_name": words, "subject": words, "received": day,
                                 "deleted": st.booleans()})


def record(m: dict[str, Any]) -> dict[str, Any]:
    return InboxMessage(from_address=m["from_address"], from_name=m["from_name"], subject=m["subject"],
                        received=m["received"], blob="0" * 64, size=1, source="test", origin="test",
                        deleted=m["deleted"]).record()


def scan(inbox: Inbox, search: str, deleted: bool = False) -> list[int]:
    """What the search must answer: every message, newest first, read and matched whole."""
    ws = search.casefold().split()
    return [r[RID] for r in inbox.messages.iter_newest()
            if bool(r.get("deleted")) == deleted and _found(r, ws)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(message, min_size=1, max_size=6), min_size=1, max_size=3),
       queries=st.lists(st.one_of(words, st.sampled_from(ODD)), min_size=1, max_size=3), limit=st.integers(1, 4))
def test_the_index_answers_as_a_scan_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches: list[Any],
                                           queries: list[str], limit: int) -> None:
    monkeypatch.setattr(inbox_search, "BLOCK", 4)  # several blocks, an open one, rebuilt as mail comes
    with Practice(tmp_path / f"d{abs(hash((str(batches), str(queries))))}", writer=True, command="test") as p:
        inbox = Inbox.for_practice(p)
        for batch in batches:
            inbox.messages.insert_many([record(m) for m in batch])
            for q in queries:
                if not q.split():
                    continue
                expected = scan(inbox, q)
                assert [r[RID] for r in inbox.list(search=q, show_all=True)] == expected
                assert [r[RID] for r in inbox.list(search=q, show_all=True, limit=limit)] == expected[:limit]
                assert [r[RID] for r in inbox.list(search=q, deleted=True)] == scan(inbox, q, deleted=True)


def test_mail_stored_by_another_writer_after_the_first_search_is_found(backend: Backend) -> None:
    with backend.practice() as p:
        reading, writing = Inbox.for_practice(p), Inbox.for_practice(p)
        writing.messages.insert_many([record({"from_address": "a@x.example", "from_name": "Ann", "subject": "Crown",
                                              "received": NOW.isoformat(), "deleted": False})])
        assert [r["subject"] for r in reading.list(search="crown", show_all=True)] == ["Crown"]
        writing.messages.insert_many([record({"from_address": "b@x.example", "from_name": "Bo", "subject": "crown fitted",
                                              "received": NOW.isoformat(), "deleted": False})])
        assert [r["subject"] for r in reading.list(search="CROWN", show_all=True)] == ["crown fitted", "Crown"]
        assert [r["from"] for r in reading.list(search="30/11/2026 bo", show_all=True)] == ["b@x.example"]


def test_projection_reads_the_same_on_both_backends(backend: Backend) -> None:
    with backend.open() as s:
        msgs = s.partitioned("messages")
        ids = msgs.insert_many([{"from": "a\u2028b", "subject": "Ünïcode 🦷"}, {"from": "c"}, {"subject": None}])
        assert msgs.project(("from", "subject")) == [(ids[0], ("a\u2028b", "Ünïcode 🦷")), (ids[1], ("c", "")),
                                                     (ids[2], ("", ""))]
        assert msgs.project(("subject",), after=ids[1]) == [(ids[2], ("",))]
        assert msgs.project(("subject",), after=ids[2]) == []
        assert msgs.project(("subject",), after=ids[2], also=[ids[0], ids[2] + 50]) == [(ids[0], ("Ünïcode 🦷",))]
        assert msgs.project(("from",), after=ids[1], also=[ids[0]]) == [(ids[0], ("a\u2028b",)), (ids[2], ("",))]


def test_messages_that_arrive_below_the_mark_are_found_in_their_place(data_dir: Path, pg_url: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What a late commit on PostgreSQL looks like to the index (ids 3, 6 and 11 stored after the
    index had passed them), made without threads: each is inserted with its id given (TinyDB's
    ids are given in commit order, so only PostgreSQL)."""
    monkeypatch.setattr(inbox_search, "BLOCK", 4)  # the late ids land in closed blocks and the open one
    late = (3, 6, 11)
    with Backend("postgres", data_dir, pg_url).practice() as p:
        inbox = Inbox.for_practice(p)

        def mail(i: int) -> dict[str, Any]:
            return record({"from_address": f"p{i}@x.example", "from_name": "Ann", "subject": f"check-up visit-{i}x",
                           "received": NOW.isoformat(), "deleted": False})

        for i in range(1, 14):
            if i not in late:
                inbox.messages.insert(mail(i), record_id=i)
        assert [r[RID] for r in inbox.list(search="check-up", show_all=True)] == [i for i in range(13, 0, -1)
                                                                                  if i not in late]
        for i in late:
            inbox.messages.insert(mail(i), record_id=i)
            assert [r[RID] for r in inbox.list(search=f"visit-{i}x", show_all=True)] == [i]
        assert [r[RID] for r in inbox.list(search="check-up", show_all=True)] == scan(inbox, "check-up") \
            == list(range(13, 0, -1))
        inbox.messages.insert_many([mail(0), mail(0)])  # after the late ones, the index still grows
        assert [r[RID] for r in inbox.list(search="ann", show_all=True)] == list(range(15, 0, -1))
