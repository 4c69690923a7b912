"""A forwarded message is attached as its own bytes. Re-reading it with the email package
decoded and refolded a header over 998 characters (an encoded line end in it became a header
line of the forwarded copy), and a body line over 998 octets went out as it was, which the
server refuses. Such an original now travels as a base64 .eml file; any other as it came."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.core.message import Attachment, Draft, Recipient, as_bytes, build
from tests.conftest import ROOT
from tests.integration.headercheck import read

WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def forward(original: bytes) -> bytes:
    d = Draft("p@brightsmile.example", "P", [Recipient("dr@example.com")], "Fwd: x", "see attached",
              attachments=[Attachment("forwarded.eml", original, "message/rfc822")])
    return as_bytes(build(d, "<f1@brightsmile.example>", WHEN))


def attached(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    (part,) = list(msg.iter_attachments())
    assert read(raw).filenames == ("forwarded.eml",)
    return part


def crlf(data: bytes) -> bytes:
    return re.sub(rb"\r\n|\r|\n", b"\r\n", data)


def test_a_plain_original_is_attached_byte_for_byte() -> None:
    original = (b"From: Stranger <s@elsewhere.example>\r\nSubject: =?utf-8?q?hi=0D=0AX-Injected:_1?=\r\n"
                b"Message-ID: <a@elsewhere.example>\r\n\r\nHello\nthere\r\n")
    raw = forward(original)
    assert crlf(original) in raw
    part = attached(raw)
    assert part.get_content_type() == "message/rfc822" and part["Content-Transfer-Encoding"] == "7bit"


def test_an_original_with_a_long_header_is_not_refolded() -> None:
    original = (b"From: s@elsewhere.example\r\nSubject: =?utf-8?q?hi=0D=0AX-Injected:_1?= " + b"w" * 1000 +
                b"\r\nMessage-ID: <a@elsewhere.example>\r\n\r\nHello\r\n")
    raw = forward(original)
    assert b"X-Injected" not in raw and max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert attached(raw).get_content() == original


def test_an_original_with_a_long_body_line_is_sendable() -> None:
    original = b"From: s@elsewhere.example\r\nContent-Type: text/html\r\n\r\n<p>" + "é".encode() * 2000 + b"</p>\r\n"
    raw = forward(original)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert attached(raw).get_content() == original


@pytest.mark.parametrize("path", sorted((ROOT / "fixtures" / "hostile").glob("*.eml")), ids=lambda p: p.name)
def test_every_hostile_fixture_forwards_cleanly(path: Path) -> None:
    original = path.read_bytes()
    raw = forward(original)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998 and b"\x00" not in raw
    seen = read(raw)  # both parsers, the strict one included, agree
    assert seen.names == ("content-type", "date", "from", "message-id", "mime-version", "subject", "to")
    part = attached(raw)
    if part.get_content_type() == "application/octet-stream":
        assert part.get_content() == crlf(original)
    else:
        assert part.get_content_type() == "message/rfc822"
