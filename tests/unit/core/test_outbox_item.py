"""The outbox item's one shape: what a new record holds, and the frozen value queries return."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from engine.core import outbox as rules
from engine.core.outbox import State
from engine.core.outbox_item import OutboxItem, new_record

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
SHAPE = dict(kind="email", automatic=False, sender="desk@practice.example", to=["a@example.com"],
             envelope_to=["a@example.com"], subject="Hi", deliver_after=T0)


def test_a_new_record_is_fresh_and_created_in_its_state() -> None:
    made = rules.create(new_record(**SHAPE, extra={"template": "APPTCONF"}), State.READY, T0)
    assert made["attempts"] == 0 and made["retry_at"] is None and made["last_error"] == "" and made["template"] == "APPTCONF"
    assert made["from"] == "desk@practice.example" and made["deliver_after"] == T0.isoformat()
    item = OutboxItem.of({**made, "_rid": 7}, 7)
    assert (item.id, item.status, item.to, item.deliver_after) == (7, State.READY, ("a@example.com",), T0)
    assert item["_rid"] == 7 and item.get("template") == "APPTCONF" and item.as_dict()["subject"] == "Hi"
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.status = State.SENT  # type: ignore[misc]
    with pytest.raises(TypeError):
        item["status"] = "sent"  # type: ignore[index]


@given(st.sampled_from(["kind", "deliver_after", "patient_id", "status", "history", "attempts", "to", "blob"]))
def test_extra_fields_cannot_replace_the_shape(field: str) -> None:
    """A path's meta carrying a shaped field (a batch's kind, a recall's deliver_after) would be
    dropped without a word: it is refused, so the path passes it as its own argument."""
    with pytest.raises(ValueError, match=field):
        new_record(**SHAPE, extra={field: "x"})
