"""The one schedule rule, stated as what the practice cares about: the worker is awake for every
send the plan promises; texts never go in quiet hours or outside periods; nothing automatic is
planned without automatic mode and periods; a plan's emails are paced."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from engine.core import pacing, schedule
from engine.core.periods import parse_periods
from engine.core.schedule import Due
from engine.core.settings_snapshot import ScheduleSettings
from engine.core.sms import in_quiet_hours

T0 = datetime(2026, 3, 27, 7, 0, tzinfo=timezone.utc)  # the weekend Europe/London springs forward
PERIODS = ["Mon-Fri 08:00-18:00", "Daily 07:00-09:00; Daily 17:00-19:30", "Fri 22:00-02:00", "Sat 09:00-12:00", ""]


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleSettings:
    every = draw(st.sampled_from([None, 1, 15]))
    return ScheduleSettings(
        tz=ZoneInfo(draw(st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata"]))),
        automatic=draw(st.booleans()), periods=parse_periods(draw(st.sampled_from(PERIODS))),
        per_minute=draw(st.sampled_from([None, 1, 3, 40])), receiving=draw(st.booleans()),
        check_every=timedelta(minutes=every) if every else None,
        check_times=draw(st.sampled_from([(), (time(12, 30),), (time(7, 30), time(18, 45))])),
        quiet_hours=draw(st.sampled_from([None, (time(20), time(8)), (time(12, 30), time(13, 30))])),
        sms_per_minute=draw(st.sampled_from([None, 1, 2, 7])))


dues = st.lists(st.tuples(st.sampled_from([schedule.EMAIL, schedule.SMS]), st.integers(-600, 3 * 86400)),
                max_size=8).map(lambda xs: [Due(i + 1, ch, T0 + timedelta(seconds=s)) for i, (ch, s) in enumerate(xs)])
recents = st.lists(st.integers(-120, 0), max_size=5).map(lambda xs: [T0 + timedelta(seconds=s) for s in xs])


@settings(max_examples=200, deadline=None)
@given(schedules(), dues, recents, st.one_of(st.none(), st.integers(-3600, 0)), recents)
def test_the_worker_is_awake_for_the_first_promised_send(s: ScheduleSettings, due: list[Due],
                                                         recent: list[datetime], last: int | None,
                                                         texts: list[datetime]) -> None:
    """Whatever the plan promises first, the worker's next wake is no later (it may wake sooner:
    a check, a period's close); so no promised send is overslept."""
    last_check = None if last is None else T0 + timedelta(seconds=last)
    plan = schedule.plan(s, T0, due, recent, T0 + timedelta(days=4), texts)
    sends = [step.at for step in plan if step.what == schedule.SEND]
    wake = schedule.next_wake(s, T0, due, recent, last_check, recent_texts=texts)
    if sends:
        assert wake is not None and wake <= min(sends)
    if not s.automatic or not s.periods:
        assert wake is None and not sends  # nothing automatic, and nothing to wake for (no spinning)
    if wake is not None:
        assert wake >= T0 or schedule.may_work(s, T0)  # a wake in the past only when there is work now


@settings(max_examples=200, deadline=None)
@given(schedules(), dues, recents)
def test_texts_go_in_periods_outside_quiet_hours_and_emails_are_paced(s: ScheduleSettings, due: list[Due],
                                                                      recent: list[datetime]) -> None:
    plan = schedule.plan(s, T0, due, recent, T0 + timedelta(days=4))
    by_id = {d.id: d for d in due}
    emails = []
    for step in plan:
        if step.what != schedule.SEND:
            continue
        d = by_id[step.id]
        assert step.at >= max(d.at, T0) and pacing.in_period(step.at, s.tz, s.periods)
        if step.channel == schedule.SMS:
            assert not in_quiet_hours(step.at, s.tz, s.quiet_hours)
        else:
            emails.append(step.at)
    if s.per_minute:
        everything = sorted(emails + [t for t in recent])
        for t in emails:
            assert sum(1 for u in everything if t - timedelta(seconds=60) < u <= t) <= s.per_minute


