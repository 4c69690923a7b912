"""Issue 14, finding 6: a body line over 998 octets was sent as it is and the server answered
"500 Line too long" (the item failed for good). Text and HTML with such a line now go
quoted-printable; proved through the fake SMTP server, whose spool holds the bytes it took."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from engine.core.message import Draft, Recipient
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.test_header_injection import spooled
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
LONG = "word " * 400  # 2,000 octets on one line
LONG_UTF8 = "Zoë " * 300  # 1,500 octets


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice)
    yield e
    e.stop()


@pytest.mark.parametrize(("text", "html"), [
    (f"Dear Pat,\n{LONG}\nSee you.", None),
    ("Dear Pat,\nshort lines", f"<p>{LONG}</p>"),
    (f"{LONG_UTF8}\n", f"<p>{LONG_UTF8}</p>\n<p>{LONG}</p>"),
], ids=["text", "html", "both-utf8"])
def test_a_long_line_is_sent_quoted_printable(engine: Engine, fakemail: FakeMail, text: str, html: str | None) -> None:
    rid = engine.outbox.add_draft(Draft("practice@example.test", "Bright Smile", [Recipient("pat@example.com")],
                                        "Your letter", text, html=html), NOW)
    report = engine.send_receive_now()
    assert report["sent"] == 1, report
    assert engine.outbox.get(rid)["status"] == "sent"
    ((_, raw),) = spooled(fakemail)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    parts = [("plain", text), *([("html", html)] if html else [])]
    for subtype, want in parts:
        part = msg.get_body((subtype,))
        long_line = max(len(line.encode()) for line in want.splitlines()) > 998
        assert part["Content-Transfer-Encoding"] == ("quoted-printable" if long_line or not want.isascii() else "7bit")
        assert not long_line or max(len(line) for line in part.get_payload().splitlines()) <= 76  # RFC 2045
        assert part.get_content().replace("\r\n", "\n") == want if want.endswith("\n") else want + "\n"


def test_short_ascii_lines_stay_7bit(engine: Engine, fakemail: FakeMail) -> None:
    line = "x" * 998  # exactly the limit: still sent as it is
    engine.outbox.add_draft(Draft("practice@example.test", "B", [Recipient("pat@example.com")], "s", line,
                                  html=f"<p>{'y' * 991}</p>"), NOW)
    assert engine.send_receive_now()["sent"] == 1
    ((_, raw),) = spooled(fakemail)
    assert raw.count(b"Content-Transfer-Encoding: 7bit") == 2 and (line.encode() + b"\r\n") in raw


def test_forwarding_a_message_with_a_long_line(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    """Received over IMAP, which takes long lines, then forwarded: it must still be sendable."""
    from engine.adapters.store import RID
    from engine.service.compose import Composer
    from tests.integration.helpers import configure_incoming

    configure_incoming(practice, fakemail, "imap")
    original = (b"From: Stranger <s@elsewhere.example>\r\nSubject: Long\r\nMessage-ID: <long@elsewhere.example>\r\n"
                b"Content-Type: text/html\r\n\r\n<p>" + b"x" * 3000 + b"</p>\r\n")
    fakemail.deliver("practice", original)
    engine.send_receive_now()
    (msg,) = engine.inbox.list(show_all=True)
    rid = Composer(practice, engine.outbox, engine.inbox).forward(msg[RID], "lindqvist@ortho-referrals.example", NOW)
    assert engine.send_receive_now()["sent"] == 1 and engine.outbox.get(rid)["status"] == "sent"
    ((_, raw),) = spooled(fakemail)
    (part,) = email.message_from_bytes(raw, policy=email.policy.strict).iter_attachments()
    assert part.get_filename() == "forwarded.eml" and part.get_content() == original
