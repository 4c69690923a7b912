"""kiosk/plain.py on its own: whatever the text, Qt shows exactly it (hidden characters
written out), never its markup."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QTextDocument

from engine.core.names import hidden
from kiosk import plain

# text with markup, entities and line breaks in it, as a stranger or a server writes it
texts = st.lists(st.one_of(st.sampled_from(["<b>", "</b>", "<img src=file:///etc/passwd>", "&lt;", "&amp;", "<qt>",
                                            "<!DOCTYPE html>", "\n", "\u202e", "\r", " ", "  ", "<p>", "x"]),
                           st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)),
                 max_size=12).map("".join)


def _drawn(text: str) -> str:
    """The text as Qt's tooltip would draw it."""
    if not Qt.mightBeRichText(text):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


@given(texts)
@settings(max_examples=200, deadline=None)
def test_a_tooltip_shows_its_text_and_no_markup(qapp: object, text: str) -> None:
    def same(t: str) -> str:  # what a person can tell apart: not a trailing line break, nor a no-break space
        return t.replace("\u2029", "\n").replace("\xa0", " ").rstrip("\n")
    assert same(_drawn(plain.tip(text))) == same(plain.visible(text))


@given(texts)
@settings(max_examples=100, deadline=None)
def test_a_label_and_a_message_box_show_their_text(qapp: object, text: str) -> None:
    label = plain.label(text)
    box = plain.box(plain.QMessageBox.Icon.Information, "t", text)
    for widget in (label, box):
        assert widget.textFormat() == Qt.TextFormat.PlainText
        assert widget.text() == plain.visible(text)
        assert not any(hidden(c) for c in widget.text() if c != "\n")
