"""Redaction of free text that leaves the practice (the diagnostic export, runbook pages).

Server replies, exception messages and log lines are free text: they quote whatever the
server or the library saw, so they can carry a patient's name, address, phone number or
date of birth. Everything structured in the export is chosen field by field (an allow-list);
this module is for the words in between. It replaces

- every name, email address, phone number and date of birth in the practice directory,
  whatever its length ("Li"), case ("PATEL"), Unicode form (NFC, NFD, NFKC, full-width),
  apostrophe or hyphen variant (O’Brien, O'Brien) and accents dropped (Lefevre);
- every address-shaped token (quoted local parts too) as a whole, domain included;
- phone-shaped and date-shaped tokens (a date followed by a time of day is a timestamp
  and is kept, unless it is a date of birth from the directory);

and nothing else, and never the punctuation around what it replaces. Names match as whole
words (bounded by anything that is not a letter or digit), so "Li" goes but "Line too long"
stays. Pure: the directory comes in as an argument.
"""

from __future__ import annotations

import re
import unicodedata
from email.header import decode_header
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

PLACEHOLDER = {"name": "[name]", "address": "[address]", "phone": "[phone]", "date": "[date]",
               "subject": "[subject]"}
NAME_FIELDS = ("first_name", "last_name")
PHONE_FIELDS = ("mobile", "phone")

_CHAR_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                            "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                            "\u2212": "-"})
_ASCII_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                             "ı": "i"})
_RUN = re.compile(r"[^\W_]+")
_SEP = r"[ \t().\-/]*"
# A local part starts at a letter or digit (so an opening quote or bracket stays) and has no
# "=" (so "email='bob@x.org'" loses only the address); a quoted local part is taken whole.
_ADDRESS = re.compile(r"(?:\"(?:[^\"\\\r\n]|\\.)*\"|(?<!\w)\w[\w!#$%&*+/?^{|}~'.\-]*)@(?:\[[^\]\s]*\]|[\w-]+(?:\.[\w-]+)*)")
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
           r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTH_NO = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                             "oct", "nov", "dec"))}
_DATE = re.compile(
    r"(?<![\w.])(?:(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"|(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{4}|\d{2})"
    rf"|(?P<wd>\d{{1,2}})(?:st|nd|rd|th)?[ \t]+(?P<wm>{_MONTHS})\.?,?[ \t]+(?P<wy>\d{{4}})"
    rf"|(?P<vm>{_MONTHS})\.?[ \t]+(?P<vd>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<vy>\d{{4}})"
    r"|(?P<n>\d{8}))(?=t\d|[^\w.]|\.(?!\d)|_|$)")
_TIME_AFTER = re.compile(r"[T \t]+\d{1,2}:\d{2}")
_PHONE = re.compile(r"(?<![\w+.\-])(?:\+|\(\+?)?\d+(?:(?:\)[ \t]?|[ \t.\-]\(?|\()\d+)*\)?(?!\w)")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")


def fold(text: str) -> str:
    """The form text is compared in: NFKC, case-folded, apostrophes and hyphens unified,
    invisible format characters (zero-width, bidi controls, soft hyphen) dropped."""
    out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in out if unicodedata.category(ch) != "Cf").translate(_CHAR_FOLD)


def unaccented(folded: str) -> str:
    """The same word as a server that strips accents writes it (Lefèvre -> lefevre)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).translate(_ASCII_FOLD)


@dataclass(frozen=True)
class PrivateData:
    """What must not leave the practice, folded and indexed for matching.

    `terms` maps the first run of letters/digits of each folded term to the terms starting
    with it (longest first) and their kind; `phones` holds national digits; `births` the
    dates of birth; `keep` addresses that are the practice's own and may stay."""

    terms: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    phones: tuple[str, ...] = ()
    births: frozenset[date] = frozenset()
    keep: frozenset[str] = frozenset()

    @property
    def phone_pattern(self) -> re.Pattern[str] | None:
        return _phone_pattern(self.phones)


def _name_variants(value: str) -> set[str]:
    whole = fold(value).strip()
    found = {whole} | set(re.split(r"[\s\-]+", whole))
    for part in list(found):
        found |= {part.replace("'", ""), part.replace(".", ""), *(p for p in part.split("'") if len(p) >= 3)}
    found |= {unaccented(f) for f in found}
    return {_trim(f) for f in found} - {""}


