"""The one header builder: every header value we write is made here, as folded ASCII.

Why not hand strings to the email package: its header registry decodes RFC 2047 words in
whatever it is given, so a subject typed as `=?utf-8?q?hi=0D=0ABcc:_x@y?=` became a real Bcc
line, and checking for line breaks before that decoding checked the wrong text. Here the rule
is checked on the text a reader will see *after* decoding, by construction:

- a value is first made one line: a line end typed by a person is refused (InputInvalid naming
  the field); in text derived from records or mail (`flatten`) it becomes a space;
- a value that is plain printable ASCII and carries no `=?` is written as it is; anything else
  (non-ASCII, controls, or text that merely looks like an encoded word) is encoded by us, whole,
  so a reader decodes it back to exactly the literal text, never to a line break;
- what we wrote is parsed back with the standard library's strict policy and compared with
  what we meant before it is used.

The values come back as folded strings (CRLF + space between lines, no line over 78 where it
can be helped, never over 998) for `Message.set_raw`, which stores them untouched.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import quote

from engine.core.addresses import is_valid_address, smtp_form
from engine.errors import InputInvalid, Problem

# Every character str.splitlines treats as a line end (the email package splits on them too),
# and NUL. tests/unit/core/test_header_injection.py derives the set and compares.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")
_BREAK_RUN = re.compile("[" + re.escape("".join(sorted(LINE_BREAKS))) + "]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\- ]*")  # a phrase of atoms (and dots, as mailers write)
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+")
_MSG_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII without <, > or space, one @ at least
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")

NAME_BYTES = 500  # a display name's limit in UTF-8 octets: encoded whole, it still fits in one line
SOFT, HARD = 78, 998  # RFC 5322: lines SHOULD be at most 78 characters and MUST be at most 998
_WORD_ROOM = 75 - len("=?utf-8?q?") - len("?=")  # encoded text per encoded word (RFC 2047: words <= 75)
_STRICT = email.policy.strict


@functools.lru_cache(maxsize=64)
def _header_class(name: str) -> Any:
    """The strict policy's class for a header name. Its registry makes a new class on every
    lookup (a third of the time of building a message went there); the classes hold no state."""
    return _STRICT.header_factory[name]


def _read_back(name: str, value: str) -> Any:
    """A header value as a strict reader parses it: the builder's check on everything it writes."""
    return _header_class(name.lower())(name, value)


def _refuse(field: str, what: str, hint: str) -> InputInvalid:
    return InputInvalid("the email was not built", [Problem(None, field, what)], hint=hint)


def one_line(field: str, value: str, label: str = "") -> str:
    """Typed text as one header line: a line end or a broken character is refused, naming the
    field (`label`: the field as reception knows it, for the hint)."""
    label = label or field.replace("_", " ")
    if any(ch in LINE_BREAKS for ch in value):
        raise _refuse(field, "contains a line break", f"Remove the line break from the {label}; it must be one line.")
    if _SURROGATE.search(value):
        raise _refuse(field, "contains a character that is not text", f"Type the {label} again; it must be plain text.")
    return _SPACES.sub(" ", value).strip()


def flatten(value: str) -> str:
    """Text from records or mail as one line: every line end becomes a space, a broken character
    becomes U+FFFD, runs of spaces and tabs one space. Never refuses: mail we reply to may carry
    anything, and a reply must still be possible."""
    value = _SURROGATE.sub("\ufffd", _BREAK_RUN.sub(" ", value))
    return _SPACES.sub(" ", value).strip()


def display_name(value: str) -> str:
    """A name from records or mail as a display name: one line, at most 120 characters."""
    return flatten(value)[:120].strip()


def message_ids(values: Iterable[str]) -> list[str]:
    """The plain message ids among `values` (taken from mail): anything else is dropped."""
    return [v for v in values if _is_msg_id(v)]


def _is_msg_id(value: str) -> bool:
    return bool(_MSG_ID.fullmatch(value)) and "=?" not in value and len(value) <= 900


def _plain(value: str) -> bool:
    """Safe to write as it is: printable ASCII that no reader would take for an encoded word."""
    return bool(_PRINTABLE.fullmatch(value)) and "=?" not in value


# -- encoding ----------------------------------------------------------------------------------


def _chunks(text: str, cost: Callable[[str], int], room: int) -> list[str]:
    """`text` cut between characters (never inside one) into pieces costing at most `room`."""
    pieces, current, used = [], "", 0
    for ch in text:
        c = cost(ch)
        if current and used + c > room:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += c
    return [*pieces, current] if current else pieces


