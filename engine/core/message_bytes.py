"""A message without attachments written straight to bytes: the same bytes, octet for octet, as
`as_bytes(build(draft, message_id, date))` in engine/core/message.py, at a tenth of the cost.

Why: a recall run builds thousands of messages, and the email package's object model (header
objects parsed and re-parsed, a deep copy per part, a regular expression compiled per boundary)
cost about 1.5 ms per message, most of a 10,000-patient run (issue 18). The headers are still
made by the one builder (`message._headers`, engine/core/headers.py: every check stays there);
only the MIME layout the email package would add (Content-Type, Content-Transfer-Encoding,
MIME-Version, the parts and their boundary) is written here, and bodies are encoded by the same
standard-library function the email package calls. tests/unit/core/test_message_bytes.py holds
the two to the same bytes over hostile drafts. Anything outside that shape (attachments, no
recipient, text that is not encodable, a boundary found in a body) goes to the general builder.
"""

from __future__ import annotations

import random
import re
import sys
from datetime import datetime
from email import quoprimime

from engine.core.message import BODY_POLICY, POLICY, Draft, _headers, as_bytes, body_cte, build

_UTF8 = POLICY.clone(utf8=True)
_NL = "\r\n"
_LINES = re.compile(r"\r\n|\r|\n")  # email.generator's NLCRE: how it splits a payload into lines
_WIDTH = len(repr(sys.maxsize - 1))  # email.generator's boundary: 15 '=', a zero-padded number, '=='


def new_boundary() -> str:
    return "=" * 15 + f"{random.randrange(sys.maxsize):0{_WIDTH}d}" + "=="


def _payload(text: str, cte: str) -> str:
    """email.contentmanager._encode_text for UTF-8 and `cte` (7bit or quoted-printable), then the
    generator's line ends. Raises UnicodeEncodeError where the email package would."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    encoded = data.decode("ascii") if cte == "7bit" else \
        quoprimime.body_encode(data.decode("latin-1"), BODY_POLICY.max_line_length)
    return _NL.join(_LINES.split(encoded))


def _part(subtype: str, text: str, mime_version: bool) -> str:
    cte = body_cte(text)
    return (f'Content-Type: text/{subtype}; charset="utf-8"{_NL}Content-Transfer-Encoding: {cte}{_NL}'
            + (f"MIME-Version: 1.0{_NL}" if mime_version else "") + _NL + _payload(text, cte))


def build_bytes(d: Draft, message_id: str, date: datetime, *, boundary: str | None = None) -> bytes:
    """`as_bytes(build(d, message_id, date))`. `boundary`: the multipart boundary to use (tests
    compare with the email package's own choice); by default a new one as the email package makes it."""
    if d.attachments or not (d.to or d.cc or d.bcc):
        return as_bytes(build(d, message_id, date))  # the general builder, and its refusal
    headers = _headers(d, message_id, date)
    try:
        text = _part("plain", d.text or "", not d.html)
        html = _part("html", d.html, True) if d.html else ""
    except UnicodeEncodeError:
        return as_bytes(build(d, message_id, date))  # it raises as it always did
    policy = _UTF8 if any(not value.isascii() for _, value in headers) else POLICY
    head = b"".join(policy.fold_binary(name, value) for name, value in headers)
    if not html:
        return head + text.encode("ascii")
    b = boundary or new_boundary()
    if "--" + b in text or "--" + b in html:  # never by chance; the email package picks another
        return as_bytes(build(d, message_id, date))
    # the first part's headers moved down from the message when it became multipart/alternative:
    # so MIME-Version stays above, and the second part, made as a message of its own, has one too
    return head + (f'MIME-Version: 1.0{_NL}Content-Type: multipart/alternative; boundary="{b}"{_NL}{_NL}'
                   f"--{b}{_NL}{text}{_NL}--{b}{_NL}{html}{_NL}--{b}--{_NL}").encode("ascii")
