"""What the three copies of the schedule rule got wrong, each now asked of the one rule
(engine/core/schedule.py): the runbook's timeline, the preview, and the worker itself."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.admin.facade import Admin
from engine.service.app import App
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.integration.helpers import configure, configure_incoming, draft
from tests.integration.stepping import SteppingClock
from tools.fakemail import FakeMail

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # London is on UTC in November


def test_the_timeline_never_draws_waiting_items_as_mail_checks(practice: Practice) -> None:
    """Automatic sending off: an item waits for Send/Receive. The timeline drew it as a 'c'."""
    practice.settings.set_many({"schedule.send_immediately": "false", "incoming.enabled": "true",
                                "incoming.host": "localhost"})
    app = App(practice)
    app.outbox.add_draft(draft(), datetime.now(timezone.utc))
    picture = Admin(app).timeline(24).splitlines()
    assert "c" not in picture[1] and "S" not in picture[1]  # nothing runs on its own
    assert "1 item(s) wait for Send/Receive (automatic sending is off)" in picture[-1]


def test_a_text_is_not_paced_behind_emails(practice: Practice) -> None:
    """Texts go through the SMS provider, unpaced; the preview queued them behind the emails'
    pacing (and took their pacing slots), so the emails after them were promised too late."""
    practice.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": "true",
                                "pacing.per_minute": "1", "schedule.periods": "Mon-Fri 08:00-18:00",
                                "incoming.enabled": "false"})
    engine = Engine(practice)
    sms = engine.outbox.add_sms("+447700900123", "See you tomorrow", TUESDAY_10, sender="+447700900999", parts=1)
    emails = [engine.outbox.add_draft(draft(subject=f"Email {i}"), TUESDAY_10 + timedelta(seconds=1))
              for i in range(2)]
    lines = Reminders(practice, engine.outbox).preview(TUESDAY_10, hours=1)
    at = {int(x.detail[1:].split(" ")[0]): x.at for x in lines if x.what.startswith("send")}
    assert at == {sms: TUESDAY_10, emails[0]: TUESDAY_10 + timedelta(seconds=1),
                  emails[1]: TUESDAY_10 + timedelta(seconds=61)}


def test_automatic_mode_without_periods_rests(practice: Practice) -> None:
    """No periods set (the settings check warns of it): nothing automatic ever runs. The worker
    computed its next mail check as due now, for ever, and spun without resting."""
    practice.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "",
                                "incoming.enabled": "true", "incoming.host": "localhost"})
    clock = SteppingClock(TUESDAY_10)
    engine = Engine(practice, clock)
    engine.start()
    try:
        clock.settle(timeout=5)  # it rests until its next heartbeat
        assert clock.next_deadline() == TUESDAY_10 + timedelta(seconds=60)
    finally:
        engine.stop()


def test_a_check_time_before_the_period_is_checked_when_it_opens(practice: Practice, fakemail: FakeMail) -> None:
    """Check times only, one of them (07:30) before the period opens (08:00): the worker catches it
    up at the opening; the preview said nothing would happen. Now both say 08:00."""
    configure(practice, fakemail)
    configure_incoming(practice, fakemail)
    practice.settings.set_many({"schedule.send_immediately": "true", "schedule.periods": "Mon-Fri 08:00-18:00",
                                "schedule.check_every_minutes": "", "schedule.check_times": "07:30"})
    six = TUESDAY_10.replace(hour=6)
    clock = SteppingClock(six)
    engine = Engine(practice, clock)
    checks = [x for x in Reminders(practice, engine.outbox).preview(six, hours=6) if x.what == "check for mail"]
    opens = six.replace(hour=8)
    assert [(x.at, x.detail) for x in checks] == [(opens, "at 07:30 (when the period opens)")]
    engine.start()
    try:
        while clock.now() < opens:
            clock.step()
        clock.settle()
        assert engine.heartbeat.record()["last_receive"]["at"] == opens.isoformat()
    finally:
        engine.stop()
