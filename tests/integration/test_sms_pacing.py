"""Pacing per channel on the wired engine (issue 18): the real worker thread, driven by a fake clock
through its own schedule, sending emails to the fake SMTP server and texts to the fake SMS
provider. Their records, read at each fake instant while the worker is idle, are the witness:
no 60 s window holds more than sms.per_minute texts nor more than pacing.per_minute emails
(each counted apart, so a burst of one never holds the other back), and every text and email
goes exactly when `reminders preview` said it would."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from tests.integration.helpers import configure, draft, open_practice
from tests.integration.stepping import SteppingClock
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday; London is on UTC in November
WINDOW = timedelta(seconds=60)


class Run:
    """One practice, one engine, the fake servers; what arrived where and when (fake time)."""

    def __init__(self, practice: Practice, fm: FakeMail, clock: SteppingClock, engine: Engine) -> None:
        self.practice, self.fm, self.clock, self.engine = practice, fm, clock, engine
        self.seen_mail = self.seen_texts = 0
        self.emails: list[tuple[datetime, str]] = []  # (fake time, subject)
        self.texts: list[tuple[datetime, str]] = []  # (fake time, body)

    def queue(self, emails: int, texts: int, tag: str) -> None:
        now = self.clock.now()
        for i in range(emails):
            self.engine.outbox.add_draft(draft(subject=f"{tag} email {i}"), now)
        for i in range(texts):
            self.engine.outbox.add_sms(f"+4477009{i:05d}", f"{tag} text {i}", now,
                                       sender=self.practice.settings.get("sms.sender"), parts=1, automatic=True)

    def promised(self) -> dict[str, datetime]:
        """The preview's send time for every item not sent yet, by subject (a text's: its words)."""
        out = {}
        for line in Reminders(self.practice, self.engine.outbox).preview(self.clock.now(), hours=2):
            if line.what.startswith("send"):
                out[line.detail.split(": ", 1)[1]] = line.at
        return out

    def collect(self) -> None:
        mail = self.fm.sent()
        for m in mail[self.seen_mail:]:
            self.emails.append((self.clock.now(), message_from_bytes(m["data"])["Subject"]))
        self.seen_mail = len(mail)
        texts = self.fm.sms.messages("outbound")
        for m in texts[self.seen_texts:]:
            self.texts.append((self.clock.now(), m["body"]))
        self.seen_texts = len(texts)

    def left(self) -> int:
        return sum(1 for r in self.engine.outbox.list() if r["status"] != "sent")


def _most_in_a_minute(times: list[datetime]) -> int:
    return max((sum(1 for t in times if at <= t < at + WINDOW) for at in times), default=0)


@example(sms_per_minute=2, email_per_minute=1, emails=4, texts=5, second=2)  # both backlogs at once
@example(sms_per_minute=1, email_per_minute=30, emails=8, texts=3, second=0)  # a burst of emails, texts slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sms_per_minute=st.integers(1, 30), email_per_minute=st.integers(1, 30), emails=st.integers(0, 8),
       texts=st.integers(1, 8), second=st.integers(0, 3))
def test_the_real_worker_paces_texts_and_emails_apart_as_the_preview_promised(
        sms_per_minute: int, email_per_minute: int, emails: int, texts: int, second: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeMail(seed=1) as fm, open_practice(Path(tmp) / "data") as p:
        configure(p, fm)
        configure_sms(p, fm)
        p.settings.set_many({"schedule.send_immediately": "true", "pacing.enabled": "true",
                             "pacing.per_minute": str(email_per_minute), "sms.per_minute": str(sms_per_minute),
                             "schedule.periods": "Mon-Fri 08:00-18:00", "sms.quiet_hours": ""})
        clock = SteppingClock(T0)
        engine = Engine(p, clock)
        engine.smtp_timeout = 10.0
        run = Run(p, fm, clock, engine)
        run.queue(emails, texts, "First")
        promised = run.promised()
        assert len(promised) == emails + texts
        engine.start()
        try:
            steps, second_queued = 0, False
            while True:
                clock.settle()
                run.collect()
                if run.left() == 0:
                    if second_queued or not second:
                        break
                    run.queue(second, second, "Second")  # the sends so far counted, each channel its own
                    promised.update(run.promised())
                    engine.wake()
                    second_queued = True
                    continue
                clock.step()
                steps += 1
                assert steps < 2000, "the worker never finished"
        finally:
            engine.stop()
    assert _most_in_a_minute([at for at, _ in run.texts]) <= sms_per_minute
    assert _most_in_a_minute([at for at, _ in run.emails]) <= email_per_minute
    assert {what: at for at, what in run.texts + run.emails} == promised
    assert len(run.texts) == texts + second and len(run.emails) == emails + second
