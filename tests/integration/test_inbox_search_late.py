"""The inbox search's index on PostgreSQL with writers in parallel (issue 19, found in review):
ids come from a sequence, so a message can be committed after one with a higher id. The index
must still find it: "mail stored by any writer is found" (engine/service/inbox_search.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path


from engine.service.inbox import Inbox
from engine.service.inbox_records import InboxMessage
from tests.backends import Backend

NOW = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
WAIT = 20.0


def _message(subject: str) -> dict[str, object]:
    return InboxMessage(from_address="patient@example.com", from_name="A Patient", subject=subject,
                        received=NOW.isoformat(), blob="0" * 64, size=1, source="test", origin="test").record()


def test_on_postgres_a_message_committed_after_a_newer_one_is_found(data_dir: Path, pg_url: str) -> None:
    with Backend("postgres", data_dir, pg_url).practice() as p:
        inbox = Inbox.for_practice(p)
        messages = p.store.partitioned("messages")
        holding, release = threading.Event(), threading.Event()
        out: dict[str, object] = {}

        def slow_writer() -> None:  # takes its id first, commits last (a long intake transaction)
            try:
                with p.store.transaction():  # type: ignore[attr-defined] - PgStore's
                    out["rid"] = messages.insert_many([_message("Late crown query")])[0]
                    holding.set()
                    release.wait(WAIT)
            except BaseException as exc:  # noqa: BLE001 - reported below
                out["error"] = repr(exc)
                holding.set()

        t = threading.Thread(target=slow_writer)
        t.start()
        try:
            assert holding.wait(WAIT) and "error" not in out, out.get("error")
            newer = messages.insert_many([_message("Early filling query")])[0]
            assert [r["_rid"] for r in inbox.list(search="filling")] == [newer]  # the index caught up past it
        finally:
            release.set()
            t.join(WAIT)
        assert "error" not in out and out["rid"] < newer, out
        assert [r["_rid"] for r in inbox.list(search="crown")] == [out["rid"]]
        assert [r["_rid"] for r in inbox.list(search="query")] == [newer, out["rid"]]
