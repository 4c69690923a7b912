"""The injection matrix, pure half: every header-bearing field of a Draft x every way of
smuggling a line end. What we build is read back by the standard library (strict) and by a
second, independent parser (tests/integration/headercheck.py); the header set must be exactly
the one we meant and each value must read back as the one-line text a person typed."""

from __future__ import annotations

import unicodedata

import base64
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from engine.core.headers import LINE_BREAKS, flatten, message_ids
from engine.core.message import Attachment, Draft, Recipient, as_bytes, build, one_line
from engine.errors import InputInvalid
from tests.integration.headercheck import read

WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
MID = "<177.1@brightsmile.example>"
PAYLOAD = "Bcc: evil@attacker.example"
BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x00"]


def q(text: str, charset: str = "utf-8") -> str:
    """`text` as one q-encoded word, every octet outside letters and digits as =XX."""
    data = text.encode(charset)
    return f"=?{charset}?q?" + "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data) + "?="


def b(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?" + base64.b64encode(text.encode(charset)).decode() + "?="


RAW = [f"hi{br}{PAYLOAD}" for br in BREAKS] + ["hi\r\n " + PAYLOAD, "hi\r\n\tReply-To: evil@attacker.example"]
ENCODED = [
    *(q(f"hi{br}{PAYLOAD}") for br in BREAKS),
    *(b(f"hi{br}{PAYLOAD}") for br in BREAKS),
    "=?UTF-8?Q?hi=0D=0ABcc:_evil@attacker.example?=",
    "=?utf-8?B?" + base64.b64encode(b"hi\r\nBcc: evil@attacker.example").decode() + "?=",
    q("hi\r\nBcc: evil@attacker.example", "iso-8859-1"),
    "=?utf-8?q?hi=0D?= =?utf-8?q?=0ABcc:_evil@attacker.example?=",  # the break split across two words
    q("hi\r\n " + PAYLOAD),  # a folded continuation, encoded
    q(q("hi\r\n" + PAYLOAD)),  # double-encoded
    b(q("hi\r\n" + PAYLOAD)),
    b(b("hi\r\n" + PAYLOAD)),
    "x" + q("\r\n" + PAYLOAD) + "y",  # an encoded word inside a word
    '"' + q("\r\n" + PAYLOAD) + '"',
    "Dr " + q("Okafor\r\nReply-To: evil@attacker.example") + " <x@evil.example>",
]
FIELDS = ["subject", "from_name", "to_name", "cc_name", "filename"]


def draft_with(field: str, value: str) -> Draft:
    d = Draft("practice@brightsmile.example", "Bright Smile", [Recipient("pat@example.com", "Pat")], "Hello", "body",
              cc=[Recipient("dr@example.com", "Dr Cole")], bcc=[Recipient("hidden@example.com")])
    if field == "subject":
        d.subject = value
    elif field == "from_name":
        d.from_name = value
    elif field == "to_name":
        d.to = [Recipient("pat@example.com", value)]
    elif field == "cc_name":
        d.cc = [Recipient("dr@example.com", value)]
    else:
        d.attachments = [Attachment(value, b"%PDF-1.4", "application/pdf")]
    return d


def expected_names(d: Draft) -> tuple[str, ...]:
    names = ["from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type"]
    if not d.attachments:
        names.append("content-transfer-encoding")
    return tuple(sorted(names))


def check_reads_back(d: Draft, field: str, value: str) -> None:
    raw = as_bytes(build(d, MID, WHEN))
    assert b"hidden@example.com" not in raw
    seen = read(raw)
    assert seen.names == expected_names(d)
    assert seen.bcc == 0 and seen.reply_to == 0
    expect = {"subject": seen.subject, "from_name": seen.sender[0], "to_name": seen.to[0][0],
              "cc_name": seen.cc[0][0], "filename": (seen.filenames or ("",))[0]}[field]
    assert expect == ((flatten(value).replace('"', "'") or "attachment") if field == "filename" else one_line(value))
    assert seen.sender[1] == "practice@brightsmile.example"
    assert [a for _, a in seen.to] == ["pat@example.com"] and [a for _, a in seen.cc] == ["dr@example.com"]


@pytest.mark.parametrize("field", FIELDS[:4])
@pytest.mark.parametrize("value", RAW, ids=repr)
def test_a_raw_line_end_typed_into_a_header_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(InputInvalid) as exc:
        build(draft_with(field, value), MID, WHEN)
    assert field.split("_")[0] in exc.value.message and "one line" in exc.value.hint


@pytest.mark.parametrize("value", RAW, ids=repr)
def test_a_line_end_in_a_file_name_becomes_a_space(value: str) -> None:
    check_reads_back(draft_with("filename", value), "filename", value)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", ENCODED, ids=repr)
def test_an_encoded_word_reads_back_as_the_literal_text_typed(field: str, value: str) -> None:
    check_reads_back(draft_with(field, value), field, value)


FRAGMENTS = st.sampled_from([*BREAKS, *ENCODED, PAYLOAD, "=?", "?=", "=?utf-8?q?", "?b?", " ", "\t", '"', "\\",
                             "<", ">", ",", ";", ":", "@", "é", "Żółć", "\u202e", "\U0001f9b7", "a" * 80, "b" * 1200])
hostile = st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=hostile)
def test_whatever_is_typed_no_header_is_added(field: str, value: str) -> None:
    d = draft_with(field, value)
    too_long = field in ("from_name", "to_name", "cc_name") and len(one_line(value).encode("utf-8", "surrogatepass")) > 500
    # a name with other control characters may be refused too (its read-back differs): safe, never wrong
    controls = field in ("from_name", "to_name", "cc_name") and any(unicodedata.category(c) == "Cc" for c in value)
    if controls:
        try:
            build(d, MID, WHEN)
        except InputInvalid:
            return
    if field != "filename" and any(c in LINE_BREAKS for c in value) or any("\ud800" <= c <= "\udfff" for c in value) \
            or too_long:
        with pytest.raises(InputInvalid):
            build(d, MID, WHEN)
        return
    check_reads_back(d, field, value)


