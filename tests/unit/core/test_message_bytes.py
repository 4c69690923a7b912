"""The direct writer (engine/core/message_bytes.py) gives the same bytes as the email package's
builder for every draft, hostile ones included, or refuses with the same error (issue 18).

The only difference allowed is the multipart boundary, which the email package picks at random:
each output's boundaries are replaced, in order, by placeholders before comparing; that the
writer's own boundary has the email package's form is checked on its own."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from engine.core.message import Attachment, Draft, Recipient, as_bytes, build
from engine.core.message_bytes import build_bytes, new_boundary

WHEN = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
MID = "<177.1@brightsmile.example>"
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')

# what a stranger or a CSV can put in a name, a subject or a body
HOSTILE = ["Zoë O'Brien", "=?utf-8?q?hi=0D=0ABcc:_x@y?=", "=?utf-8?b?SGk=?= Pat", "\u202eevil\u202c Pat",
           "\u2066Pat\u2069 \u200fN", "Pat\r\nBcc: x@evil.test", "Pat\nN", "Pat\rN", "Pat\u2028N", "Pat\x85N",
           "Pat\x00N", 'Dr "Who" \\ N', "O'Brien, Pat", "a" * 600, "Ünïcødé " * 40, "", " ", "\t", "😀 family",
           "From nobody", "--===============1234567890123456789==", "Pat\ud800", "x=3D=\r\n.\r\n", "é" * 1200]
hostile = st.sampled_from(HOSTILE) | st.text(max_size=80)
bodies = (st.sampled_from(HOSTILE) | st.text(max_size=400)
          | st.lists(st.sampled_from(["line", "é", "\r\n", "\n", "\r", "\u2028", "\x85", "x" * 999, "=", " ", "\t",
                                      ".", "From me", "--", "😀"]), max_size=40).map("".join))


def normalised(raw: bytes) -> bytes:
    for n, b in enumerate(dict.fromkeys(_BOUNDARY.findall(raw))):
        raw = raw.replace(b, f"BOUNDARY{n}".encode())
    return raw


def outcome(make, d: Draft) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    try:
        return "bytes", normalised(make(d, MID, WHEN))
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return type(exc).__name__, (str(exc), getattr(exc, "hint", None), repr(getattr(exc, "problems", None)))


def reference(d: Draft, message_id: str, date: datetime) -> bytes:
    return as_bytes(build(d, message_id, date))


def same(d: Draft) -> None:
    assert outcome(build_bytes, d) == outcome(reference, d)


@settings(max_examples=400, deadline=None)
@given(name=hostile, from_name=hostile, subject=hostile, text=bodies, html=st.none() | bodies,
       cc=st.booleans(), bcc=st.booleans())
def test_the_same_bytes_or_the_same_refusal(name: str, from_name: str, subject: str, text: str, html: str | None,
                                            cc: bool, bcc: bool) -> None:
    same(Draft("practice@brightsmile.example", from_name, [Recipient("pat@example.com", name)], subject, text,
               cc=[Recipient("mum@example.com", name)] if cc else [], bcc=[Recipient("hidden@example.com")] if bcc
               else [], html=html))


@pytest.mark.parametrize("value", HOSTILE)
def test_each_hostile_value_in_each_place(value: str) -> None:
    for d in (Draft("p@brightsmile.example", "Bright Smile", [Recipient("a@x.test", value)], "s", "b", html="<p>h</p>"),
              Draft("p@brightsmile.example", value, [Recipient("a@x.test")], value, value),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", value, html=value),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b", html=value)):
        same(d)


def test_other_shapes_and_headers() -> None:
    base = Draft("p@brightsmile.example", "P", [Recipient("a@x.test", "A")], "s", "b", html="<p>h</p>")
    for d in (Draft("p@brightsmile.example", "P", [], "s", "b"),  # no recipient: refused alike
              Draft("p@brightsmile.example", "P", [], "s", "b", bcc=[Recipient("b@x.test")]),
              Draft("p@brightsmile.example", "P", [Recipient("not an address")], "s", "b"),
              Draft("p@brightsmile.example", "P", [Recipient("zoë@exämple.test", "Zoë")], "s", "b"),  # UTF-8 headers
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b", in_reply_to="<1@x.test>",
                    references=["<0@x.test>", "<1@x.test>"], extra_headers={"X-Practice": "Zoë", "Precedence": "bulk"}),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b", extra_headers={"Bcc": "x@y.z"}),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b", in_reply_to="not an id"),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b",
                    attachments=[Attachment("x-ray.png", b"\x89PNG", "image/png")]),
              Draft("p@brightsmile.example", "P", [Recipient("a@x.test")], "s", "b", html="<p>h</p>",
                    attachments=[Attachment("Röntgen.pdf", b"%PDF", "")])):
        same(d)
    for when in (WHEN.astimezone(timezone(timedelta(hours=-5))), datetime(2027, 3, 28, 1, 30, tzinfo=timezone.utc)):
        assert normalised(build_bytes(base, MID, when)) == normalised(reference(base, MID, when))


def test_its_boundary_has_the_email_packages_form_and_avoids_the_body() -> None:
    standard = re.compile(rb"={15}[0-9]{19}==")
    ours = _BOUNDARY.findall(build_bytes(Draft("p@x.test", "P", [Recipient("a@x.test")], "s", "b", html="h"), MID,
                                         WHEN))
    theirs = _BOUNDARY.findall(reference(Draft("p@x.test", "P", [Recipient("a@x.test")], "s", "b", html="h"), MID,
                                         WHEN))
    assert len(ours) == len(theirs) == 1 and standard.fullmatch(ours[0]) and standard.fullmatch(theirs[0])
    assert standard.fullmatch(new_boundary().encode()) and new_boundary() != new_boundary()
    # a body that holds the boundary it would use: another boundary, and both parts read back whole
    taken = new_boundary()
    d = Draft("p@x.test", "P", [Recipient("a@x.test")], "s", f"a\n--{taken}\nb\n", html=f"--{taken}--")
    raw = build_bytes(d, MID, WHEN, boundary=taken)
    assert _BOUNDARY.findall(raw)[0].decode() != taken
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert [p.get_content().replace("\r\n", "\n") for p in msg.iter_parts()] == [f"a\n--{taken}\nb\n",
                                                                                 f"--{taken}--\n"]
