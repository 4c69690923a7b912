"""Template mistakes in the practice's words: any template text, however hostile, gets a
sentence with where it is and none of the template engine's vocabulary."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import templates as tpl
from kiosk.template_words import problem_text

PIECES = st.sampled_from(["{{", "}}", "{%", "%}", "if", "endif", "for", "patient.first_name", "x", ")", "!", "|",
                          "\n", "\r\n", "\u2028", "\u202e", "\x0b", "=?utf-8?q?a?=", " ", "'", '"', "{#", "#}"])


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_every_mistake_is_said_in_plain_words(body: str) -> None:
    for p in tpl.check(tpl.Template("X", "d", "c", "s", body)):
        text = problem_text(p)
        assert text.startswith("Body") and "line" in text
        for jinja in ("syntax error", "end of print statement", "token", "Jinja"):
            assert jinja not in text, text