def _q_cost(ch: str) -> int:
    return 1 if ch in _Q_SAFE or ch == " " else 3 * len(ch.encode("utf-8"))


def _q_word(text: str) -> str:
    out = "".join(ch if ch in _Q_SAFE else "_" if ch == " " else "".join(f"={b:02X}" for b in ch.encode("utf-8"))
                  for ch in text)
    return f"=?utf-8?q?{out}?="


def _b_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 words, each at most 75 characters: q when that is shorter, else b.
    The letters allowed unencoded in q are the few a phrase allows, so the words fit any header."""
    q_size = sum(_q_cost(ch) for ch in text)
    if q_size <= 4 * -(-len(text.encode("utf-8")) // 3):
        return [_q_word(p) for p in _chunks(text, _q_cost, _WORD_ROOM)]
    return [_b_word(p) for p in _chunks(text, lambda ch: len(ch.encode("utf-8")), _WORD_ROOM // 4 * 3)]


def fold(name: str, tokens: Sequence[str]) -> str:
    """Tokens joined by single spaces, a line broken (CRLF + space) before a token that would
    pass 78 characters. The caller keeps each token short enough for 998."""
    lines: list[str] = []
    line = ""
    room = SOFT - len(name) - 2
    for tok in tokens:
        if line and len(line) + 1 + len(tok) > room:
            lines.append(line)
            line, room = tok, SOFT - 1
        else:
            line = f"{line} {tok}" if line else tok
    lines.append(line)
    if len(name) + 2 + len(lines[0]) > HARD or any(len(x) >= HARD for x in lines):
        # never reached by the callers' own limits; a longer line would be re-read (so decoded)
        raise _refuse(name.lower(), "is too long to write", "Shorten it, then send again.")
    return "\r\n ".join(lines)


def _unfold(value: str) -> str:
    return value.replace("\r\n", "")


# -- header values -------------------------------------------------------------------------------


def unstructured(name: str, text: str) -> str:
    """A subject or other free text (already one line), folded, reading back exactly as `text`."""
    words = text.split(" ")
    if _plain(text) and all(len(w) <= HARD - len(name) - 3 for w in words):
        value = fold(name, words)
    else:
        value = fold(name, encoded_words(text))
    got = str(_read_back(name, _unfold(value)))
    if got != text:
        raise _refuse(name.lower(), "could not be written safely", "Shorten or retype the text, then send again.")
    return value


def _one_word(text: str) -> str:
    """`text` as a single encoded word, q or b, whichever is shorter."""
    return min(_q_word(text), _b_word(text), key=len)


def _phrase(field: str, name: str) -> list[str]:
    """A display name as header tokens: atoms, one quoted string, or atoms and encoded words.

    Two encoded words side by side are what readers disagree on (RFC 2047 drops the space
    between them, the standard library keeps it), so consecutive words that need encoding
    become one encoded word, longer than RFC 2047's 75 if the name needs it; every reader
    tried takes it."""
    if not name:
        return []
    if len(name.encode("utf-8")) > NAME_BYTES:
        raise _refuse(field, "the name is too long to write", f"Shorten the {field} name.")
    if _plain(name):
        if _ATOMS.fullmatch(name) and ".." not in name and not name.startswith("."):
            return name.split(" ")
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(quoted) <= 700:
            return [quoted]
    tokens: list[str] = []
    run: list[str] = []
    for word in [*name.split(" "), None]:
        if word is not None and not (_plain(word) and _ATOM.fullmatch(word)):
            run.append(word)
            continue
        if run:
            tokens.append(_one_word(" ".join(run)))
            run = []
        if word is not None:
            tokens.append(word)
    return tokens


def addr_spec(field: str, address: str) -> str:
    """An address as the header carries it: checked, the domain in IDNA 2008 A-labels (the form
    the envelope uses, engine/core/addresses.smtp_form). A local part that is not ASCII stays
    UTF-8 (RFC 6532): such mail goes only to a server that offers SMTPUTF8, which the sending
    side checks per item."""
    if not is_valid_address(address):
        raise _refuse(field, f"{address!r} is not an email address", "Correct the address.")
    try:
        wire, _needs_smtputf8 = smtp_form(address)
    except ValueError as exc:
        raise _refuse(field, f"{address!r} cannot be written ({exc})",
                      "Check the address, or ask the patient for another address.") from None
    return wire


_DOT_ATOM_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*"
                               r"@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")


def _simple_mailbox(display: str, spec: str) -> bool:
    """A display name of atoms single-spaced and a plain dot-atom address: written as they are,
    read back as they are (RFC 5322 §3.2.3, §3.4.1), so the strict parse-back may be skipped;
    everything else, the hostile included, is parsed back. Half the cost of building a message
    was that parse on names like "Mrs Priya Patel"."""
    if "=?" in display or "=?" in spec or not _DOT_ATOM_ADDRESS.fullmatch(spec):
        return False
    return not display or all(_ATOM.fullmatch(word) for word in display.split(" "))


def mailboxes(header: str, field: str, people: Sequence[tuple[str, str]]) -> str:
    """(display name, address) pairs as a folded address list that parses back to exactly them."""
    tokens: list[str] = []
    wanted = []
    for i, (display, address) in enumerate(people):
        spec = addr_spec(field, address)
        wanted.append((display, spec))
        mailbox = [*_phrase(field, display), f"<{spec}>"] if display else [spec]
        if i < len(people) - 1:
            mailbox[-1] += ","
        tokens += mailbox
    value = fold(header, tokens)
    if all(_simple_mailbox(display, spec) for display, spec in wanted):
        return value  # atoms and a dot-atom address: what a reader gets back is what was written
    parsed = _read_back(header, _unfold(value))
    if [(a.display_name, a.addr_spec) for a in parsed.addresses] != wanted:
        raise _refuse(field, "a name could not be written safely", f"Retype the {field} name, then send again.")
    return value


def references(field: str, ids: Sequence[str]) -> str:
    for v in ids:
        if not _is_msg_id(v):
            raise _refuse(field, f"{v[:60]!r} is not a message id", "Reply from the message itself, not a copy.")
    return fold(field, list(ids))


# Extra headers a message may carry besides X- names: unstructured text, none of them ours.
EXTRA_ALLOWED = frozenset({"auto-submitted", "precedence", "organization", "list-unsubscribe",
                           "list-unsubscribe-post"})


def field_name(name: str, reserved: frozenset[str]) -> str:
    """An extra header's name: an X- name or one of EXTRA_ALLOWED, never one we write ourselves
    (and never one the email package reads as addresses or dates, like Resent-From)."""
    lower = name.lower()
    if not _FIELD_NAME.fullmatch(name) or len(name) > 70 or lower in reserved or not (
            lower.startswith("x-") or lower in EXTRA_ALLOWED):
        raise _refuse("header", f"{name[:40]!r} cannot be used as a header name", "Use an X- name of letters and dashes.")
    return name


def file_name(value: str) -> str:
    """An attachment's name as we write it: one line, no double quotes, never empty."""
    return flatten(value).replace('"', "'") or "attachment"


