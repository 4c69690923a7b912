from __future__ import annotations

from datetime import time

import pytest

from engine.core.periods import Period, PeriodSyntaxError, format_periods, parse_check_times, parse_periods


def test_parse_days_ranges_and_midnight() -> None:
    ps = parse_periods("Mon–Fri 08:00-18:00; Sat 09:00-12:00")
    assert len(ps) == 6
    assert Period(5, time(9), time(12)) in ps
    night = parse_periods("Fri-Sun 22:00-02:00")
    assert {p.weekday for p in night} == {4, 5, 6} and all(p.crosses_midnight for p in night)
    assert parse_periods("Sat-Mon 09:00-10:00")[0].weekday == 0  # wraps the week
    assert parse_periods(format_periods(ps)) == ps


@pytest.mark.parametrize("text", ["Mon-Fri", "Funday 08:00-10:00", "Mon 24:00-25:00", "Mon 08:00-08:00", "08:00-09:00"])
def test_bad_periods_say_what_is_wrong(text: str) -> None:
    with pytest.raises(PeriodSyntaxError):
        parse_periods(text)


def test_check_times() -> None:
    assert parse_check_times("17:45, 12:30") == (time(12, 30), time(17, 45))
    assert parse_check_times("") == ()