@given(st.text())
def test_flatten_leaves_one_line_and_keeps_a_clean_line(value: str) -> None:
    flat = flatten(value)
    assert not any(c in LINE_BREAKS for c in flat) and flat == flatten(flat)
    assert flatten(one_line(value)) == one_line(value) or any(c in LINE_BREAKS for c in value) or not value.isprintable()


def test_line_breaks_are_every_character_that_ends_a_line() -> None:
    ends = {chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and len(f"a{chr(c)}b".splitlines()) > 1}
    assert LINE_BREAKS == frozenset(ends | {"\x00"})


def test_message_ids_from_mail_keep_only_plain_ids() -> None:
    assert message_ids(["<a@x>", "<" + q("\r\nBcc: e@x") + "@x>", "<b@x>\r\nBcc: e@x", "junk", "<c@x>"]) == \
        ["<a@x>", "<c@x>"]


@pytest.mark.parametrize("value", ["<" + q("\r\n" + PAYLOAD) + "@x.test>", "<a@x>\r\nBcc: e@x", "no-brackets@x"])
def test_a_bad_reference_is_refused(value: str) -> None:
    d = draft_with("subject", "s")
    d.references = [value]
    with pytest.raises(InputInvalid):
        build(d, MID, WHEN)
    d.references, d.in_reply_to = [], value
    with pytest.raises(InputInvalid):
        build(d, MID, WHEN)


def test_references_fold_and_read_back() -> None:
    d = draft_with("subject", "Re: hi")
    d.in_reply_to = "<q1@patientmail.example>"
    d.references = [f"<{i}.{'x' * 40}@patientmail.example>" for i in range(20)]
    raw = as_bytes(build(d, MID, WHEN))
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
    import email
    import email.policy

    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert msg["References"].split() == d.references and msg["In-Reply-To"] == "<q1@patientmail.example>"


@pytest.mark.parametrize("name", ["X-Bad\x00Header", "X-Bad:", "Bcc", "Reply-To", "Subject", "X Space", "", "Resent-From",
                                  "Sender", "X-" + "a" * 80])
def test_extra_header_names_are_checked(name: str) -> None:
    d = draft_with("subject", "s")
    d.extra_headers = {name: "v"}
    with pytest.raises(InputInvalid):
        build(d, MID, WHEN)


def test_an_extra_header_value_is_encoded_like_a_subject() -> None:
    d = draft_with("subject", "s")
    d.extra_headers = {"X-Practice-Note": q("\r\n" + PAYLOAD)}
    msg = read(as_bytes(build(d, MID, WHEN)))
    assert "x-practice-note" in msg.names and msg.bcc == 0


def test_an_allowed_extra_header_is_written() -> None:
    d = draft_with("subject", "s")
    d.extra_headers = {"Auto-Submitted": "auto-generated"}
    raw = as_bytes(build(d, MID, WHEN))
    assert b"\r\nAuto-Submitted: auto-generated\r\n" in raw and "auto-submitted" in read(raw).names


def test_a_long_subject_folds_and_reads_back_whole() -> None:
    for subject in ("Your appointment " * 80, "Zoë's check-up " * 70, "s" * 900):
        raw = as_bytes(build(draft_with("subject", subject), MID, WHEN))
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        assert read(raw).subject == one_line(subject)


@pytest.mark.parametrize("ctype", ["image/png\r\nBcc: evil@attacker.example", q("image/png\r\nBcc: e@x.test"),
                                   "text/plain; name=\"a\r\nBcc: e@x\"", "", "nonsense", "image/png"])
def test_an_attachments_type_from_mail_is_used_only_when_plain(ctype: str) -> None:
    d = draft_with("subject", "s")
    d.attachments = [Attachment("x-ray.png", b"\x89PNG", ctype)]
    raw = as_bytes(build(d, MID, WHEN))
    seen = read(raw)
    assert seen.bcc == 0 and seen.filenames == ("x-ray.png",)
    import email
    import email.policy

    (part,) = email.message_from_bytes(raw, policy=email.policy.strict).iter_attachments()
    assert part.get_content_type() == ("image/png" if ctype in ("image/png", "") else "application/octet-stream")
    assert part.get_content() == b"\x89PNG"
