"""IMAP4rev1 wire format: parsing commands and writing data items (RFC 3501).

Kept apart from the server so it can be tested on raw bytes.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import time
from collections.abc import Iterable
from email.message import Message as EmailMessage
from typing import Union

Token = Union[str, bytes, list["Token"], None]


class ParseError(ValueError):
    pass


_ATOM_END = b" ()\r\n"


class Tokenizer:
    """Tokens of one complete command (literals already inlined as `{n}\\r\\n<data>`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_space(self) -> None:
        while self._peek() == 0x20:
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.data) or self.data[self.pos:self.pos + 2] == b"\r\n"

    def token(self) -> Token:
        self.skip_space()
        c = self._peek()
        if c is None:
            raise ParseError("unexpected end of command")
        if c == ord("("):
            self.pos += 1
            items: list[Token] = []
            while True:
                self.skip_space()
                if self._peek() == ord(")"):
                    self.pos += 1
                    return items
                if self._peek() is None:
                    raise ParseError("unclosed parenthesis")
                items.append(self.token())
        if c == ord('"'):
            self.pos += 1
            out = bytearray()
            while True:
                ch = self._peek()
                if ch is None:
                    raise ParseError("unclosed quoted string")
                self.pos += 1
                if ch == ord("\\"):
                    nxt = self._peek()
                    if nxt is None:
                        raise ParseError("bad escape")
                    out.append(nxt)
                    self.pos += 1
                elif ch == ord('"'):
                    return out.decode("utf-8", "replace")
                else:
                    out.append(ch)
        if c == ord("{"):
            end = self.data.index(b"}", self.pos)
            n = int(self.data[self.pos + 1:end].rstrip(b"+"))
            start = end + 3  # past "}\r\n"
            self.pos = start + n
            return bytes(self.data[start:start + n])
        # atom, which may carry [section] and <partial>
        start = self.pos
        depth = 0
        while self.pos < len(self.data):
            ch = self.data[self.pos]
            if ch == ord("["):
                depth += 1
            elif ch == ord("]"):
                depth -= 1
            elif depth == 0 and ch in _ATOM_END:
                break
            self.pos += 1
        atom = self.data[start:self.pos].decode("utf-8", "replace")
        if not atom:
            raise ParseError(f"unexpected character {chr(c)!r}")
        return None if atom.upper() == "NIL" else atom

    def rest(self) -> list[Token]:
        out = []
        while not self.at_end():
            out.append(self.token())
        return out


def parse_command(data: bytes) -> tuple[str, str, list[Token]]:
    t = Tokenizer(data)
    tag = t.token()
    if not isinstance(tag, str):
        raise ParseError("missing tag")
    if t.at_end():
        raise ParseError("missing command")
    cmd = t.token()
    if not isinstance(cmd, str):
        raise ParseError("missing command")
    return tag, cmd.upper(), t.rest()


def text_of(token: Token) -> str:
    if isinstance(token, bytes):
        return token.decode("utf-8", "replace")
    if isinstance(token, str):
        return token
    raise ParseError("expected a string")


# --- sequence sets -------------------------------------------------------------------


def parse_set(text: str, largest: int) -> set[int]:
    """`1:3,7,9:*` -> message numbers. Sequence numbers are 1..largest with no gaps, so this is
    the UID rule over that range (`n:*` with n > largest still includes the largest, RFC 3501)."""
    return parse_uid_set(text, range(1, largest + 1))


def parse_uid_set(text: str, uids: Iterable[int]) -> set[int]:
    present = sorted(uids)
    if not present:
        return set()
    largest = present[-1]
    wanted: set[int] = set()
    for part in text.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            lo = largest if a == "*" else int(a)
            hi = largest if b == "*" else int(b)
            lo, hi = min(lo, hi), max(lo, hi)
            wanted.update(u for u in present if lo <= u <= hi)
            if "*" in (a, b) and lo > largest:
                wanted.add(largest)
        else:
            u = largest if part == "*" else int(part)
            if u in present:
                wanted.add(u)
    return wanted


# --- writing -------------------------------------------------------------------------


def quote(value: str | bytes | None) -> bytes:
    """A string as a quoted string, or a literal when it cannot be quoted."""
    if value is None:
        return b"NIL"
    raw = value.encode("utf-8", "replace") if isinstance(value, str) else value
    if b"\r" in raw or b"\n" in raw or b"\x00" in raw or len(raw) > 1000 or any(b > 127 for b in raw):
        return b"{%d}\r\n" % len(raw) + raw
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(data: bytes) -> bytes:
    return b"{%d}\r\n" % len(data) + data


def internaldate(ts: float) -> str:
    return time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(ts))


def parse_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _addresses(msg: EmailMessage, name: str) -> bytes:
    values = msg.get_all(name) or []
    pairs = email.utils.getaddresses([str(v) for v in values])
    items = []
    for display, addr in pairs:
        if not addr:
            continue
        mailbox, _, host = addr.partition("@")
        items.append(b"(" + b" ".join([quote(display or None), b"NIL", quote(mailbox), quote(host or None)]) + b")")
    return b"(" + b"".join(items) + b")" if items else b"NIL"


def envelope(msg: EmailMessage) -> bytes:
    def h(name: str) -> bytes:
        v = msg.get(name)
        return quote(str(v)) if v is not None else b"NIL"

    from_ = _addresses(msg, "From")
    sender = _addresses(msg, "Sender")
    reply_to = _addresses(msg, "Reply-To")
    fields = [h("Date"), h("Subject"), from_, sender if sender != b"NIL" else from_,
              reply_to if reply_to != b"NIL" else from_, _addresses(msg, "To"), _addresses(msg, "Cc"),
              _addresses(msg, "Bcc"), h("In-Reply-To"), h("Message-ID")]
    return b"(" + b" ".join(fields) + b")"


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """(header including the blank line, text)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[: i + len(sep)], raw[i + len(sep):]
    return raw, b""


def header_fields(header: bytes, names: list[str], negate: bool) -> bytes:
    wanted = {n.lower() for n in names}
    out: list[bytes] = []
    keep = False
    for line in header.splitlines(keepends=True):
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t"):
            if keep:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].decode("ascii", "replace").strip().lower()
        keep = (name in wanted) != negate
        if keep:
            out.append(line)
    return b"".join(out) + b"\r\n"
