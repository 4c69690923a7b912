"""A message as IMAP sees it: one parse into a tree of byte-exact parts.

IMAP sections (`BODY[2]`, `[1.1]`, `[2.MIME]`, `[3.HEADER]`, `[HEADER.FIELDS (Subject)]`) and
BODYSTRUCTURE all answer from the same tree, so they can never disagree. The standard
library's parser reads each part's header (types, parameters with RFC 2231, dispositions);
only the cutting of a multipart body at its boundary lines is done here, because a section
must be the part's bytes exactly as stored, which the library's parser does not keep.

Numbering follows RFC 3501 §6.4.5: the parts of a multipart are 1..n, a non-multipart
message has one part, 1, its body; the parts of a message/rfc822 part n are n.1, n.2, ...
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser

from tools.fakemail import imapwire as w

MAX_DEPTH = 100  # deeper nesting is served as an opaque leaf (as Dovecot limits it too)
_HEADERS = BytesHeaderParser(policy=email.policy.compat32)


@dataclass
class Part:
    header: bytes  # the header and the blank line after it ("" for a part with no header)
    body: bytes
    info: Message  # the header, parsed
    children: list[Part] = field(default_factory=list)  # of a multipart
    inner: Part | None = None  # the encapsulated message of a message/rfc822 part

    @property
    def raw(self) -> bytes:
        return self.header + self.body

    @property
    def content_type(self) -> str:
        return self.info.get_content_type()

    @property
    def multipart(self) -> bool:
        return bool(self.children) and self.info.get_content_maintype() == "multipart"


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    if raw.startswith((b"\r\n", b"\n")):  # no header at all: the blank line is the header
        n = 2 if raw.startswith(b"\r\n") else 1
        return raw[:n], raw[n:]
    return w.split_message(raw)


def parse(raw: bytes, default_type: str = "text/plain", depth: int = 0) -> Part:
    header, body = _split_head(raw)
    info = _HEADERS.parsebytes(header)
    if "content-type" not in info:
        info.set_default_type(default_type)
    part = Part(header, body, info)
    if depth >= MAX_DEPTH:
        return part
    maintype = info.get_content_maintype()
    boundary = info.get_boundary() if maintype == "multipart" else None
    if boundary:
        inner_default = "message/rfc822" if info.get_content_subtype() == "digest" else "text/plain"
        part.children = [parse(chunk, inner_default, depth + 1) for chunk in _chunks(body, boundary)]
    elif info.get_content_type() == "message/rfc822":
        part.inner = parse(body, "text/plain", depth + 1)
    return part


def _chunks(body: bytes, boundary: str) -> list[bytes]:
    """The parts between `--boundary` lines; the line end before a delimiter belongs to it."""
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1", "replace")) +
                           rb"(--)?[ \t]*(?:\r?\n|\Z)")
    chunks: list[bytes] = []
    start: int | None = None
    for m in delimiter.finditer(body):
        if start is not None:
            chunks.append(body[start:m.start()])
        if m.group(1):  # the close delimiter
            return chunks
        start = m.end()
    if start is not None:  # no close delimiter: the last part runs to the end
        chunks.append(body[start:])
    return chunks


class NoSuchPart(LookupError):
    pass


def locate(root: Part, numbers: list[int]) -> Part:
    """The part a section's numbers name (RFC 3501 §6.4.5)."""
    cur = root
    for i, n in enumerate(numbers):
        if i > 0 and cur.inner is not None:
            cur = cur.inner  # into the encapsulated message of a message/rfc822 part
        if cur.multipart:
            if not 1 <= n <= len(cur.children):
                raise NoSuchPart(n)
            cur = cur.children[n - 1]
        elif n != 1:
            raise NoSuchPart(n)
    return cur


_SECTION = re.compile(r"^((?:\d+\.)*\d+)?\.?(.*)$", re.DOTALL)


