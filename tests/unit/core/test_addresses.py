"""Addresses: validation says exactly what sending will do with them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from engine.core.addresses import is_valid_address, smtp_form

HOSTILE = ["\r", "\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\u202e", "\u200f", "\x00", " ", "\t", "<", ">", "@",
           "\u0000", "\ufeff", "\u061c", "\u2066"]


@pytest.mark.parametrize(("address", "wire", "utf8"), [
    ("idn@b\u00fccher.example", "idn@xn--bcher-kva.example", False),
    ("a@stra\u00dfe.de", "a@xn--strae-oqa.de", False),  # IDNA 2008: not "strasse.de", another domain
    ("Ab@B\u00dcCHER.example", "Ab@xn--bcher-kva.example", False),
    ("j\u00f6s\u00e9@example.org", "j\u00f6s\u00e9@example.org", True),
    ("pat@example.com", "pat@example.com", False),
])
def test_the_wire_form(address: str, wire: str, utf8: bool) -> None:
    assert smtp_form(address) == (wire, utf8) and is_valid_address(address)


@pytest.mark.parametrize("address", ["a@b", "a@x..org", "a@-x.org", "a..b@x.org", "@x.org", "a@", "a@x_y.org",
                                     "a@" + "b" * 64 + ".org", "x" * 65 + "@x.org"])
def test_not_addresses(address: str) -> None:
    assert not is_valid_address(address)


@settings(max_examples=300)
@given(st.text(max_size=40), st.sampled_from(HOSTILE), st.integers(0, 40))
def test_hostile_characters_never_pass(text: str, bad: str, at: int) -> None:
    for address in (f"pa{bad}t@example.org", f"pat@exa{bad}mple.org", f"{text[:at]}{bad}{text[at:]}@example.org"):
        assert not is_valid_address(address)


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_validation_says_what_sending_will(text: str) -> None:
    try:
        wire, utf8 = smtp_form(text)
    except ValueError:
        assert not is_valid_address(text)
        return
    assert is_valid_address(text) == (len(text) <= 254 and len(wire.encode("utf-8")) <= 254)
    domain = wire.rpartition("@")[2]
    assert domain.isascii() and wire.isascii() != utf8  # only a local part can need SMTPUTF8
    assert not any(ch in wire for ch in "\r\n\x00 <>")
