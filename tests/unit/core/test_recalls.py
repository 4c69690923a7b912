"""Recall runs, pure: no hour above N (property), families merged only when they share the
address, each patient once across reruns, due dates derived by whole months."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import recalls as rc
from engine.core.periods import parse_periods

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
PERIODS = parse_periods("Mon-Fri 08:00-18:00; Sat 09:00-12:00")
period_texts = st.sampled_from(["Mon-Fri 08:00-18:00; Sat 09:00-12:00", "Mon 09:00-09:30", "", "Sun 23:00-01:00",
                                "Mon-Sun 00:00-23:59"])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(1, 500), period_texts, st.integers(0, 60 * 24 * 400),
       st.none() | st.integers(-600, 600))
def test_no_hour_above_n_and_every_time_inside_a_period(count: int, per_hour: int, periods_text: str,
                                                        minutes: int, last: int | None) -> None:
    periods = parse_periods(periods_text)
    start = T0 + timedelta(minutes=minutes)
    earlier = [] if last is None else rc.stagger(per_hour, start + timedelta(minutes=last) - timedelta(hours=1),
                                                 per_hour, LONDON, periods)
    dues = [rc.Due(f"P{i}", "", f"p{i}@example.com", (f"recall:P{i}:checkup:2026-11-01",)) for i in range(count)]
    plan = rc.plan_run(dues, frozenset(), start, per_hour, LONDON, periods, max(earlier) if earlier else None)
    times = [m.deliver_after for m in plan.messages]
    assert len(times) == count
    assert rc.busiest_hour(times + earlier) <= per_hour  # two runs together too
    assert all(t >= start for t in times)
    if periods:
        from engine.core.pacing import in_period

        assert all(in_period(t, LONDON, periods) for t in times)


def due(pid: str, family: str, address: str) -> rc.Due:
    return rc.Due(pid, family, address, (f"recall:{pid}:checkup:2026-11-01",))


def test_families_merged_only_when_they_share_the_address() -> None:
    dues = [due("P1", "F1", "patel@example.com"), due("P2", "F1", "Patel@Example.com"),
            due("P3", "F1", "dev@example.com"), due("P4", "", "patel@example.com"), due("P5", "F2", "")]
    plan = rc.plan_run(dues, frozenset(), T0, 60, LONDON, PERIODS)
    assert [m.patient_ids for m in plan.messages] == [("P1", "P2"), ("P3",), ("P4",)]
    assert plan.no_address == ["P5"]  # listed, never silently skipped


def test_a_rerun_skips_every_patient_already_queued() -> None:
    dues = [due(f"P{i}", "", f"p{i}@example.com") for i in range(10)]
    first = rc.plan_run(dues[:4], frozenset(), T0, 60, LONDON, PERIODS)
    sent = frozenset(k for m in first.messages for k in m.send_keys)
    second = rc.plan_run(dues, sent, T0, 60, LONDON, PERIODS, max(m.deliver_after for m in first.messages))
    assert second.already == ["P0", "P1", "P2", "P3"]
    assert [m.patient_ids[0] for m in second.messages] == [f"P{i}" for i in range(4, 10)]
    assert rc.busiest_hour([m.deliver_after for m in first.messages + second.messages]) <= 60


@pytest.mark.parametrize("day,months,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 8, 15), 6, date(2027, 2, 15)), (date(2026, 12, 1), 12, date(2027, 12, 1)),
])
def test_add_months(day: date, months: int, expected: date) -> None:
    assert rc.add_months(day, months) == expected


KNOWN = frozenset({"P1"})


@pytest.mark.parametrize("column,value", [
    ("patient_id", "P9"), ("patient_id", "P1\u2028"), ("type", "check up"), ("type", "checkup\x85"),
    ("type", "\u202echeckup"), ("interval_months", "0"), ("interval_months", "6\n"), ("interval_months", "six"),
    ("interval_months", "121"), ("due_date", "2027-02-30"), ("due_date", "2027-01-01\r\nX"), ("type", "a" * 100),
])
def test_hostile_rows_refused_naming_the_column(column: str, value: str) -> None:
    row = {"patient_id": "P1", "type": "checkup", "interval_months": "6", "due_date": "2027-01-01", column: value}
    recall, problems = rc.validate_row(row, 2, KNOWN, {})
    assert recall is None and column in {p.column for p in problems}


def test_due_date_derived_from_the_last_appointment_of_the_type() -> None:
    row = {"patient_id": "P1", "type": "Hygiene", "interval_months": "6", "due_date": ""}
    recall, problems = rc.validate_row(row, 2, KNOWN, {("P1", "hygiene"): date(2026, 8, 31)})
    assert not problems and recall == rc.Recall("P1", "hygiene", 6, date(2027, 2, 28))
    _, problems = rc.validate_row(row, 2, KNOWN, {})
    assert [p.column for p in problems] == ["due_date"]


def test_families_merged_only_when_they_share_the_number() -> None:
    dues = [due("P1", "F1", "sms:+447700900002"), due("P2", "F1", "sms:+447700900002"),
            due("P3", "F1", "sms:+447700900003"), due("P4", "", "sms:+447700900002"),
            due("P5", "F2", "sms:+447700900002")]
    plan = rc.plan_run(dues, frozenset(), T0, 60, LONDON, PERIODS)
    assert [m.patient_ids for m in plan.messages] == [("P1", "P2"), ("P3",), ("P4",), ("P5",)]