def section(root: Part, spec: str) -> bytes:
    """The bytes of one section spec, e.g. `2`, `1.2.MIME`, `3.HEADER.FIELDS (Subject)`, `TEXT`."""
    m = _SECTION.match(spec.strip())
    assert m is not None
    numbers = [int(n) for n in m.group(1).split(".")] if m.group(1) else []
    rest = m.group(2).strip()
    word = rest.split(" ", 1)[0].split("(", 1)[0].upper()
    target = locate(root, numbers) if numbers else root
    if not rest:
        return root.raw if not numbers else target.body
    if word == "MIME":
        if not numbers:
            raise NoSuchPart("MIME of the whole message")
        return target.header
    message = target if not numbers else target.inner
    if message is None:  # HEADER/TEXT of a part that is not a message
        raise NoSuchPart(rest)
    if word == "HEADER":
        return message.header
    if word == "TEXT":
        return message.body
    if word in ("HEADER.FIELDS", "HEADER.FIELDS.NOT"):
        names = [a or b for a, b in re.findall(r'"([^"]*)"|([^\s()"]+)', rest[rest.find("("):])]
        return w.header_fields(message.header, names, negate=word.endswith(".NOT"))
    raise NoSuchPart(rest)


# -- BODY and BODYSTRUCTURE ---------------------------------------------------------------

def _string(value: str | None) -> bytes:
    return w.quote(value) if value else b"NIL"


def _params(pairs: list[tuple[str, str]]) -> bytes:
    if not pairs:
        return b"NIL"
    return b"(" + b" ".join(w.quote(k.upper()) + b" " + w.quote(v) for k, v in pairs) + b")"


def _header_params(info: Message, header: str) -> list[tuple[str, str]]:
    """A header's parameters, RFC 2231 joined; none when they are too broken for the library
    (`filename*0*=;filename*` makes it raise TypeError): a client still gets the part."""
    try:
        params = info.get_params(failobj=[], header=header, unquote=True)[1:]
        return [(k, email.utils.collapse_rfc2231_value(v)) for k, v in params]
    except (TypeError, ValueError, IndexError, LookupError):
        return []


def _type_params(info: Message) -> list[tuple[str, str]]:
    pairs = _header_params(info, "content-type")
    if info.get_content_maintype() == "text" and not any(k.lower() == "charset" for k, _ in pairs):
        pairs.insert(0, ("charset", "us-ascii"))
    return pairs


def _disposition(info: Message) -> bytes:
    value = info.get("Content-Disposition")
    if value is None:
        return b"NIL"
    kind = str(value).split(";", 1)[0].strip()
    return b"(" + w.quote(kind.upper()) + b" " + _params(_header_params(info, "content-disposition")) + b")"


def _language(info: Message) -> bytes:
    value = info.get("Content-Language")
    if not value:
        return b"NIL"
    tags = [t.strip() for t in str(value).split(",") if t.strip()]
    return w.quote(tags[0]) if len(tags) == 1 else b"(" + b" ".join(w.quote(t) for t in tags) + b")"


def _lines(body: bytes) -> int:
    return body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)


def structure(part: Part, extensible: bool = True) -> bytes:
    """BODYSTRUCTURE (`extensible`) or BODY of a part (RFC 3501 §7.4.2)."""
    info = part.info
    if part.multipart:
        fields = [b"".join(structure(c, extensible) for c in part.children), w.quote(info.get_content_subtype().upper())]
        if extensible:
            fields += [_params(_type_params(info)), _disposition(info), _language(info), _string(info.get("Content-Location"))]
        return b"(" + b" ".join(fields) + b")"
    maintype, subtype = info.get_content_maintype(), info.get_content_subtype()
    encoding = str(info.get("Content-Transfer-Encoding") or "7bit").strip().upper()
    fields = [w.quote(maintype.upper()), w.quote(subtype.upper()), _params(_type_params(info)),
              _string(info.get("Content-ID")), _string(info.get("Content-Description")), w.quote(encoding),
              str(len(part.body)).encode()]
    if part.inner is not None:
        fields += [w.envelope(w.parse_message(part.inner.raw)), structure(part.inner, extensible),
                   str(_lines(part.body)).encode()]
    elif maintype == "text":
        fields.append(str(_lines(part.body)).encode())
    if extensible:
        fields += [_string(info.get("Content-MD5")), _disposition(info), _language(info),
                   _string(info.get("Content-Location"))]
    return b"(" + b" ".join(fields) + b")"
