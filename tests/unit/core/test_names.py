"""Names from outside, saved and shown: the properties a practice relies on."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from engine.core import incoming
from engine.core.names import MAX_BYTES, MAX_CHARS, hidden, reserved, saved_name, shown_name

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HOSTILE = ["\r", "\n", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\ufeff", "\u200b", "\ud800", "/", "\\",
           ".", " ", ":", "*", *BIDI]
DEVICES = ["CON", "prn", "Aux", "nul", "COM1", "com9", "LPT1", "lpt9", "COM¹", "CONIN$"]

# names a stranger would choose: ordinary text salted with everything that hurts
hostile_names = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.sampled_from(DEVICES), st.text(min_size=1, max_size=12)),
             max_size=30).map("".join),
    st.builds(lambda dev, ext, pad: f"{dev}{pad}{ext}", st.sampled_from(DEVICES),
              st.sampled_from(["", ".txt", ".tar.gz", ".", " .pdf"]), st.sampled_from(["", " ", "  "])),
)
_folder = Path(tempfile.mkdtemp(prefix="names-"))


def _unsafe(name: str) -> list[str]:
    problems = [f"{c!r} hidden" for c in name if hidden(c)]
    problems += [f"{c!r} path or refused" for c in name if c in '/\\<>:"|?*' or c == os.sep]
    if reserved(name):
        problems.append("a device name")
    if not name or name.startswith(".") or name.endswith((".", " ")):
        problems.append("empty, or leading dot, or trailing dot/space")
    if len(name) > MAX_CHARS or len(name.encode("utf-8")) > MAX_BYTES:
        problems.append("too long")
    return problems


@given(hostile_names)
@example("invoice\u202efdp.exe")
@example("../../etc/passwd")
@example("C:\\Windows\\system32\\CON.txt")
@example("nul.tar.gz")
@example("CON" + " " * 200 + "x.txt")
@example("é" * 200 + ".pdf")
@settings(max_examples=400)
def test_a_saved_name_is_safe_in_any_folder_and_stays_the_same_when_saved_again(name: str) -> None:
    safe = saved_name(name)
    assert _unsafe(safe) == []
    assert saved_name(safe) == safe  # idempotent: a saved name is its own saved name
    path = _folder / safe
    assert path.resolve().parent == _folder.resolve()  # saving it stays in that folder
    path.write_bytes(b"x")
    assert path.read_bytes() == b"x" and [p.name for p in _folder.iterdir()] == [safe]
    path.unlink()


@given(hostile_names)
def test_incoming_attachments_get_saved_names(name: str) -> None:
    assert _unsafe(incoming.safe_filename(name)) == []


@pytest.mark.parametrize(("given_name", "saved"), [
    ("invoice\u202efdp.exe", "invoicefdp.exe"),  # the real extension shows
    ("../../crown.png", "crown.png"),
    ("CON", "_CON"), ("con.txt", "_con.txt"), ("LPT9.tar.gz", "_LPT9.tar.gz"), ("COM1 .pdf", "_COM1.pdf"),
    ("CONSOLE.txt", "CONSOLE.txt"), ("COM10", "COM10"),
    ("report. . .", "report"), ("  .hidden", "hidden"), ("", "attachment"), ("\u202e\u200f", "attachment"),
    ("a\r\nb\u2028c.pdf", "abc.pdf"), ('x<y>:z"|?*.txt', "x_y__z____.txt"),
    ("0\xa0.", "0"),  # hypothesis found it: stripping the dot left a no-break space at the end
])
def test_saved_names_by_example(given_name: str, saved: str) -> None:
    assert saved_name(given_name) == saved


def test_a_long_name_keeps_its_extension() -> None:
    name = saved_name("x" * 500 + ".pdf")
    assert name.endswith(".pdf") and len(name) == MAX_CHARS
    wide = saved_name("😀" * 100 + ".jpeg")
    assert wide.endswith(".jpeg") and len(wide.encode("utf-8")) <= MAX_BYTES


@given(st.text(max_size=200))
def test_a_shown_name_has_nothing_hidden_and_leaves_ordinary_text_alone(text: str) -> None:
    shown = shown_name(text)
    assert not any(hidden(c) for c in shown)
    if not any(hidden(c) for c in text):
        assert shown == text


def test_bidi_and_controls_are_shown_as_their_escapes() -> None:
    assert shown_name("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"
    assert shown_name("Bo\u2066b\u2069 Ng\r\n") == "Bo\\u2066b\\u2069 Ng\\u000d\\u000a"
    assert shown_name("\U000e0001x") == "\\U000e0001x"