def _window_ok(mine: list[datetime], earlier: list[datetime], n: int) -> bool:
    """No 60 s window holds more than n of `mine` and `earlier` together, ending at one of `mine`."""
    everything = sorted(mine + earlier)
    return all(sum(1 for u in everything if t - timedelta(seconds=60) < u <= t) <= n for t in mine)


@settings(max_examples=300, deadline=None)
@given(schedules(), dues, recents, recents, st.integers(0, 30))
def test_texts_are_paced_by_their_own_cap_and_emails_never_hold_them_back(
        s: ScheduleSettings, due: list[Due], recent: list[datetime], texts: list[datetime], burst: int) -> None:
    """Issue 18, pacing per channel: the plan's texts never put more than sms.per_minute in any
    60 s (the texts already sent counted), its emails never more than pacing.per_minute (the
    emails sent counted); and a burst of emails, queued or just sent, moves no text, nor a burst
    of texts any email."""
    until = T0 + timedelta(days=4)
    plan = schedule.plan(s, T0, due, recent, until, texts)
    sent = {ch: [x.at for x in plan if x.what == schedule.SEND and x.channel == ch] for ch in (schedule.EMAIL, schedule.SMS)}
    if s.sms_per_minute:
        assert _window_ok(sent[schedule.SMS], texts, s.sms_per_minute)
    if s.per_minute:
        assert _window_ok(sent[schedule.EMAIL], recent, s.per_minute)
    sms_ids = {d.id for d in due if d.channel == schedule.SMS}
    more_emails = due + [Due(100 + i, schedule.EMAIL, T0) for i in range(burst)]
    burst_sent = recent + [T0 - timedelta(seconds=i) for i in range(burst)]
    texts_alone = {x.id: x.at for x in plan if x.id in sms_ids and x.what == schedule.SEND}
    with_burst = schedule.plan(s, T0, more_emails, burst_sent, until, texts)
    assert {x.id: x.at for x in with_burst if x.id in sms_ids and x.what == schedule.SEND} == texts_alone
    more_texts = due + [Due(100 + i, schedule.SMS, T0) for i in range(burst)]
    text_burst = texts + [T0 - timedelta(seconds=i) for i in range(burst)]
    emails_alone = {x.id: x.at for x in plan if x.channel == schedule.EMAIL and x.what == schedule.SEND}
    with_texts = schedule.plan(s, T0, more_texts, recent, until, text_burst)
    assert {x.id: x.at for x in with_texts
            if x.channel == schedule.EMAIL and x.what == schedule.SEND and x.id < 100} == emails_alone


def test_texts_are_spaced_by_sms_per_minute_in_the_plan_and_the_wake() -> None:
    """Three texts due at once with sms.per_minute = 2: 30 s apart, the worker woken for each."""
    s = ScheduleSettings(tz=ZoneInfo("Europe/London"), automatic=True, periods=parse_periods("Daily 00:00-23:59"),
                         per_minute=None, receiving=False, check_every=None, check_times=(), quiet_hours=None,
                         sms_per_minute=2)
    due = [Due(i, schedule.SMS, T0) for i in (1, 2, 3)]
    plan = schedule.plan(s, T0, due, [], T0 + timedelta(hours=1))
    assert [(x.id, x.at - T0) for x in plan] == [(1, timedelta(0)), (2, timedelta(seconds=30)),
                                                 (3, timedelta(seconds=60))]
    assert schedule.next_wake(s, T0, due[1:], [], None, recent_texts=[T0]) == T0 + timedelta(seconds=30)
    assert schedule.next_wake(s, T0, due[1:], [T0] * 50, None, recent_texts=[]) == T0  # emails' sends: no matter


def test_retries_wait_out_their_backoff_in_the_plan() -> None:
    """An item's due facts carry its retry: the plan never promises it before retry_at."""
    s = ScheduleSettings(ZoneInfo("Europe/London"), True, parse_periods("Daily 00:00-23:59"), None, False, None, (),
                         None)
    record = {"kind": "email", "deliver_after": T0.isoformat(), "retry_at": (T0 + timedelta(minutes=5)).isoformat()}
    (step,) = schedule.plan(s, T0, [Due.of(7, record)], [], T0 + timedelta(hours=1))
    assert (step.id, step.at) == (7, T0 + timedelta(minutes=5))
