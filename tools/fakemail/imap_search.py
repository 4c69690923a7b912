"""IMAP SEARCH criteria (RFC 3501 §6.4.4) over a session's messages.

Headers are compared after RFC 2047 decoding (a client searching "Röntgen" finds the subject
`=?utf-8?q?R=C3=B6ntgen?=`); SENT* dates come from the Date header, the others from the
internal date (the file's time).
"""

from __future__ import annotations

import email.header
import email.utils
import re
from collections.abc import Callable
from datetime import date, datetime, timezone

from tools.fakemail import imapwire as w
from tools.fakemail.mailstore import Message

FLAG_KEYS = {"SEEN": "\\Seen", "DELETED": "\\Deleted", "FLAGGED": "\\Flagged", "ANSWERED": "\\Answered",
             "DRAFT": "\\Draft"}
HEADER_KEYS = ("FROM", "TO", "CC", "BCC", "SUBJECT", "HEADER")
DATE_KEYS = ("SINCE", "BEFORE", "ON", "SENTSINCE", "SENTBEFORE", "SENTON")


def _mtime(message: Message) -> float | None:
    try:
        return message.path.stat().st_mtime
    except FileNotFoundError:
        return None


def _read(message: Message) -> bytes | None:
    try:
        return message.read()
    except FileNotFoundError:  # removed by hand: matches nothing
        return None


def _decoded(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError):
        return value


def _header_matches(msgs: list[Message], within: set[int], field: str, needle: str) -> set[int]:
    out = set()
    for n in within:
        raw = _read(msgs[n])
        if raw is None:
            continue
        values = w.parse_message(w.split_message(raw)[0]).get_all(field) or []
        if needle == "" and values or any(needle in _decoded(str(v)).lower() for v in values):
            out.add(n)
    return out


def _text_matches(msgs: list[Message], within: set[int], key: str, needle: str) -> set[int]:
    out = set()
    for n in within:
        raw = _read(msgs[n])
        if raw is None:
            continue
        hay = raw if key == "TEXT" else w.split_message(raw)[1]
        if needle in hay.decode("utf-8", "replace").lower():
            out.add(n)
    return out


def _sent_day(message: Message) -> date | None:
    raw = _read(message)
    if raw is None:
        return None
    value = w.parse_message(w.split_message(raw)[0]).get("Date")
    try:
        parsed = email.utils.parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None
    return parsed.date() if parsed else None  # the date as written, its own zone (RFC 3501)


def _date_matches(msgs: list[Message], within: set[int], key: str, day: date) -> set[int]:
    def internal(m: Message) -> date | None:
        t = _mtime(m)
        return datetime.fromtimestamp(t, timezone.utc).date() if t is not None else None

    of: Callable[[Message], date | None] = _sent_day if key.startswith("SENT") else internal
    compare = {"SINCE": lambda d: d >= day, "BEFORE": lambda d: d < day, "ON": lambda d: d == day}
    test = compare[key.removeprefix("SENT")]
    return {n for n in within if (d := of(msgs[n])) is not None and test(d)}


def search(tokens: list[w.Token], msgs: list[Message], within: set[int] | None = None,
           recent: set[int] | None = None) -> set[int]:
    """Indexes (0-based) of messages matching all criteria. Each criterion looks only at
    the messages the ones before it left (`within`): `UID 10001:* LARGER n` reads the
    sizes of the new messages, not of the 10,000 before them. `recent`: ids of the
    messages that are \\Recent for this session."""
    result = set(range(len(msgs))) if within is None else set(within)
    criteria = _Criteria(tokens, msgs, recent or set())
    while criteria.i < len(tokens):
        result &= criteria.one(result)
    return result


