"""Whatever names, subjects and merge values contain, a composed message parses back
under the standard library's strict policy with exactly the headers we meant."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import templates as tpl
from engine.core.message import LINE_BREAKS, Attachment, Draft, Recipient, as_bytes, build, one_line
from engine.errors import InputInvalid

WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
MID = "<177.1@brightsmile.example>"
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.strict)


@settings(max_examples=300, deadline=None)
@given(name=texts, subject=texts, merge=texts)
def test_no_value_can_add_a_header(name: str, subject: str, merge: str) -> None:
    rendered = tpl.render(tpl.Template("X", subject="{{ patient.first_name }} " + "x", body="b"),
                          {"patient": {"first_name": merge}})
    for subj in (subject, rendered.subject):
        d = Draft("practice@brightsmile.example", "Bright Smile", [Recipient("pat@example.com", name)], subj, "body",
                  bcc=[Recipient("hidden@example.com")])
        try:
            raw = as_bytes(build(d, MID, WHEN))
        except InputInvalid:
            # refused only for line breaks, or a name too long to write in one line
            assert any(c in LINE_BREAKS for c in name + subj) or len(one_line(name).encode()) > 500
            continue
        msg = parse(raw)
        assert sorted(k.lower() for k in msg.keys()) == sorted(
            ["from", "to", "subject", "date", "message-id", "content-type", "content-transfer-encoding", "mime-version"])
        assert msg["Message-ID"] == MID and b"hidden@example.com" not in raw
        assert msg["To"].addresses[0].addr_spec == "pat@example.com"
        # The values come back whole, spaces and all (engine.core.headers folds and encodes them,
        # not the standard library, which used to put a space between two encoded words).
        assert msg["To"].addresses[0].display_name == one_line(name)
        assert str(msg["Subject"]) == one_line(subj)


@pytest.mark.parametrize("bad", ["a\r\nBcc: x@y.z", "line\nbreak"])
def test_line_breaks_in_names_are_refused(bad: str) -> None:
    with pytest.raises(InputInvalid):
        build(Draft("p@x.test", "P", [Recipient("a@x.test", bad)], "s", "b"), MID, WHEN)


def test_message_id_is_never_folded_and_attachment_names_use_rfc2231() -> None:
    d = Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s" * 200, "body", html="<p>hi</p>",
              attachments=[Attachment("Röntgen x-ray.png", b"\x89PNG...", "image/png"),
                           Attachment("report.pdf", b"%PDF-1.4", "")])
    raw = as_bytes(build(d, "<" + "a" * 50 + "@brightsmile.example>", WHEN))
    assert b"\r\nMessage-ID: <" + b"a" * 50 + b"@brightsmile.example>\r\n" in raw
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/mixed"
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert names == ["Röntgen x-ray.png", "report.pdf"]
    assert b"filename*=utf-8''R%C3%B6ntgen" in raw
    assert msg.get_body(("html",)).get_content().strip() == "<p>hi</p>"