def disposition(filename: str) -> str:
    """`attachment; filename=...` for a name from a file or from mail: one line (line ends become
    spaces), written plain when it is plain, else RFC 2231 (UTF-8, percent-encoded, in parts).
    A double quote becomes ' (no file system wants one, and readers strip a quoted name's quotes)."""
    name = file_name(filename)
    if _plain(name) and not set(name) & set('"\\;') and len(name) <= 900:  # a reader tried splits at ';'
        value = fold("Content-Disposition", ["attachment;", f'filename="{name}"'])
    else:
        # in parts cut between characters: some readers decode each part on its own
        parts = [_percent(p) for p in _chunks(name, lambda ch: len(_percent(ch)), 60)]
        if len(parts) == 1:
            tokens = ["attachment;", f"filename*=utf-8''{parts[0]}"]
        else:
            tokens = ["attachment;", *(f"filename*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{p}"
                                       + (";" if i < len(parts) - 1 else "") for i, p in enumerate(parts))]
        value = fold("Content-Disposition", tokens)
    got = _read_back("Content-Disposition", _unfold(value)).params.get("filename")
    if got != name:
        raise _refuse("attachment", "its file name could not be written safely", "Rename the file, then attach it again.")
    return value


def _percent(text: str) -> str:
    return quote(text.encode("utf-8"), safe="!#$&+-.^_`|~")


_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,100}")


def media_type(value: str) -> tuple[str, str]:
    """An attachment's type as (maintype, subtype): a type from mail or a guess is used only when
    it is a plain RFC 6838 name, else application/octet-stream (the data goes as it is)."""
    value = value.strip().lower()
    if not _MEDIA_TYPE.fullmatch(value):
        return "application", "octet-stream"
    maintype, _, subtype = value.partition("/")
    return maintype, subtype


def parameters(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Content-Type parameters we add (method=REQUEST, charset=utf-8): tokens only."""
    for name, value in params:
        if not (_TOKEN.fullmatch(name) and _TOKEN.fullmatch(value)):
            raise _refuse("attachment", f"the parameter {name[:40]!r} cannot be written", "Attach the file again.")
    return dict(params)
