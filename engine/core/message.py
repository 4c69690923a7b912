"""Building outgoing messages with the standard library, safely.

Header values from any data are either encoded by the SMTP policy or refused:
a name or subject carrying CR or LF can never add a header. The Message-ID
and Date come in as arguments (the service makes them), so this stays pure.
"""

from __future__ import annotations

import email.policy
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from engine.core.addresses import is_valid_address
from engine.errors import InputInvalid, Problem

# Lines up to RFC 5322's hard limit of 998: at 78, Python folds a long Message-ID onto its own
# line, which some clients and servers mangle ("never folded"), and encodes long plain subjects.
POLICY = email.policy.SMTP.clone(max_line_length=998)


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


# Everything Python's str.splitlines (and so the email package) treats as a line end, and NUL.
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")


def _check_line(field_name: str, value: str) -> None:
    if any(ch in LINE_BREAKS for ch in value):
        raise InputInvalid("the email was not built", [Problem(None, field_name, "contains a line break")],
                           hint="Remove the line break; a subject or name must be one line.")


def one_line(value: str) -> str:
    """A header value as it will read back: runs of spaces and tabs become one space."""
    return re.sub(r"[ \t]+", " ", value).strip()


def _address(field_name: str, r: Recipient) -> Address:
    _check_line(field_name, r.name)
    _check_line(field_name, r.address)
    if not is_valid_address(r.address):
        raise InputInvalid("the email was not built", [Problem(None, field_name, f"{r.address!r} is not an email address")],
                           hint="Correct the address.")
    local, _, domain = r.address.rpartition("@")
    return Address(display_name=one_line(r.name), username=local, domain=domain)


def envelope_recipients(d: Draft) -> list[str]:
    seen: dict[str, None] = {}
    for r in [*d.to, *d.cc, *d.bcc]:
        seen.setdefault(r.address, None)
    return list(seen)


def build(d: Draft, message_id: str, date: datetime) -> EmailMessage:
    """A complete message (Bcc never appears in it: it goes only in the envelope)."""
    if not d.to and not d.cc and not d.bcc:
        raise InputInvalid("the email was not built", [Problem(None, "to", "no recipient")],
                           hint="Add at least one recipient.")
    _check_line("subject", d.subject)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _address("from", Recipient(d.from_address, d.from_name))
    if d.to:
        msg["To"] = [_address("to", r) for r in d.to]
    if d.cc:
        msg["Cc"] = [_address("cc", r) for r in d.cc]
    for r in d.bcc:
        _address("bcc", r)
    msg["Subject"] = one_line(d.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if d.in_reply_to:
        _check_line("in_reply_to", d.in_reply_to)
        msg["In-Reply-To"] = d.in_reply_to
    if d.references:
        for ref in d.references:
            _check_line("references", ref)
        msg["References"] = " ".join(d.references)
    for name, value in d.extra_headers.items():
        _check_line(name, value)
        msg[name] = value
    msg.set_content(d.text or "", cte="quoted-printable" if not (d.text or "").isascii() else "7bit")
    if d.html:
        msg.add_alternative(d.html, subtype="html")
    for a in d.attachments:
        ctype = a.content_type or mimetypes.guess_type(a.filename)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        _check_line("attachment", a.filename)
        if ctype == "message/rfc822":  # a forwarded message: attached as a message, never base64 (RFC 2046)
            inner = email.message_from_bytes(a.data, policy=POLICY)
            msg.add_attachment(inner, filename=a.filename, cte="8bit" if not a.data.isascii() else "7bit")
            continue
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename,
                           params=dict(a.params) or None)
    return msg


def as_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY)


def recipients_of(addresses: Sequence[str]) -> list[Recipient]:
    return [Recipient(a.strip()) for a in addresses if a.strip()]
