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
