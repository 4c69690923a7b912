"""The inbox's unread count is kept, not scanned (issue 19: the navigation asks for it often, and a
scan of 250,000 messages took too long). Whatever reception and intake do, in any order, the kept
count is what a full read of every message says, and so is the tag filter's answer: on the wired App, on both storage backends
(TinyDB keeps a count per partition until the partition changes; PostgreSQL counts a partial
index of two columns written beside the record)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.adapters.clock import FakeClock
from engine.service.app import App
from engine.service.demo import load_demo
from engine.service.inbox_shelf import ReceiveReport
from tests.backends import Backend

T0 = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
PATIENT = "P001"
serial = itertools.count()

steps = st.lists(st.one_of(
    st.tuples(st.just("intake"), st.integers(1, 4)),
    st.tuples(st.just("text"), st.just(0)),
    st.tuples(st.sampled_from(["read", "unread", "delete", "restore", "file", "tag", "untag"]), st.integers(0, 10_000)),
), min_size=1, max_size=15)


def raw(n: int) -> bytes:
    return (f"From: Someone {n} <someone{n}@example.org>\r\nTo: desk@practice.example\r\n"
            f"Subject: Question {n}\r\nMessage-ID: <q{n}@example.org>\r\n\r\nHello {n}\r\n").encode()


def scanned(app: App) -> int:
    """The witness: every message read and looked at."""
    return sum(1 for r in app.inbox.messages.find(lambda r: True) if not r.get("read") and not r.get("deleted"))


@pytest.fixture
def app(backend: Backend) -> Iterator[App]:
    with backend.practice() as p:
        p.store.partitioned("messages", partition_size=4)  # many partitions on TinyDB (the first open decides)
        load_demo(p)
        a = App(p, FakeClock(T0))
        yield a
        a.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_kept_unread_count_and_tag_lists_are_what_a_scan_finds(app: App, steps: list[tuple[str, int]]) -> None:
    from engine.service.inbox import TextReply

    inbox = app.inbox
    for step, n in steps:
        ids = [r["_rid"] for r in inbox.messages.find(lambda r: True)]
        if step == "intake":  # what a pass commits, its network part aside
            inbox.shelf.commit([("test", f"origin {i}", raw(i)) for i in (next(serial) for _ in range(n))],
                               app.now(), ReceiveReport(), inbox.shelf.who())
        elif step == "text":
            inbox.take_text(TextReply("+447700900999", "Running late", T0, f"SM{next(serial)}"), app.now())
        elif ids:
            rid = ids[n % len(ids)]
            if step in ("read", "unread"):
                app.mark_read(rid, step == "read")
            elif step == "delete":
                app.delete_message(rid)
            elif step == "restore":
                app.restore_message(rid)
            elif step == "file":
                app.file_message(rid, patient_id=PATIENT)
            else:
                app.set_tags(rid, ["Query"] if step == "tag" else [])
        assert app.desk_counts().unread == inbox.unread() == scanned(app), (step, n)
        for tag in ("Query", "Patient", "SMS"):  # the tag filter, from the store's tag lists, is what a scan finds
            found = [r["_rid"] for r in inbox.list(tags=[tag], include_actioned=True)]
            assert found == [r["_rid"] for r in inbox.messages.iter_newest(
                lambda r, t=tag: not r.get("deleted") and t in r.get("tags", []))], (step, n, tag)
