"""What we read from an incoming message: never raises, whatever the bytes.

`facts(raw)` reads the headers only (cheap: it runs for every message at
intake, and filing needs nothing else). `content(raw)` parses the whole
message when someone opens it: the text, the HTML (kept, never rendered here),
and attachments with safe file names. A message nothing can be made of is
still stored raw and listed as unreadable with whatever sender could be found.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import _header_value_parser  # noqa: PLC2701 - see _address
from email.message import Message
from typing import Any

from engine.core.names import saved_name
from engine.core.outside import outside_text

_HEADERS = email.parser.Parser(_class=Message, policy=email.policy.compat32)
MAX_HEADER = 2000  # characters kept of any header (a 1 MB subject is cut, not stored whole)
PREVIEW = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# C1 controls and the bidi marks, embeddings, overrides and isolates: gone from names and file
# names, where they could show `evan@example.org` or `gpj.exe` the wrong way round
_HIDDEN = re.compile("[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MSGID = re.compile(r"<[^<>\s]+>")
_SPACES = re.compile(r"\s+")
_LINES = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"(?:\r\n|\r|\n)(?=[ \t])")  # RFC 5322 unfolding: a line break before white space
_FIELD = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*(.*)", re.S)
# The usual From forms, `Name <a@b.c>` and `a@b.c`, read without the general address parser
# (a third of intake's parsing time); anything else goes to the standard library's RFC 5322
# parser. A test holds the two to the same answers.
_WORD = r"[A-Za-z0-9'-]+"
_ADDRESS = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_PLAIN_FROM = re.compile(rf"[ \t]*(?:({_WORD}(?: {_WORD})*)[ \t]*)?<({_ADDRESS})>[ \t]*|[ \t]*({_ADDRESS})[ \t]*")


@dataclass
class Facts:
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    date: str | None = None  # ISO 8601 when the Date header could be read
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    auto_reply: bool = False
    unreadable: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Content:
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def decode_words(value: str | None) -> str:
    """RFC 2047 words in any charset (unknown charsets degrade, never fail), one line, bounded."""
    if value is None:
        return ""
    text = str(value)[: MAX_HEADER * 4]
    if "=?" not in text:  # no encoded words: decode_header would hand the text back as it is
        return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()[:MAX_HEADER]
    try:
        parts = email.header.decode_header(text)
        out = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                try:  # decode_header hands unencoded text back as raw-unicode-escape bytes
                    out.append(chunk.decode(charset or "raw-unicode-escape", "replace"))
                except (LookupError, UnicodeError):
                    out.append(chunk.decode("latin-1", "replace"))
            else:
                out.append(chunk)
        text = "".join(out)
    except (ValueError, AssertionError, email.errors.HeaderParseError):
        pass
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()[:MAX_HEADER]


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(str(value or ""))[:100]


def plain_headers(block: bytes) -> dict[str, str] | None:
    """The fields of a header block that is plain ASCII and well formed, by lower-case name
    (the first of each, as Message.get gives it), or None when anything is unusual: then the
    email package reads it, defects and all. Most mail is plain: reading it this way, with the
    From regex below, halved what intake spends on headers (0.49 s to 0.25 s for 10,000)."""
    if not block.isascii():
        return None
    fields: dict[str, str] = {}
    name = ""
    lines: list[str] = []

    def keep() -> None:
        if name and name not in fields:
            fields[name] = "\r\n".join(lines)

    for line in _LINES.split(block.decode("ascii")):
        if line[:1] in (" ", "\t"):
            if not name:
                return None
            lines.append(line)
            continue
        m = _FIELD.fullmatch(line)
        if m is None:
            return None
        keep()
        name, lines = m.group(1).lower(), [m.group(2)]
    keep()
    return fields or None


def _one_line(text: str) -> str:
    """A decoded name as one bounded line: control characters and line breaks become spaces,
    bidi controls go, and bytes of an unknown or broken charset (which the email package
    hands back as surrogates, and which no store can write) are read as UTF-8 or Latin-1."""
    text = outside_text(text)
    return _SPACES.sub(" ", _HIDDEN.sub("", _CONTROL.sub(" ", text.replace("\x85", " ")))).strip()[:MAX_HEADER]


def header_text(raw: bytes) -> str:
    """Header bytes as text: UTF-8 (RFC 6532), or Latin-1 for a line that is not UTF-8 (old
    8-bit mail), line by line so one bad line does not spoil the others. Never raises."""
    if raw.isascii():
        return raw.decode("ascii")
    out = []
    for line in raw.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("latin-1"))
    return "\n".join(out)


def _address(value: str, quick: bool = True) -> tuple[str, str]:
    """(name, address) of a From header as it came, encoded words still encoded: the
    structure is read first and only then the name decoded, so a name that decodes to
    `Evan <bob@example.org>` or holds a comma stays a name. The first mailbox of a list."""
    m = _PLAIN_FROM.fullmatch(value) if quick else None
    if m is not None:
        return (m.group(1) or "", m.group(2) or m.group(3))
    unfolded = _FOLD.sub("", value[: MAX_HEADER * 4])
    try:
        # the standard library's RFC 5322 parser (behind email.headerregistry, which itself
        # refuses a decoded name holding CR or LF, so it is called directly)
        found, _ = _header_value_parser.get_address_list(_LINES.sub(" ", unfolded))
        mailbox = next((mb for mb in found.all_mailboxes if mb.domain), None)
        if mailbox is None:
            return "", ""
        return _one_line(mailbox.display_name or ""), str(mailbox.addr_spec)
    except Exception:  # noqa: BLE001 - the parser's own bugs on hostile input: no sender, never a guess
        return "", ""


def facts(raw: bytes, quick: bool = True) -> Facts:
    """`quick=False` always uses the email package (tests hold the quick reading to it)."""
    f = Facts()
    try:
        # headers only: the body is parsed when someone opens the message, not at intake
        end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
        plain = plain_headers(raw[:end]) if quick else None
        if plain is not None:
            msg: Any = plain
        else:
            parsed = _HEADERS.parsestr(header_text(raw[: end + 4]), headersonly=True)
            msg = parsed
            if not parsed.keys():
                f.unreadable = True
                f.problems.append("no headers could be read")
            if parsed.defects:
                f.problems.extend(type(d).__name__ for d in parsed.defects[:5])
        name, address = _address(str(msg.get("from") or ""), quick)
        f.from_name = name[:200]
        f.from_address = address.strip()[:254] if "@" in address else ""
        if not msg.get("from"):
            f.problems.append("no From header")
        f.subject = decode_words(msg.get("subject"))
        f.message_id = (_ids(msg.get("message-id")) or [""])[0]
        f.in_reply_to = _ids(msg.get("in-reply-to"))
        f.references = _ids(msg.get("references"))
        try:
            when = email.utils.parsedate_to_datetime(str(msg.get("date"))) if msg.get("date") else None
            f.date = when.isoformat() if when is not None and when.tzinfo is not None else None
        except (TypeError, ValueError, IndexError, OverflowError):
            f.problems.append("unreadable Date")
        auto = str(msg.get("auto-submitted", "")).strip().lower()
        precedence = str(msg.get("precedence", "")).strip().lower()
        f.auto_reply = (bool(auto) and auto != "no") or precedence in ("bulk", "auto_reply", "junk", "list") \
            or bool(msg.get("x-autoreply")) or bool(msg.get("x-autorespond"))
    except Exception as exc:  # noqa: BLE001 - hostile input must never stop intake
        f.unreadable = True
        f.problems.append(f"unreadable: {type(exc).__name__}")
    return f


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A file name with no path parts, no control or bidi characters, no leading dots, not a
    Windows device name, bounded (engine/core/names.py says why each)."""
    return saved_name(decode_words(name) if name else "", fallback)


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except (LookupError, UnicodeError):
        return payload.decode("latin-1", "replace")


