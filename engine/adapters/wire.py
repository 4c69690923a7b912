"""Reading what IMAP and POP3 servers send, with no socket in sight: FETCH answers, SELECT's
UIDVALIDITY, message sizes, POP3 status lines, multi-line answers and UIDL listings. The
facades (imap.py, pop3.py) do the talking and hand the bytes here, as imapclient keeps its
lexer and parser apart from its client; so every way a server can answer is tested on bytes
alone (tests/unit/adapters/test_wire.py).

Whatever a server sends, these return a value or raise a `MailServerError`: a hostile or
broken answer stops one check with words a person can act on, never with a library's
exception escaping the adapters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from imapclient.response_parser import parse_fetch_response

from engine.errors import AuthenticationRefused, MailServerError, ServerRejected

# A bound on one answer (and one line): a message is at most this large. poplib's own bound is
# 2,048 bytes a line, so one hostile message (a 1 MB subject) would stop a POP3 mailbox for good.
MAX_ANSWER = 64 * 1024 * 1024
_END = b"\r\n.\r\n"
_FETCH_HEAD = re.compile(rb"\d+ \(UID (\d+) BODY\[\] \{\d+\}")
# one FETCH answer as imaplib hands it over: lines, (line, literal) pairs, None for nothing
FetchData = list[object]


class Buffered(Protocol):
    """What the readers need of a connection's file: an io.BufferedReader's peek, read, readline."""

    def peek(self, size: int = ..., /) -> bytes: ...

    def read(self, size: int | None = ..., /) -> bytes: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


def said(what: str, words: str) -> ServerRejected:
    """An answer we cannot use, in the words it had (or ours, for one cut short)."""
    return ServerRejected(f"the {what} server said: {words}", 0, words)


# -- POP3 ----------------------------------------------------------------------------------
def pop3_refusal(words: str) -> MailServerError:
    """A POP3 "-ERR" as the error a person can act on (RFC 2449's response codes)."""
    if "[AUTH]" in words:
        return AuthenticationRefused(f"the POP3 server refused the login: {words}",
                                     hint="The server said the user name or password is wrong: correct them in "
                                          "the setup wizard.")
    if "IN-USE" in words:
        return ServerRejected(f"the mailbox is in use by another program: {words}", 0, words,
                              hint="Close other mail programs reading this mailbox; it will be tried again.")
    return said("POP3", words)


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")[:300]


def read_line(f: Buffered, limit: int = MAX_ANSWER) -> bytes:
    """One line without its ending (CRLF, or a bare LF or CR as poplib allows)."""
    line = f.readline(limit + 1)
    if not line:
        raise said("POP3", "-ERR EOF")
    if len(line) > limit:
        raise said("POP3", "-ERR line too long")
    if line.endswith(b"\r\n"):
        return line[:-2]
    return line[:-1] if line[-1:] in b"\r\n" else line


def read_status(f: Buffered) -> bytes:
    """A "+OK ..." status line (without its ending); a "-ERR" raises as what it means."""
    line = read_line(f)
    if not line.startswith(b"+"):
        raise pop3_refusal(_text(line))
    return line


def read_multiline(f: Buffered, limit: int = MAX_ANSWER) -> bytes | None:
    """The body of a POP3 multi-line answer (after its status line, which must have ended in
    CRLF), dot-stuffing undone, as CRLF text; read in blocks up to the ending dot and not one
    byte further (a pipelined answer may follow in the buffer). poplib reads such an answer a
    line at a time in Python: for 10,000 RETRs of 1.8 KB, 190-330 ms against 40-55 ms here
    (`tools/bench/inbound.py --parsing`), some 5-8 % of a 3.2 s first sync. None if the
    connection ended first."""
    parts: list[bytes] = []
    tail = b"\r\n"  # the status line's ending: an empty answer is just ".\r\n"
    total = 0
    while True:
        data = f.peek(65536)  # what is buffered (one read if nothing is), without taking it
        if not data:
            return None
        window = tail + data
        at = window.find(_END)
        if at >= 0:
            parts.append(f.read(at + len(_END) - len(tail)))
            break
        chunk = f.read(len(data))
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise said("POP3", "-ERR answer too long")
        tail = (tail + chunk)[-4:]
    body = b"".join(parts)[:-3]  # without the ".\r\n" that ends it
    if len(body) > limit:
        raise said("POP3", "-ERR answer too long")
    return (b"\r\n" + body).replace(b"\r\n..", b"\r\n.")[2:]


def read_long_answer(f: Buffered, limit: int = MAX_ANSWER) -> bytes:
    """A whole multi-line answer, status line first, as CRLF text with dot-stuffing undone: in
    blocks when the status line ends in CRLF, as RFC 1939 says; line by line otherwise (a
    server that ends its lines in a bare LF)."""
    status = f.readline(limit + 1)
    if not status:
        raise said("POP3", "-ERR EOF")
    if len(status) > limit:
        raise said("POP3", "-ERR line too long")
    if not status.startswith(b"+"):
        raise pop3_refusal(_text(status.rstrip(b"\r\n")))
    if status.endswith(b"\r\n"):
        text = read_multiline(f, limit)
        if text is None:
            raise said("POP3", "-ERR EOF")
        return text
    lines: list[bytes] = []
    total = 0
    line = read_line(f, limit)
    while line != b".":
        total += len(line) + 2
        if total > limit:
            raise said("POP3", "-ERR answer too long")
        lines.append(line[1:] if line.startswith(b"..") else line)
        line = read_line(f, limit)
    return b"".join(ln + b"\r\n" for ln in lines)


def uidl_listing(text: bytes) -> list[tuple[int, str]]:
    """UIDL's "n uid" lines as (number, uid); a line that is not one is skipped."""
    lines = text.split(b"\r\n")[:-1]
    words = text.decode("ascii", "replace").split()
    numbers = words[0::2]
    if len(words) == 2 * len(lines) and all(n.isdigit() for n in numbers):
        # "n uid" on every line (the usual case): split once, not line by line
        return list(zip(map(int, numbers), words[1::2]))
    out = []
    for line in lines:
        num, _, uid = line.partition(b" ")
        if num.isdigit():
            out.append((int(num), uid.strip().decode("ascii", "replace")))
    return out


def uidl_one(status: bytes) -> tuple[int, str]:
    """`UIDL n`'s answer, "+OK n uid", as (n, uid)."""
    parts = status.decode("ascii", "replace").split()
    if len(parts) != 3 or not parts[1].isdigit():
        raise said("POP3", f"-ERR unexpected UIDL answer {status[:80]!r}")
    return int(parts[1]), parts[2]


# -- IMAP ----------------------------------------------------------------------------------
def fetch_bodies(data: FetchData) -> dict[int, bytes]:
    """{uid: raw} from a `UID FETCH ... (BODY.PEEK[])` answer. The usual shape, `* n FETCH (UID
    u BODY[] {size}` + literal, is read with one regex: imapclient's general parser costs
    150-290 ms per 10,000 messages against 7-8 ms here (`tools/bench/inbound.py --parsing`),
    some 5-9 % of a 3.2 s first sync of 10,000. Any other shape (UID after the literal, extra
    items) goes to that parser."""
    out: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], bytes) and isinstance(item[1], bytes):
            m = _FETCH_HEAD.fullmatch(item[0])
            if m is not None:
                out[int(m.group(1))] = item[1]
                continue
        elif item == b")" or item is None:
            continue
        break  # not the usual shape: let imapclient read the whole answer
    else:
        return out
    return _fetch_bodies_parsed(data)


