"""`outside_text`: whatever Python made of bytes from outside, text every store can write, with
the bytes read back where they were escaped (nothing lost) and other text left alone."""

from __future__ import annotations

import os

from hypothesis import given, strategies as st

from engine.core.outside import outside_text


@given(st.binary(max_size=80))
def test_any_escaped_bytes_become_writable_text_and_utf8_is_read_back(raw: bytes) -> None:
    escaped = raw.decode("utf-8", "surrogateescape")  # what os.listdir, sys.argv and email give
    text = outside_text(escaped)
    text.encode("utf-8")
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert len(text) >= 1


@given(st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters()))
def test_any_lone_surrogate_goes_and_other_text_stays(text: str) -> None:
    out = outside_text(text)
    out.encode("utf-8")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert out is text


def test_a_latin1_file_name_from_the_file_system_reads_as_latin1() -> None:
    assert outside_text(os.fsdecode(b"R\xf6ntgen.jpg")) == "Röntgen.jpg"
    assert outside_text("late \ud83d") == "late \ufffd"
