"""Claiming outbox items (ready -> sending) through the store's claim (issue 21's crash rules): an
item is claimed by one claimer only. On PostgreSQL the rows are taken with SELECT ... FOR UPDATE
SKIP LOCKED and changed in the same transaction, so a second claimer, in another thread on another
connection, passes over what the first one holds instead of waiting for it or taking it too."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.core.outbox import Event
from engine.errors import NotFound
from engine.service.outbox import Outbox
from tests.backends import Backend
from tests.integration.helpers import draft

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
WAIT = 20.0  # seconds a step may wait for the other thread before the test fails in words


def _queue(outbox: Outbox, n: int) -> list[int]:
    return outbox.add_drafts([(draft(to=f"patient{i}@example.com", subject=f"Reminder {i}"), {})
                              for i in range(n)], T0)


def test_an_item_is_claimed_once_and_only_while_ready(backend: Backend) -> None:
    with backend.practice() as p:
        first, second = Outbox(p.store), Outbox(p.store)
        rids = _queue(first, 6)
        first.apply(rids[2], Event.CANCEL, T0)  # reception cancelled it after the pass found it due
        claimed = first.claim(rids, T0)
        assert sorted(c["_rid"] for c in claimed) == [r for r in rids if r != rids[2]]
        assert second.claim(rids, T0) == []  # all taken (or cancelled): nothing for a second claimer
        assert [first.get(r)["status"] for r in rids] == ["sending", "sending", "cancelled", "sending",
                                                            "sending", "sending"]
        with pytest.raises(NotFound):
            p.store.partitioned("outbox").claim([rids[-1] + 1000], lambda _i, r: r)


def _held_claim(store: object, outbox: Outbox, rids: list[int], holding: threading.Event,
                release: threading.Event, out: dict[str, object]) -> None:
    """Claim `rids` in a transaction kept open until `release` (the first claimer, mid-commit)."""
    try:
        with store.transaction():  # type: ignore[attr-defined] - PgStore's: one transaction for the thread
            out["first"] = [c["_rid"] for c in outbox.claim(rids, T0)]
            holding.set()
            if not release.wait(WAIT):
                out["error"] = "the second claimer waited for the rows the first one held"
    except BaseException as exc:  # noqa: BLE001 - reported by the test below
        out["error"] = repr(exc)
        holding.set()


def test_on_postgres_a_second_claimer_passes_over_what_the_first_holds(data_dir: Path, pg_url: str) -> None:
    with Backend("postgres", data_dir, pg_url).practice() as p:
        first, second = Outbox(p.store), Outbox(p.store)
        rids = _queue(first, 10)
        holding, release = threading.Event(), threading.Event()
        out: dict[str, object] = {}
        t = threading.Thread(target=_held_claim, args=(p.store, first, rids[:6], holding, release, out))
        t.start()
        try:
            assert holding.wait(WAIT), "the first claimer never claimed"
            assert "error" not in out, out.get("error")
            # the first's transaction is still open: its six rows are locked, not yet committed
            got = [c["_rid"] for c in second.claim(rids, T0)]
        finally:
            release.set()
            t.join(WAIT)
        assert "error" not in out, out.get("error")
        assert out["first"] == rids[:6] and got == rids[6:]
        assert {first.get(r)["status"] for r in rids} == {"sending"}
        assert second.claim(rids, T0) == []  # committed now: seen as sending, passed over by the rule


def test_on_postgres_racing_claimers_never_share_an_item(data_dir: Path, pg_url: str) -> None:
    with Backend("postgres", data_dir, pg_url).practice() as p:
        rids = _queue(Outbox(p.store), 300)
        start = threading.Barrier(4)
        claimed: list[list[int]] = [[] for _ in range(4)]
        errors: list[str] = []

        def claimer(n: int) -> None:
            outbox, order = Outbox(p.store), list(rids)  # an Outbox each: no lock of ours between them
            random.Random(n).shuffle(order)
            try:
                start.wait(WAIT)
                for at in range(0, len(order), 25):
                    claimed[n].extend(c["_rid"] for c in outbox.claim(order[at:at + 25], T0))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

        threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        every = [r for c in claimed for r in c]
        assert sorted(every) == rids  # each item claimed, and by one claimer only
        assert sum(1 for c in claimed if c) >= 2, "one claimer took everything: the race proved nothing"
