"""Confirmations over any sequence of book/move/cancel: at most one per appointment
version, never for a slot the patient no longer has, a cancellation only after a
confirmation went out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from engine.core import reminders as r

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
steps = st.lists(st.sampled_from(["move", "cancel", "wait", "send", "wait-long"]), max_size=25)


@settings(max_examples=400, deadline=None)
@given(steps, st.integers(0, 99))
def test_confirmation_promises(actions: list[str], delay: int) -> None:
    now = T0
    version = 1
    cancelled = False
    items: list[dict] = []  # a tiny outbox: rid, kind, version, status, due
    sent: list[tuple[str, int, int]] = []  # (kind, item version, appointment version at the time)

    def apply(event: str) -> None:
        existing = [r.Existing(i["rid"], i["kind"], i["version"], i["status"]) for i in items]
        p = r.plan(event, "A1", version, existing, now, delay)
        for rid in p.drop:
            item = next(i for i in items if i["rid"] == rid)
            assert item["status"] in r.NOT_YET_SENT
            item["status"] = "cancelled"
        for q in p.queue:
            items.append({"rid": len(items) + 1, "kind": q.kind, "version": q.version, "status": "ready",
                          "due": q.deliver_after})

    apply("booked")
    for action in actions:
        if action == "move" and not cancelled:
            version += 1
            apply("moved")
        elif action == "cancel" and not cancelled:
            version += 1
            cancelled = True
            apply("cancelled")
        elif action == "wait":
            now += timedelta(minutes=5)
        elif action == "wait-long":
            now += timedelta(minutes=120)
        elif action == "send":
            for i in items:
                if i["status"] == "ready" and i["due"] <= now:
                    i["status"] = "sent"
                    sent.append((i["kind"], i["version"], version))
    confirmations = [s for s in sent if s[0] == r.CONFIRMATION]
    assert len({v for _, v, _ in confirmations}) == len(confirmations)  # one per version
    for _, item_version, current in confirmations:
        assert item_version == current  # never for a slot the patient no longer has
    cancellations = [i for i, s in enumerate(sent) if s[0] == r.CANCELLATION]
    for index in cancellations:
        assert any(s[0] == r.CONFIRMATION for s in sent[:index])  # only after a confirmation went out
    if cancelled and not confirmations:
        assert not any(i["kind"] == r.CANCELLATION for i in items)


def test_planning_twice_queues_once() -> None:
    first = r.plan("booked", "A1", 1, [], T0, 10)
    existing = [r.Existing(1, q.kind, q.version, "ready") for q in first.queue]
    assert r.plan("booked", "A1", 1, existing, T0, 10).queue == []
