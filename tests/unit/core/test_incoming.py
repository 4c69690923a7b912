from __future__ import annotations

from hypothesis import given, strategies as st

from engine.core import incoming
from tests.conftest import ROOT


def test_every_hostile_file_gives_facts_and_content_without_raising() -> None:
    for f in sorted((ROOT / "fixtures" / "hostile").glob("*.eml")):
        raw = f.read_bytes()
        facts = incoming.facts(raw)
        assert len(facts.subject) <= incoming.MAX_HEADER and "\n" not in facts.subject
        incoming.content(raw)


def test_encoded_words_in_any_charset() -> None:
    f = incoming.facts(b"From: =?utf-8?q?Zo=C3=AB?= <zoe@x.test>\r\nSubject: =?iso-8859-1?q?Caf=E9?=\r\n\r\n")
    assert (f.from_name, f.from_address, f.subject) == ("Zoë", "zoe@x.test", "Café")


@given(st.binary(max_size=3000))
def test_facts_never_raise_on_any_bytes(raw: bytes) -> None:
    incoming.facts(raw)
    incoming.content(raw)


@given(st.text(max_size=200))
def test_safe_filename_has_no_path_or_control_characters(name: str) -> None:
    safe = incoming.safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ord(c) >= 32 and c != "\x7f" for c in safe) and len(safe) <= 120


# -- the quick header reading gives what the email package gives -----------------------
_names = st.sampled_from(["From", "from", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                          "Auto-Submitted", "Precedence", "X-Autoreply", "To", "X-Other"])
_ascii_value = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
_word = st.text(alphabet="abcXYZ019'-.é", min_size=1, max_size=8)
_addr = st.builds(lambda a, b: f"{a}@{b}.test", st.text(alphabet="ab.c_+-1", min_size=1, max_size=8),
                  st.text(alphabet="ab-c1", min_size=1, max_size=6))
_from = st.one_of(
    _addr,
    st.builds(lambda ws, a, sp: f"{' '.join(ws)}{sp}<{a}>", st.lists(_word, min_size=1, max_size=3), _addr,
              st.sampled_from(["", " ", "  ", "\t"])),
    _ascii_value,
)


@given(st.lists(st.tuples(_names, st.one_of(_from, _ascii_value),
                          st.sampled_from(["", "\r\n  more", "\n\tfolded =?utf-8?q?Zo=C3=AB?="])), max_size=8),
       st.sampled_from([b"\r\n", b"\n"]), st.binary(max_size=40))
def test_quick_header_reading_agrees_with_the_email_package(fields: list[tuple[str, str, str]], nl: bytes,
                                                           body: bytes) -> None:
    block = nl.join(f"{n}: {v}{fold}".encode("utf-8") for n, v, fold in fields)
    raw = block + nl + nl + body
    assert incoming.facts(raw) == incoming.facts(raw, quick=False)


@given(_from)
def test_quick_from_reading_agrees_with_parseaddr(value: str) -> None:
    assert incoming._address(value) == incoming._address(value, quick=False)


def test_every_hostile_and_demo_file_reads_the_same_quick_or_not() -> None:
    for f in sorted((ROOT / "fixtures").rglob("*.eml")):
        raw = f.read_bytes()
        assert incoming.facts(raw) == incoming.facts(raw, quick=False), f.name
