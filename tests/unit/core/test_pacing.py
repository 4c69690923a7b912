"""Pacing and periods, stated as what a practice cares about."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from engine.core import pacing
from engine.core.periods import Period, parse_periods

T0 = datetime(2026, 3, 27, 7, 0, tzinfo=timezone.utc)  # the weekend Europe/London springs forward
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


def simulate(per_minute: int, backlog: int, manual_at: list[float]) -> tuple[list[datetime], list[datetime]]:
    """An automatic sender with a backlog, paced, with manual sends at given seconds."""
    now = T0
    automatic: list[datetime] = []
    manual = sorted(T0 + timedelta(seconds=s) for s in manual_at)
    for _ in range(backlog):
        while True:
            recent = [t for t in automatic + manual if t <= now]
            slot = pacing.next_automatic_send(now, recent, per_minute)
            upcoming = [m for m in manual if now < m <= slot]
            if not upcoming:
                break
            now = upcoming[0]  # a manual send happened before our slot: look again
        now = slot
        automatic.append(now)
    return automatic, manual


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 120), st.integers(1, 150), st.lists(st.floats(0, 240), max_size=10))
def test_never_more_than_n_sends_in_any_60_seconds(per_minute: int, backlog: int, manual_at: list[float]) -> None:
    automatic, manual = simulate(per_minute, backlog, manual_at)
    everything = sorted(automatic + manual)
    for t in automatic:  # every window ending at an automatic send
        in_window = [u for u in everything if t - timedelta(seconds=60) < u <= t]
        assert len(in_window) <= per_minute  # manual sends counted
    for t in everything:  # windows starting at each send, half-open
        in_window = [u for u in automatic if t <= u < t + timedelta(seconds=60)]
        assert len(in_window) <= per_minute


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 600), st.integers(2, 400))
def test_a_backlog_goes_at_n_per_minute(per_minute: int, backlog: int) -> None:
    automatic, _ = simulate(per_minute, backlog, [])
    span = (automatic[-1] - automatic[0]).total_seconds()  # fake-clock time, not a measurement
    expected = (backlog - 1) * 60 / per_minute
    assert expected <= span <= expected + 0.001 * backlog  # work-conserving: no idle gaps


def test_pacing_off_sends_at_once_and_manual_sends_are_never_delayed() -> None:
    assert pacing.next_automatic_send(T0, [T0] * 1000, None) == T0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(["Mon-Fri 08:00-18:00", "Sat 09:00-12:00; Sun 22:00-02:00",
                                               "Daily 01:00-03:00", "Mon,Wed 07:30-12:00"]),
       st.integers(0, 60 * 24 * 30))
def test_next_period_start_is_inside_a_period_and_nothing_earlier_is(zone: str, text: str, minutes: int) -> None:
    tz = ZoneInfo(zone)
    periods = parse_periods(text)
    now = T0 + timedelta(minutes=minutes)
    start = pacing.next_period_start(now, tz, periods)
    assert start is not None and start >= now
    assert pacing.in_period(start, tz, periods)
    probe = now
    while probe < start:  # minute by minute before it, all outside
        assert not pacing.in_period(probe, tz, periods)
        probe += timedelta(minutes=7)


def test_periods_follow_local_time_across_daylight_saving() -> None:
    tz = ZoneInfo("Europe/London")
    periods = parse_periods("Mon-Fri 08:00-18:00")
    winter = datetime(2026, 3, 27, 8, 30, tzinfo=timezone.utc)  # Fri, GMT: 08:30 local
    summer = datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc)  # Mon, BST: 08:30 local
    assert pacing.in_period(winter, tz, periods) and pacing.in_period(summer, tz, periods)
    assert not pacing.in_period(datetime(2026, 3, 30, 6, 30, tzinfo=timezone.utc), tz, periods)  # 07:30 BST
    opens = pacing.next_period_start(datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc), tz, periods)
    assert opens == datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)


def test_a_period_opening_in_the_spring_gap_opens_after_it() -> None:
    tz = ZoneInfo("Europe/London")
    periods = (Period(6, time(1, 30), time(4, 0)),)  # Sunday 01:30 does not exist on 2026-03-29
    opens = pacing.next_period_start(datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc), tz, periods)
    assert opens is not None and pacing.in_period(opens, tz, periods)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(["Mon-Fri 08:00-18:00", "Daily 09:00-09:03; Daily 09:05-09:06",
                                                "Sat 09:00-12:00; Sun 22:00-02:00"]),
       st.integers(1, 60), st.lists(st.integers(0, 3 * 24 * 60 * 60), min_size=1, max_size=30),
       st.lists(st.integers(-90, 0), max_size=5))
def test_the_plan_is_paced_inside_periods_and_in_order(zone: str, text: str, per_minute: int, due_s: list[int],
                                                       recent_s: list[int]) -> None:
    """The preview's plan, built from the worker's own rule: every planned send inside a period,
    never N in a minute (the sends already made counted), no item before it is due, in order."""
    tz, periods = ZoneInfo(zone), parse_periods(text)
    due = sorted((T0 + timedelta(seconds=s), i) for i, s in enumerate(due_s))
    recent = [T0 + timedelta(seconds=s) for s in recent_s]
    plan = pacing.plan_automatic_sends(T0, [(i, at) for at, i in due], recent, per_minute, tz, periods)
    assert [i for i, _ in plan] == [i for _, i in due][:len(plan)] and len(plan) == len(due)
    times = [at for _, at in plan]
    assert times == sorted(times)
    for (i, at), (due_at, _) in zip(plan, due):
        assert at >= due_at and pacing.in_period(at, tz, periods)
        assert sum(1 for t in recent + times if at - timedelta(seconds=60) < t < at) < per_minute