def _trim(term: str) -> str:
    """A term starts and ends at a letter or digit (so it can be found by its first word)."""
    m = re.search(r"[^\W_].*", term)
    return m.group(0) if m else ""


def private_data(people: Iterable[Mapping[str, Any]], phrases: Iterable[str] = (),
                 keep_addresses: Iterable[str] = ()) -> PrivateData:
    """Index the directory's people (patients, providers, specialists) and any other known
    private phrases (subjects of stored mail) for `redact`."""
    kinds: dict[str, str] = {}
    phones: set[str] = set()
    births: set[date] = set()
    for person in people:
        for f in NAME_FIELDS:
            for term in _name_variants(str(person.get(f) or "")):
                kinds.setdefault(term, "name")
        email = fold(str(person.get("email") or "")).strip()
        if email:
            kinds[email] = "address"
            local = _trim(email.split("@", 1)[0])
            if len(local) >= 4:
                kinds.setdefault(local, "address")
        for f in PHONE_FIELDS:
            digits = re.sub(r"\D", "", fold(str(person.get(f) or "")))
            if len(digits) >= 5:
                phones.add(digits.lstrip("0") or digits)
        try:
            births.add(date.fromisoformat(str(person.get("date_of_birth") or "")))
        except ValueError:
            pass
    for phrase in phrases:
        term = _trim(fold(phrase).strip())
        if len(term) >= 4:
            kinds.setdefault(term, "subject")
    index: dict[str, list[tuple[str, str]]] = {}
    for term, kind in kinds.items():
        index.setdefault(_RUN.match(term).group(0), []).append((term, kind))  # type: ignore[union-attr]
    terms = {k: tuple(sorted(v, key=lambda tk: -len(tk[0]))) for k, v in index.items()}
    return PrivateData(terms, tuple(sorted(phones)), frozenset(births),
                       frozenset(fold(a).strip() for a in keep_addresses if a))