class _Criteria:
    """The criteria of one SEARCH (or of one parenthesised list), read left to right: `i` is the
    next token; each key's handler (_KEYS) takes its arguments with `arg` and answers a set."""

    def __init__(self, tokens: list[w.Token], msgs: list[Message], recent: set[int]) -> None:
        self.tokens, self.msgs, self.recent = tokens, msgs, recent
        self.i = 0
        self.everyone = set(range(len(msgs)))

    def arg(self) -> str:
        if self.i >= len(self.tokens):
            raise w.ParseError("a search key is missing its value")
        self.i += 1
        return w.text_of(self.tokens[self.i - 1])

    def one(self, within: set[int]) -> set[int]:
        tok = self.tokens[self.i]
        self.i += 1
        if isinstance(tok, list):
            return search(tok, self.msgs, within, self.recent)
        key = w.text_of(tok).upper()
        if key in _KEYS:
            return _KEYS[key](self, key, within)
        if key.startswith("UN") and key[2:] in FLAG_KEYS:
            return {n for n, m in enumerate(self.msgs) if FLAG_KEYS[key[2:]] not in m.flags}
        if re.fullmatch(r"[\d:*,]+", key):
            return {s - 1 for s in w.parse_set(key, len(self.msgs))}
        raise w.ParseError(f"unsupported search key {key}")

    def flag(self, key: str, within: set[int]) -> set[int]:
        return {n for n, m in enumerate(self.msgs) if FLAG_KEYS[key] in m.flags}

    def recency(self, key: str, within: set[int]) -> set[int]:
        now = {n for n, m in enumerate(self.msgs) if id(m) in self.recent}
        unseen = {n for n, m in enumerate(self.msgs) if "\\Seen" not in m.flags}
        return {"RECENT": now, "OLD": self.everyone - now, "NEW": now & unseen}[key]

    def not_(self, key: str, within: set[int]) -> set[int]:
        return within - self.one(within)

    def or_(self, key: str, within: set[int]) -> set[int]:
        a = self.one(within)
        return a | self.one(within)

    def uid(self, key: str, within: set[int]) -> set[int]:
        wanted = w.parse_uid_set(self.arg(), (m.uid for m in self.msgs))
        return {n for n, m in enumerate(self.msgs) if m.uid in wanted}

    def keyword(self, key: str, within: set[int]) -> set[int]:
        kw = self.arg()
        has = {n for n, m in enumerate(self.msgs) if kw in m.flags}
        return has if key == "KEYWORD" else self.everyone - has

    def header(self, key: str, within: set[int]) -> set[int]:
        field = self.arg() if key == "HEADER" else key
        return _header_matches(self.msgs, within, field, self.arg().lower())

    def text(self, key: str, within: set[int]) -> set[int]:
        return _text_matches(self.msgs, within, key, self.arg().lower())

    def date(self, key: str, within: set[int]) -> set[int]:
        return _date_matches(self.msgs, within, key, datetime.strptime(self.arg(), "%d-%b-%Y").date())

    def size(self, key: str, within: set[int]) -> set[int]:
        size = int(self.arg())
        msgs = self.msgs
        return {n for n in within if (msgs[n].size > size if key == "LARGER" else msgs[n].size < size)}

    def charset(self, key: str, within: set[int]) -> set[int]:
        self.arg()  # every message is text we can read
        return self.everyone


# each search key: its handler (criteria, the key, the messages left) -> the messages it matches
_KEYS: dict[str, Callable[[_Criteria, str, set[int]], set[int]]] = {
    "ALL": lambda c, key, within: c.everyone,
    **{key: _Criteria.flag for key in FLAG_KEYS},
    **{key: _Criteria.recency for key in ("RECENT", "OLD", "NEW")},
    "NOT": _Criteria.not_, "OR": _Criteria.or_, "UID": _Criteria.uid,
    "KEYWORD": _Criteria.keyword, "UNKEYWORD": _Criteria.keyword,
    **{key: _Criteria.header for key in HEADER_KEYS},
    "BODY": _Criteria.text, "TEXT": _Criteria.text,
    **{key: _Criteria.date for key in DATE_KEYS},
    "LARGER": _Criteria.size, "SMALLER": _Criteria.size,
    "CHARSET": _Criteria.charset,
}
