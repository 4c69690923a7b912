"""Text replies in the inbox (issue 18): each reply fetched from the Twilio-shaped fake provider
over a real socket becomes an inbox message tagged SMS, filed to the patient by number (a
family's shared number gives candidates, like a family's shared address), its words readable
in the reading pane, and taken once however often the provider is asked."""

from __future__ import annotations

from datetime import datetime, timezone

from engine.adapters.clock import FakeClock
from engine.adapters.storage import RID
from engine.service.engine import Engine
from engine.service.inbox import TextReply
from engine.service.practice import Practice
from engine.service.sms import Texts
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def test_replies_reach_the_inbox_tagged_sms_filed_by_number_once(practice: Practice, fakemail: FakeMail) -> None:
    configure_sms(practice, fakemail)
    practice.directory.update("patients", "P033", {"mobile": "+447700900002"})  # P001's: one family's number
    clock = FakeClock(T0)
    engine = Engine(practice, clock)
    try:
        fakemail.sms.deliver_reply("+447700900041", "Running ten minutes late, sorry")
        fakemail.sms.deliver_reply("+447700900002", "Can we move Thursday?")
        texts = Texts(practice, engine.outbox, inbox=engine.inbox)
        assert texts.fetch_replies(clock.now()).fetched == 2
        texted = {r["from"]: r for r in engine.inbox.list(tags=["SMS"])}
        assert set(texted) == {"+447700900041", "+447700900002"}
        one, family = texted["+447700900041"], texted["+447700900002"]
        assert (one["patient_id"], one["candidates"], "Patient" in one["tags"]) == ("P040", [], True)
        assert (family["patient_id"], sorted(family["candidates"])) == ("", ["P001", "P033"])
        assert engine.inbox.content(one[RID]).text.strip() \
            == "Running ten minutes late, sorry"

        fakemail.sms.deliver_reply("+447700900041", "See you then")
        assert texts.fetch_replies(clock.now()).fetched == 1
        again = Texts(practice, engine.outbox, inbox=engine.inbox)  # a restart: a new Texts over the same store
        assert again.fetch_replies(clock.now()).fetched == 0
        assert len(engine.inbox.list(tags=["SMS"])) == 3
        assert len(texts.list_replies()) == 3  # the replies list as before
        sid = one["origin"].removeprefix("sms sid ")  # a pass stopped before noting it: taken once still
        assert engine.inbox.take_text(TextReply("+447700900041", "x", T0, sid, "P040"), clock.now()) is None
    finally:
        engine.stop()
