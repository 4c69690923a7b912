"""Texts queued many at once (a recall run's, Texts.queue_many) are item for item what `queue`
makes one at a time, few or many; a patient without a mobile or opted out is refused with its
reason and the others are queued."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine.adapters.storage import RID
from engine.errors import InputInvalid
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.sms import FEW, Texts
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != RID}


@pytest.mark.parametrize("many", [3, FEW + 5])
def test_queue_many_is_queue_item_for_item(practice: Practice, fakemail: FakeMail, many: int) -> None:
    configure_sms(practice, fakemail)
    practice.settings.set("sms.quiet_hours", "20:00-08:00")
    patients = practice.directory.list("patients")
    mobiles = [p["id"] for p in patients if p.get("mobile") and p.get("preference") != "none"]
    nobody = next(p["id"] for p in patients if not p.get("mobile"))
    practice.directory.update("patients", mobiles[1], {"preference": "none"})  # opted out
    wanted = [(mobiles[n % len(mobiles)], f"Recall {n}: your check-up is due\u00e9", T0 + timedelta(hours=n),
               {"recall_keys": [f"k{n}"], "category": "Recalls"}) for n in range(many)]
    wanted.insert(1, (nobody, "No mobile", T0, {}))
    outbox = Outbox(practice.store)
    texts = Texts(practice, outbox)
    ids, refused = texts.queue_many(wanted, T0)
    expected, reasons = [], []
    for n, (pid, text, at, meta) in enumerate(wanted):
        try:
            expected.append(texts.queue(pid, text, T0, deliver_after=at, automatic=True, meta=meta))
        except InputInvalid as exc:
            reasons.append((n, exc.message))
    assert [(n, exc.message) for n, exc in refused] == reasons
    assert {n for n, _ in reasons} >= {1} and len(ids) == len(expected) == len(wanted) - len(reasons)
    assert [_fields(outbox.get(a)) for a in ids] == [_fields(outbox.get(b)) for b in expected]
    assert all(outbox.get(a)["deliver_after"] >= "2026-11-24T08:00" for a in ids)  # moved past quiet hours