_PATTERNS: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def _phone_pattern(phones: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the directory's numbers in any spacing, with 0, +CC or 00CC before."""
    if phones not in _PATTERNS:
        cores = "|".join(_SEP.join(re.escape(d) for d in p) for p in sorted(phones, key=len, reverse=True))
        _PATTERNS[phones] = re.compile(rf"(?<!\d)(?=[+\d])(?:(?:\+|00)\d{{1,3}}{_SEP}(?:\(0\){_SEP})?|0{_SEP})?(?:{cores})(?!\d)") \
            if phones else None
    return _PATTERNS[phones]


def redact(text: str, private: PrivateData) -> str:
    """`text` with everything private replaced by a placeholder ([name], [address], ...).

    Nothing matched spans a line, so ASCII lines are taken in blocks (folding them is only
    lower-casing) and the others one by one (folded per character with its combining marks)."""
    if "=?" in text:
        text = _ENCODED_WORD.sub(lambda m: _encoded_word(m.group(0), private), text)
    out: list[str] = []
    block: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.isascii():
            block.append(line)
            continue
        if block:
            out.append(_redact_block("".join(block), private))
            block = []
        out.append(_redact_block(line, private))
    if block:
        out.append(_redact_block("".join(block), private))
    return "".join(out)


def _encoded_word(word: str, private: PrivateData) -> str:
    """An RFC 2047 word quoted by a server hides a name from the matcher: decoded, and if
    anything in it is private, replaced by its redacted decoded text (line ends made spaces)."""
    try:
        (raw, charset), = decode_header(word)
        decoded = raw.decode(charset or "ascii", "replace") if isinstance(raw, bytes) else raw
    except (ValueError, LookupError):
        return word
    decoded = re.sub(r"[\r\n\x0b\x0c\x85\u2028\u2029]", " ", decoded)
    clean = redact(decoded, private)
    return word if clean == decoded else clean


def _fold_with_origin(line: str) -> tuple[str, list[int] | None, list[int] | None]:
    """The folded line and, per folded character, the original span it came from (None:
    one to one, as for ASCII)."""
    if line.isascii():
        return line.lower().translate(_CHAR_FOLD), None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(line):
        j = i + 1
        while j < len(line) and unicodedata.combining(line[j]):
            j += 1
        piece = fold(line[i:j])
        out.append(piece)
        starts += [i] * len(piece)
        ends += [j] * len(piece)
        i = j
    return "".join(out), starts, ends


def _redact_block(line: str, private: PrivateData) -> str:
    folded, starts, ends = _fold_with_origin(line)
    spans = _find(folded, private)
    if not spans:
        return line
    if starts is not None and ends is not None:
        spans = [(starts[a], ends[b - 1], kind) for a, b, kind in spans]
    merged: list[list[Any]] = []
    for a, b, kind in sorted(spans):
        if merged and a < merged[-1][1]:
            last = merged[-1]
            if b - a > last[3]:
                last[2], last[3] = kind, b - a
            last[1] = max(last[1], b)
        else:
            merged.append([a, b, kind, b - a])
    out, pos = [], 0
    for a, b, kind, _ in merged:
        out += [line[pos:a], PLACEHOLDER[kind]]
        pos = b
    out.append(line[pos:])
    return "".join(out)


def _find(folded: str, private: PrivateData) -> list[tuple[int, int, str]]:
    """Spans (in the folded line) of everything to replace, with their kind."""
    spans: list[tuple[int, int, str]] = []
    for m in _ADDRESS.finditer(folded):
        if m.group(0) not in private.keep:
            spans.append((m.start(), m.end(), "address"))
    for m in _RUN.finditer(folded):
        for term, kind in private.terms.get(m.group(0), ()):
            end = m.start() + len(term)
            if folded.startswith(term, m.start()) and (end == len(folded) or not folded[end].isalnum()):
                spans.append((m.start(), end, kind))
                break
    pattern = private.phone_pattern
    if pattern is not None:
        spans += [(m.start(), m.end(), "phone") for m in pattern.finditer(folded)]
    pieces, pos = [], 0
    for m in _DATE.finditer(folded):
        pieces += [folded[pos:m.start()], "x" * (m.end() - m.start())]  # no phone inside a date
        pos = m.end()
        if _is_private_date(m, folded, private.births):
            spans.append((m.start(), m.end(), "date"))
    masked = "".join(pieces) + folded[pos:]
    spans += [(m.start(), m.end(), "phone") for m in _PHONE.finditer(masked) if _phone_shaped(m.group(0))]
    return spans


def _candidates(m: re.Match[str]) -> list[date]:
    """Every date a date-shaped token can mean (day/month order is ambiguous)."""
    g = m.groupdict()
    if g["y"]:
        triples = [(int(g["y"]), int(g["m"]), int(g["d"]))]
    elif g["a"]:
        years = [int(g["c"])] if len(g["c"]) == 4 else [1900 + int(g["c"]), 2000 + int(g["c"])]
        triples = [(y, int(g["b"]), int(g["a"])) for y in years] + [(y, int(g["a"]), int(g["b"])) for y in years]
    elif g["wd"]:
        triples = [(int(g["wy"]), _MONTH_NO[g["wm"][:3]], int(g["wd"]))]
    elif g["vm"]:
        triples = [(int(g["vy"]), _MONTH_NO[g["vm"][:3]], int(g["vd"]))]
    else:
        n = g["n"]
        triples = [(int(n[:4]), int(n[4:6]), int(n[6:])), (int(n[4:]), int(n[2:4]), int(n[:2])),
                   (int(n[4:]), int(n[:2]), int(n[2:4]))]
    found = []
    for y, mo, d in triples:
        try:
            found.append(date(y, mo, d))
        except ValueError:
            pass
    return found


def _is_private_date(m: re.Match[str], folded: str, births: frozenset[date]) -> bool:
    """A date of birth always; any other real date unless it is the date of a timestamp
    (followed by a time of day); an eight-digit number only when it is a birth date."""
    dates = _candidates(m)
    if any(d in births for d in dates):
        return True
    if m.group("n") or not dates:
        return False
    return _TIME_AFTER.match(folded, m.end()) is None


def _phone_shaped(token: str) -> bool:
    """Seven or more digits, written as a number is dialled: with +, a bracket, a leading 0,
    or in groups (one separator between, one group of three or more). Bare counts, sizes and ids (no separators, no leading 0), decimals and
    IPv4 addresses are not phones."""
    digits = sum(c.isdigit() for c in token)
    if digits < 7 or _IP.match(token) or _DECIMAL.match(token):
        return False
    groups = re.findall(r"\d+", token)
    return token[0] in "+(0" or (len(groups) > 1 and max(map(len, groups)) >= 3)
