"""Text from outside as text a store can write.

Python hands back bytes it could not decode as lone surrogates: `os.listdir` and `sys.argv`
on Linux (surrogateescape), the email package for 8-bit headers, `json.loads` for a `\\udc80`
escape in a provider's answer. No store can write one (TinyDB's JSON file and PostgreSQL's
json both refuse it, and the whole write fails), so every door where such text enters calls
`outside_text`: escaped bytes are read back as UTF-8, or Latin-1 when they are not UTF-8, so
nothing is lost; any other lone surrogate becomes U+FFFD. Text without one comes back as it is.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile("[\udc80-\udcff]+")
# line ends of every kind, other controls, and the bidi marks and isolates: never in one line shown
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")  # undecodable bytes, kept by surrogateescape
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _bytes_back(m: re.Match[str]) -> str:
    raw = m.group().encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def outside_text(text: str) -> str:
    """`text` with no lone surrogate: escaped bytes read back (UTF-8, else Latin-1), others U+FFFD."""
    if not has_surrogate(text):
        return text
    return _SURROGATE.sub(REPLACEMENT, _ESCAPED.sub(_bytes_back, text))


def outside_line(value: object, limit: int = 200) -> str:
    """What a server said (an OAuth error and its description, an SMS provider's status, reason
    or balance), as one line a person can be shown, logged or stored: `outside_text`, then every
    line end (CR, LF, U+2028...), other control and bidi or invisible mark made a space, cut to
    `limit` characters. Not text (a JSON number, list or null from a server): its str(), None "".
    Encoded words (=?utf-8?...?=) stay as they are: nothing decodes them after this."""
    text = outside_text(value if isinstance(value, str) else "" if value is None else str(value))
    return _NOT_IN_A_LINE.sub(" ", text[:limit * 4]).strip()[:limit].strip()
