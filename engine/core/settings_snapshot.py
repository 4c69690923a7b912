"""The typed snapshot of the settings the engine reads (`Settings.snapshot()`): parsed once per
change from the stored values, so the worker, the previews and the runbooks read attributes and
none of them parses text again. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.core.periods import Period, parse_check_times, parse_periods
from engine.core.sms import parse_quiet_hours
from engine.core.settings import effective


@dataclass(frozen=True)
class ScheduleSettings:
    """What the schedule rule (engine/core/schedule.py) needs, parsed: the worker, the previews and
    the runbooks read the same periods and check times, and none of them parses text again."""

    tz: ZoneInfo
    automatic: bool  # schedule.send_immediately
    periods: tuple[Period, ...]
    per_minute: int | None  # None: pacing off
    receiving: bool  # incoming.enabled
    check_every: timedelta | None
    check_times: tuple[time, ...]
    quiet_hours: tuple[time, time] | None  # text messages only
    sms_per_minute: int | None = None  # sms.per_minute; None: texts not paced (counted apart from emails)


@dataclass(frozen=True)
class ProxySettings:
    """The practice's proxy (proxy.*), its password left out: that is read only where it is used."""

    kind: str  # http (CONNECT) or socks5
    host: str
    port: int  # proxy.port, or the kind's usual port when empty
    user: str
    for_email: bool  # proxy.use_for_email: SMTP, IMAP and POP3 go through it too


@dataclass(frozen=True)
class PracticeSettings:
    """Every non-secret value the engine acts on, typed, made once per settings change
    (`Settings.snapshot()`), so the engine reads attributes instead of casting `get()`s."""

    timezone: str
    email: str
    name: str
    schedule: ScheduleSettings
    outgoing_host: str
    outgoing_port: int
    outgoing_starttls: bool
    outgoing_security: str
    outgoing_auth: bool | str
    incoming_protocol: str
    incoming_host: str
    incoming_port: int
    incoming_security: str
    incoming_leave_on_server: bool
    tls_ca_file: str
    booking_provider_url: str
    proxy: ProxySettings | None = None  # None: no proxy.address

    @property
    def tz(self) -> ZoneInfo:
        return self.schedule.tz


def snapshot(values: Mapping[str, Any]) -> PracticeSettings:
    """Stored values (secrets left out by the caller or simply not read) -> the typed snapshot."""
    v = effective(values)
    every = v["schedule.check_every_minutes"]
    schedule = ScheduleSettings(
        tz=ZoneInfo(v["practice.timezone"]), automatic=bool(v["schedule.send_immediately"]),
        periods=parse_periods(v["schedule.periods"] or ""),
        per_minute=int(v["pacing.per_minute"]) if v["pacing.enabled"] else None,
        receiving=bool(v["incoming.enabled"]),
        check_every=timedelta(minutes=int(every)) if every else None,
        check_times=parse_check_times(v["schedule.check_times"] or ""),
        quiet_hours=parse_quiet_hours(v["sms.quiet_hours"] or ""),
        sms_per_minute=int(v["sms.per_minute"]) if v["sms.per_minute"] else None)
    return PracticeSettings(
        timezone=v["practice.timezone"], email=v["practice.email"] or "", name=v["practice.name"] or "",
        schedule=schedule, outgoing_host=v["outgoing.host"] or "", outgoing_port=int(v["outgoing.port"]),
        outgoing_starttls=bool(v["outgoing.starttls"]), outgoing_security=v["outgoing.security"],
        outgoing_auth=v["outgoing.auth"], incoming_protocol=v["incoming.protocol"],
        incoming_host=v["incoming.host"] or "", incoming_port=int(v["incoming.port"]),
        incoming_security=v["incoming.security"], incoming_leave_on_server=bool(v["incoming.leave_on_server"]),
        tls_ca_file=v["tls.ca_file"] or "", booking_provider_url=v["booking.provider_url"] or "",
        proxy=_proxy(v))


def _proxy(v: Mapping[str, Any]) -> ProxySettings | None:
    if not v["proxy.address"]:
        return None
    kind = v["proxy.kind"]
    return ProxySettings(kind, v["proxy.address"].strip("[]"), int(v["proxy.port"] or (1080 if kind == "socks5" else 3128)),
                         v["proxy.user"] or "", bool(v["proxy.use_for_email"]))
