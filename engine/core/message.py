"""Building outgoing messages with the standard library, safely.

Every header value is made by engine.core.headers (checked after RFC 2047 decoding, encoded by
us, parsed back) and stored untouched; the email package only lays out the MIME parts. A body
with a line over 998 octets goes quoted-printable. The Message-ID and Date come in as arguments
(the service makes them), so this stays pure.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from engine.core import headers as h
from engine.errors import InputInvalid, Problem

# The message is written with lines up to RFC 5322's hard limit of 998, so that headers the
# email package keeps from a forwarded message are not re-read and refolded (re-reading decodes).
POLICY = email.policy.SMTP.clone(max_line_length=998)
BODY_POLICY = email.policy.SMTP.clone(max_line_length=76)
LINE_BREAKS = h.LINE_BREAKS


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = ""
    params: tuple[tuple[str, str], ...] = ()  # e.g. (("method", "REQUEST"),) for text/calendar


@dataclass
class Draft:
    """What a person asked to send, before it is a MIME message."""

    from_address: str
    from_name: str
    to: list[Recipient]
    subject: str
    text: str
    cc: list[Recipient] = field(default_factory=list)
    bcc: list[Recipient] = field(default_factory=list)
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)


def one_line(value: str) -> str:
    """A header value as it will read back: runs of spaces and tabs become one space."""
    return re.sub(r"[ \t]+", " ", value).strip()


def envelope_recipients(d: Draft) -> list[str]:
    seen: dict[str, None] = {}
    for r in [*d.to, *d.cc, *d.bcc]:
        seen.setdefault(r.address, None)
    return list(seen)


# Headers we write ourselves; an extra header may not take one of these names.
_OURS = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references",
                   "reply-to", "sender", "mime-version", "content-type", "content-transfer-encoding",
                   "content-disposition", "return-path", "received"})


_NAMES = {"from": "practice name", "to": "recipient's name", "cc": "copied person's name",
          "bcc": "blind-copied person's name"}


def _people(field: str, people: list[Recipient]) -> list[tuple[str, str]]:
    return [(h.one_line(f"{field} name", r.name, _NAMES[field]), r.address) for r in people]


def _headers(d: Draft, message_id: str, date: datetime) -> list[tuple[str, str]]:
    """Every header of the message, each value made by engine.core.headers (Bcc is checked
    and never written: it goes only in the envelope)."""
    out = [("From", h.mailboxes("From", "from", _people("from", [Recipient(d.from_address, d.from_name)])))]
    if d.to:
        out.append(("To", h.mailboxes("To", "to", _people("to", d.to))))
    if d.cc:
        out.append(("Cc", h.mailboxes("Cc", "cc", _people("cc", d.cc))))
    for _, address in _people("bcc", d.bcc):
        h.addr_spec("bcc", address)
    out.append(("Subject", h.unstructured("Subject", h.one_line("subject", d.subject))))
    out.append(("Date", format_datetime(date)))
    out.append(("Message-ID", h.references("Message-ID", [message_id])))
    if d.in_reply_to:
        out.append(("In-Reply-To", h.references("In-Reply-To", [d.in_reply_to])))
    if d.references:
        out.append(("References", h.references("References", d.references)))
    for name, value in d.extra_headers.items():
        name = h.field_name(name, _OURS)
        out.append((name, h.unstructured(name, h.one_line(name, value))))
    return out


def body_cte(text: str) -> str:
    """7bit for plain ASCII in short lines; quoted-printable for anything else, including any
    line over 998 octets (a server answers "500 Line too long" to those)."""
    data = text.encode("utf-8", "surrogatepass")
    if data.isascii() and all(len(line) <= h.HARD for line in data.splitlines()):
        return "7bit"
    return "quoted-printable"


def _reads_cleanly(data: bytes) -> bool:
    try:
        email.message_from_bytes(data, policy=email.policy.strict)
    except (email.errors.MessageError, ValueError, LookupError, UnicodeError):
        return False
    return True


def _forwarded(data: bytes) -> EmailMessage:
    """A forwarded message, attached as its own bytes (line ends made CRLF): re-reading it with
    the email package decoded and refolded any header over 998 characters, so an encoded line
    end became a header line of the copy. RFC 2046 lets message/rfc822 travel only as 7bit or
    8bit, so an original with a line over 998 octets, which no server takes as it is, goes as a
    base64 .eml file instead; so does one with NUL bytes, or one a strict reader refuses (a
    broken MIME structure inside ours would make our message broken too)."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    part = EmailMessage(policy=BODY_POLICY)
    if any(len(line) > h.HARD for line in data.split(b"\r\n")) or b"\x00" in data or not _reads_cleanly(data):
        part.set_content(data, maintype="application", subtype="octet-stream")
        return part
    if not data.isascii():  # 8bit: the email package writes it back; no line of it is long enough to refold
        part.set_content(email.message_from_bytes(data, policy=POLICY), cte="8bit")
        return part
    part.set_raw("Content-Type", "message/rfc822")
    part.set_raw("Content-Transfer-Encoding", "7bit")
    part.set_payload(data.decode("ascii"))  # written back byte for byte
    return part


def _attach(msg: EmailMessage, a: Attachment) -> None:
    """One attachment, its Content-Disposition (and so its file name) written by the builder."""
    maintype, subtype = h.media_type(a.content_type or mimetypes.guess_type(a.filename)[0] or "")
    if (maintype, subtype) == ("message", "rfc822"):  # a forwarded message
        if msg.get_content_type() != "multipart/mixed":
            msg.make_mixed()
        msg.attach(_forwarded(a.data))
    else:
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, params=h.parameters(a.params) or None)
    part = msg.get_payload()[-1]
    del part["Content-Disposition"]
    part.set_raw("Content-Disposition", h.disposition(a.filename))


def build(d: Draft, message_id: str, date: datetime) -> EmailMessage:
    """A complete message. Every header value comes from engine.core.headers and is stored
    with set_raw, so the email package never re-reads (and so never decodes) what we wrote."""
    if not d.to and not d.cc and not d.bcc:
        raise InputInvalid("the email was not built", [Problem(None, "to", "no recipient")],
                           hint="Add at least one recipient.")
    headers = _headers(d, message_id, date)
    # Bodies are made under RFC 2045's 76-character lines (quoted-printable and base64 alike);
    # the message as a whole is written with POLICY.
    msg = EmailMessage(policy=BODY_POLICY)
    for name, value in headers:
        msg.set_raw(name, value)
    text = d.text or ""
    msg.set_content(text, cte=body_cte(text))
    if d.html:
        msg.add_alternative(d.html, subtype="html", cte=body_cte(d.html))
    for a in d.attachments:
        _attach(msg, a)
    msg.policy = POLICY
    return msg


def as_bytes(msg: EmailMessage) -> bytes:
    # an address whose local part is not ASCII is written in UTF-8 (RFC 6532): such a message
    # can only go to a server that offers SMTPUTF8, and the sending side checks that per item
    utf8 = any(not str(value).isascii() for _name, value in msg.raw_items())  # raw: values() parses each one
    return msg.as_bytes(policy=POLICY.clone(utf8=True) if utf8 else POLICY)


def recipients_of(addresses: Sequence[str]) -> list[Recipient]:
    return [Recipient(a.strip()) for a in addresses if a.strip()]