_PARAMETERS = ("content-type", "content-disposition")


def _mend_headers(part: Message) -> None:
    """Content-Type and Content-Disposition as text: unencoded non-ASCII parameters
    (`filename="Röntgen.jpg"` sent raw) read as UTF-8, or Latin-1 when they are not (the email
    package keeps such bytes as surrogates and hands back a Header object that nothing
    downstream can read)."""
    raw = [(n, v) for n, v in part.raw_items() if n.lower() in _PARAMETERS]
    if all(isinstance(v, str) and v.isascii() for _, v in raw):
        return
    for name in {n for n, _ in raw}:
        del part[name]
    for name, value in raw:
        text = str(value)
        part[name] = header_text(text.encode("utf-8", "surrogateescape")) if isinstance(value, str) else text


def _part_bytes(part: Message) -> bytes:
    """What can be had of a part whatever state it is in: decoded, else as it came."""
    for read in (lambda: part.get_payload(decode=True), part.as_bytes,
                 lambda: str(part.get_payload()).encode("utf-8", "surrogateescape")):
        try:
            data = read()
        except Exception:  # noqa: BLE001 - try the next, plainer reading
            continue
        if isinstance(data, bytes):
            return data
    return b""


def _read_part(c: Content, part: Message, n: int) -> None:
    _mend_headers(part)
    ctype = part.get_content_type()
    disposition = str(part.get("Content-Disposition") or "").lower()
    filename = part.get_filename()
    if ctype == "message/rfc822" or (filename is None and "attachment" not in disposition
                                      and ctype in ("text/plain", "text/html")):
        if ctype == "text/plain" and not c.text:
            c.text = _decode_part(part)
            return
        if ctype == "text/html" and c.html is None:
            c.html = _decode_part(part)
            return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload()).encode("utf-8", "replace")
    ext = {"text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml"}.get(ctype, "")
    c.attachments.append(Attachment(safe_filename(filename, f"part-{n}{ext}"), ctype, data))


def content(raw: bytes) -> Content:
    """The readable parts of a message. A part that cannot be read is kept whole as an
    attachment (`part-N.bin`) with a problem noted: one bad part never loses the others."""
    c = Content()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        n = 0
        for part in msg.walk():
            n += 1
            if n > 500:
                c.problems.append("more than 500 parts; the rest were not read")
                break
            if part.is_multipart():
                continue
            try:
                _read_part(c, part, n)
            except Exception as exc:  # noqa: BLE001 - hostile parts: keep the bytes, go on
                c.problems.append(f"part {n} unreadable: {type(exc).__name__}")
                c.attachments.append(Attachment(f"part-{n}.bin", "application/octet-stream", _part_bytes(part)))
    except Exception as exc:  # noqa: BLE001
        c.problems.append(f"unreadable: {type(exc).__name__}")
        c.text = raw[:10000].decode("utf-8", "replace")
    return c


def preview(text: str) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()[:PREVIEW]


def received_at(f: Facts, fallback: datetime) -> str:
    return f.date or fallback.isoformat()
