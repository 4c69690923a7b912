"""Where the practice signature goes: under the letter, above anything quoted, once (#20)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.core import signature

SIG = "--\nBright Smile Dental\n14 River Street\n01225 555 010\n"
# a letter's lines: no line that starts a quote ("> ", "On ... wrote:", a forward's header)
letter_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
                      max_size=30).filter(lambda s: not signature._QUOTE_STARTS.match(s))


@given(st.lists(letter_line, max_size=8))
def test_added_once_under_the_letter_and_never_again(lines: list[str]) -> None:
    """Whatever the letter, the signature ends it, its words come first unchanged, and adding it
    again (a draft opened and sent with the box still ticked) changes nothing."""
    body = "\n".join(lines)
    signed = signature.add_to_text(body, SIG)
    assert signature.present(signed, SIG)
    assert signed.rstrip("\n").endswith("01225 555 010")
    assert signed.startswith(body.rstrip()) or not body.strip()
    assert signature.add_to_text(signed, SIG) == signed


def test_above_a_reply_quote_even_when_the_quote_holds_our_own_signature() -> None:
    """A patient's reply quotes our last email, signature and all: that is not ours to count."""
    body = "Thank you, see you then.\n\nOn 2026-11-20 10:00, Grace wrote:\n> Fine\n> --\n> Bright Smile Dental\n"
    signed = signature.add_to_text(body, SIG)
    mine, quote = signed.split("On 2026-11-20")
    assert mine.startswith("Thank you, see you then.\n\n--\nBright Smile Dental\n14 River Street")
    assert quote.endswith("> Bright Smile Dental")


def test_above_a_forwarded_message() -> None:
    body = "Please see below.\n\n---- Forwarded message ----\nFrom: x@y\n\nwords\n"
    signed = signature.add_to_text(body, SIG)
    assert signed.index("Bright Smile Dental") < signed.index("---- Forwarded message ----")


def test_a_template_that_already_ends_with_the_signature_gets_none_more() -> None:
    """Spacing, Windows line ends, a Unicode line separator and a no-break space aside."""
    body = "Dear Grace,\r\n\r\nSee you soon.\r\n\r\n-- \r\nBright Smile Dental\u2028 14 River Street\n01225\xa0555 010"
    assert signature.add_to_text(body, SIG) == body
    assert signature.add_to_text("Dear Grace,", "") == "Dear Grace,"  # none set up: nothing


def test_the_html_part_gets_it_inside_the_body_once_and_as_text() -> None:
    html = "<html><body><p>Dear Grace</p></BODY></html>"
    hostile = "--\nBright <b>Smile</b> & Co\n"
    signed = signature.add_to_html(html, hostile)
    assert signed == "<html><body><p>Dear Grace</p><p>--<br>Bright &lt;b&gt;Smile&lt;/b&gt; &amp; Co</p></BODY></html>"
    assert signature.add_to_html(signed, hostile) == signed
    own = signature.add_to_html("<p>Hi</p>", SIG, "<p><i>Bright Smile Dental</i></p>")
    assert own == "<p>Hi</p><p><i>Bright Smile Dental</i></p>"  # the signature template's own HTML