def _fetch_bodies_parsed(data: FetchData) -> dict[int, bytes]:
    try:
        parsed = parse_fetch_response(data, True, False)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a library parser on a server's bytes: any failure is the answer's
        raise said("IMAP", f"a FETCH answer that cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    out: dict[int, bytes] = {}
    for values in parsed.values():
        uid, body = values.get(b"UID"), values.get(b"BODY[]")
        # keyed by the UID the answer names: without one, the number is a sequence number
        if isinstance(uid, int) and uid > 0 and isinstance(body, bytes):
            out[uid] = body
    return out


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    if isinstance(text, str) and text.strip().isascii() and text.strip().isdigit():  # '²' is a digit, not a number
        return int(text)
    return None


def select_state(info: Mapping[bytes, object]) -> tuple[int, int]:
    """(UIDVALIDITY, UIDNEXT) from imapclient's SELECT answer; UIDNEXT 0 when not given. Without
    a UIDVALIDITY, UIDs cannot be trusted from one check to the next: refused."""
    validity = _whole(info.get(b"UIDVALIDITY"))
    if validity is None:
        raise said("IMAP", f"a SELECT answer without a UIDVALIDITY ({str(info.get(b'UIDVALIDITY'))[:80]})")
    return validity, _whole(info.get(b"UIDNEXT", 0)) or 0


def sizes_of(data: Mapping[int, Mapping[bytes, object]], default: int) -> dict[int, int]:
    """{uid: RFC822.SIZE} from a FETCH of sizes; `default` where the size is missing or not a number."""
    sizes = {}
    for uid, item in data.items():
        size = _whole(item.get(b"RFC822.SIZE")) if isinstance(item, Mapping) else None
        sizes[uid] = default if size is None else size
    return sizes


def capability_names(capabilities: tuple[bytes, ...] | list[bytes]) -> set[str]:
    return {c.decode("ascii", "replace").upper() for c in capabilities}
