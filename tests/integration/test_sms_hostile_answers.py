"""An SMS provider answering oddly (#18): its status, reason and number fields are a server's
words. An odd `num_segments` on a text it has taken must not fail the send (before: ValueError,
the text went back to ready and was sent again at every pass, each time charged), an odd
`error_code` must not fail the status poll, and every reason and status reaches the outbox, the
kiosk and the CLI as one safe line (engine/core/outside.py). The fake provider's own records are
the witness of what was sent."""

from __future__ import annotations

import pytest

from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.sms import Texts
from tests.integration.test_oauth_hostile import one_safe_line
from tests.integration.test_sms import clock, engine  # noqa: F401 - the fixtures
from tools.fakemail import FakeMail

ODD = ["two", "²", "9" * 5000, [1], {"n": 1}, None, "-1", "1.5", "٣"]


@pytest.mark.parametrize("odd", ODD, ids=[repr(o)[:12] for o in ODD])
def test_an_odd_num_segments_never_sends_a_text_twice(practice: Practice, engine: Engine,  # noqa: F811
                                                       fakemail: FakeMail, odd: object) -> None:
    fakemail.sms.garbled = {"num_segments": odd}
    rid = Texts(practice, engine.outbox).queue("P040", "Your crown is ready", engine.clock.now())
    first = engine.send_receive_now()
    assert first["sent"] == 1, first
    engine.send_receive_now()
    assert len(fakemail.sms.messages("outbound")) == 1  # taken once, sent once
    assert engine.outbox.get(rid)["status"] == "sent"


def test_an_odd_delivery_report_is_stored_as_one_safe_line(practice: Practice, engine: Engine,  # noqa: F811
                                                           fakemail: FakeMail) -> None:
    texts = Texts(practice, engine.outbox)
    fakemail.sms.outcome("+447700900041", "failed\r\n\u202eX", "²",
                         "Unreachable\r\nBcc: x@evil.example \u2028 \u202ehandset\udc80" + "r" * 100_000)
    rid = texts.queue("P040", "Hello", engine.clock.now())
    assert engine.send_receive_now()["sent"] == 1
    assert texts.poll_statuses(engine.clock.now()) == 1
    item = engine.outbox.get(rid)
    one_safe_line(item["provider_status"])
    one_safe_line(item["provider_reason"])
    assert item["provider_reason"].startswith("Unreachable Bcc: x@evil.example")
