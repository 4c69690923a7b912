"""Names that came from outside (an attachment's file name, a sender, a subject, a patient's
name), made safe to save and to show.

A stranger chooses the file name of what they attach. `invoice\\u202efdp.exe` is drawn as
"invoiceexe.pdf" because U+202E turns the rest of the line right-to-left; `../../x`,
`CON.txt` or a name of 300 characters are traps for the folder it is saved in. So:

- `saved_name` is the name a file is written under: no path parts, no control, format
  (bidi, zero-width) or line-separator characters, none of the characters Windows refuses,
  not a name Windows reserves for a device (`CON`, `com1.txt`: given a `_` in front), no
  leading dot, no trailing dot or space, never empty, at most MAX_CHARS characters and
  MAX_BYTES bytes of UTF-8 (its extension kept).
- `shown_name` is how such a value is shown in a list or a label: every invisible control
  is made visible as its escape (`\\u202e`), so what reception reads is what is there.

Pure functions: no files are touched here.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 120
MAX_BYTES = 240  # well under the 255 bytes most file systems allow for one name
FALLBACK = "attachment"

# Categories never kept in a saved name, and made visible in a shown one: controls (Cc: C0,
# DEL, C1 with NEL), format characters (Cf: the bidi embeddings, overrides and isolates
# U+202A-202E, U+2066-2069, the marks U+200E/200F/061C, zero-width ones, BOM), surrogates
# (Cs: a lone one cannot even be written to disk) and the line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_WINDOWS_REFUSED = re.compile(r'[<>:"|?*]')
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
                       *(f"{dev}{n}" for dev in ("COM", "LPT") for n in "123456789¹²³")})


def hidden(ch: str) -> bool:
    """True for a character that changes how text is drawn without being seen itself."""
    return unicodedata.category(ch) in HIDDEN_CATEGORIES


def reserved(name: str) -> bool:
    """A name Windows gives to a device, whatever its case or extension (`nul.tar.gz`)."""
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def _bounded(name: str) -> str:
    """At most MAX_CHARS characters and MAX_BYTES bytes, the extension (if short) kept."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, dot, ext = name, "", ""
    tail = dot + ext
    room_chars = MAX_CHARS - len(tail)
    room_bytes = MAX_BYTES - len(tail.encode("utf-8"))
    stem = stem[:room_chars]
    while len(stem.encode("utf-8")) > room_bytes:
        stem = stem[:-1]
    return stem.rstrip(". ") + tail


def saved_name(name: str | None, fallback: str = FALLBACK) -> str:
    """The name to write a file from outside under, in any folder, on Windows as on Linux.

    Idempotent: a saved name given again comes back unchanged."""
    text = (name or "").replace("\\", "/").split("/")[-1]
    text = unicodedata.normalize("NFC", "".join(ch for ch in text if not hidden(ch)))
    text = _WINDOWS_REFUSED.sub("_", text)
    while text != (trimmed := text.strip().lstrip(".").rstrip(".")):  # " .", "\xa0." and so on, to the end
        text = trimmed
    text = _bounded(text) if text else (fallback or FALLBACK)
    return _bounded("_" + text) if reserved(text) else text


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown_name(text: str | None) -> str:
    """The value as reception should see it in one line: every hidden character written out
    as its escape (`invoice\\u202efdp.exe`), everything else as it is."""
    if not text:
        return ""
    if text.isprintable() or not any(hidden(ch) for ch in text):  # isprintable: the fast, usual answer
        return text
    return "".join(_escape(ch) if hidden(ch) else ch for ch in text)
