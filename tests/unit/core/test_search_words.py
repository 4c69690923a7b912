"""What is typed in a patient search, as the words looked up (engine/core/directory.search_words).

Each word is one pass over the patient index; 10,000 characters pasted into a find box ("a a a
...", a paste of a letter) were 5,000 passes over every patient: 6 s at 20,000 patients, on the
GUI thread for compose, the text window and File... (kiosk/patient_choice.py). A word repeated,
or found inside another word typed, adds nothing to what matches."""

from __future__ import annotations

from hypothesis import given, strategies as st

from engine.core.directory import search_words

TYPED = st.text(st.sampled_from("ab A,\u00df\u2028 \t\n"), max_size=40)


def test_a_pasted_10000_characters_of_one_letter_is_one_word() -> None:
    assert search_words("a " * 5000) == ["a"]
    assert search_words("an anna Ann, na") == ["anna"]


@given(TYPED, st.text(st.sampled_from("abnAß s"), max_size=20))
def test_the_words_match_what_every_word_typed_matches(typed: str, haystack: str) -> None:
    words = search_words(typed)
    every = [w for w in typed.replace(",", " ").casefold().split() if w]
    hay = haystack.casefold()
    assert all(w in hay for w in words) == all(w in hay for w in every)
    assert len(words) == len(set(words)) and not any(a != b and a in b for a in words for b in words)
