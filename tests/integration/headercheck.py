"""Read a message we sent with two independent MIME parsers and say what its headers mean.

The standard library (strict policy: a defect is an error) and fast-mail-parser (a Rust
parser that shares no code with Python's email package) must agree on the header set,
the subject, every address and every attachment's name. A header smuggled in by an encoded
word shows up in either reading as an extra name, a Bcc or a Reply-To.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass

import fast_mail_parser


@dataclass(frozen=True)
class Reading:
    names: tuple[str, ...]  # the top-level header names, lower case, sorted
    subject: str
    sender: tuple[str, str]  # (display name, address)
    to: tuple[tuple[str, str], ...]
    cc: tuple[tuple[str, str], ...]
    bcc: int
    reply_to: int
    filenames: tuple[str, ...]


def by_stdlib(raw: bytes) -> Reading:
    msg = email.message_from_bytes(raw, policy=email.policy.strict)

    def people(name: str) -> tuple[tuple[str, str], ...]:
        header = msg[name]
        return tuple((a.display_name, a.addr_spec) for a in header.addresses) if header is not None else ()

    (sender,) = people("From")
    return Reading(tuple(sorted(k.lower() for k in msg.keys())), str(msg["Subject"] or ""), sender, people("To"),
                   people("Cc"), len(msg.get_all("Bcc") or []), len(msg.get_all("Reply-To") or []),
                   tuple(p.get_filename() or "" for p in msg.iter_attachments()))


def by_rust(raw: bytes) -> Reading:
    mail = fast_mail_parser.parse_email(raw, strict=True)

    def people(found: list) -> tuple[tuple[str, str], ...]:  # noqa: ANN401 - PyAddress
        return tuple((a.display_name or "", a.address or "") for a in found)

    (sender,) = people([mail.from_] if mail.from_ is not None else [])
    names = tuple(sorted(k.lower() for k, values in mail.headers.items() for _ in values))
    return Reading(names, mail.subject or "", sender, people(mail.to), people(mail.cc), len(mail.bcc),
                   len(mail.reply_to), tuple(a.filename or "" for a in mail.attachments))


def read(raw: bytes) -> Reading:
    """One reading both parsers agree on (an AssertionError names the first difference)."""
    ours, theirs = by_stdlib(raw), by_rust(raw)
    assert ours == theirs, f"the two parsers disagree:\n  stdlib: {ours}\n  rust:   {theirs}"
    return ours
