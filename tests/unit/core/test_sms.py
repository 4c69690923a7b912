"""Segment counting against known examples, mobile numbers, quiet hours, opt-out words."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from engine.core import sms

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize("text,encoding,parts,left", [
    ("", "gsm7", 0, 160),
    ("a", "gsm7", 1, 159),
    ("a" * 160, "gsm7", 1, 0),
    ("a" * 161, "gsm7", 2, 145),  # 153 + 8
    ("a" * 306, "gsm7", 2, 0),
    ("a" * 307, "gsm7", 3, 152),
    ("€" * 80, "gsm7", 1, 0),  # the euro sign is an extension character: two septets
    ("€" * 81, "gsm7", 2, 153 - 10),  # 76 in the first part, 5 in the second
    ("^", "gsm7", 1, 158), ("{", "gsm7", 1, 158), ("a{b}c", "gsm7", 1, 153),
    ("a" * 152 + "€" + "a" * 152, "gsm7", 3, 152),  # the € does not split across parts: 152 | €+151 | 1
    ("a" * 153 + "€" + "a" * 151, "gsm7", 2, 0),  # it fits exactly: 153 | €+151
    ("Café £5 @ 10:00", "gsm7", 1, 145),  # é, £ and @ are GSM-7
    ("ça", "ucs2", 1, 68),  # lower-case ç is not
    ("😀", "ucs2", 1, 68),  # an emoji: two UTF-16 units
    ("😀" * 35, "ucs2", 1, 0),
    ("😀" * 36, "ucs2", 2, 67 - 6),  # 33 per part (66 units): a surrogate pair never splits
    ("a" * 70, "gsm7", 1, 90), ("a" * 70 + "ê", "ucs2", 2, 67 - 4),
])
def test_known_examples(text: str, encoding: str, parts: int, left: int) -> None:
    s = sms.segments(text)
    assert (s.encoding, s.parts, s.left) == (encoding, parts, left)


def test_describe() -> None:
    assert sms.segments("a" * 161).describe() == "2 messages, 145 characters left"
    assert sms.segments("a").describe() == "1 message, 159 characters left"


@given(st.text(max_size=600))
def test_parts_are_enough_and_no_fewer_than_needed(text: str) -> None:
    s = sms.segments(text)
    if not text:
        assert s.parts == 0
        return
    single, part = sms.SINGLE[s.encoding], sms.PART[s.encoding]
    assert s.units <= (single if s.parts == 1 else s.parts * part)
    assert s.parts == 1 or s.units > single
    assert s.parts >= -(-s.units // part) or s.parts == 1


@pytest.mark.parametrize("text,region,e164", [
    ("07700 900002", "GB", "+447700900002"), ("+44 7700 900002", "GB", "+447700900002"),
    ("07911 123456", "gb", "+447911123456"), ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "GB", "+33612345678"),
])
def test_mobiles_normalised_to_e164(text: str, region: str, e164: str) -> None:
    assert sms.normalise_mobile(text, region) == e164


@pytest.mark.parametrize("text", ["01225 555010", "0800 123 4567", "12345", "not a number", "",
                                  "07911 123456\u2028", "07911\r\n123456", "\u202e07911 123456", "0" * 40])
def test_not_mobiles_refused(text: str) -> None:
    with pytest.raises(sms.NotAMobile):
        sms.normalise_mobile(text, "GB")


def test_quiet_hours_across_midnight_and_daylight_saving() -> None:
    span = sms.parse_quiet_hours("20:00-08:00")
    assert span == (time(20), time(8))
    assert sms.in_quiet_hours(datetime(2026, 6, 1, 19, 30, tzinfo=timezone.utc), LONDON, span)  # 20:30 BST
    assert not sms.in_quiet_hours(datetime(2026, 12, 1, 19, 30, tzinfo=timezone.utc), LONDON, span)  # 19:30 GMT
    assert sms.quiet_ends(datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc), LONDON, span) == \
        datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc)  # 08:00 BST, the morning the clocks went forward
    assert sms.parse_quiet_hours("") is None
    for bad in ("20-08", "20:00-20:00", "25:00-08:00", "20:00-08:00\n"):
        with pytest.raises(ValueError):
            sms.parse_quiet_hours(bad)


@pytest.mark.parametrize("body,out", [("STOP", True), ("stop", True), (" Stop. ", True), ("UNSUBSCRIBE", True),
                                      ("please stop sending me these reminders about my teeth", False),
                                      ("C", False), ("YES", False), ("STOP" + "\u200b", True)])
def test_opt_out_words(body: str, out: bool) -> None:
    assert sms.is_opt_out(body) is out


CONFIRM = sms.parse_words(sms.CONFIRM_WORDS)
OPT_OUT = sms.parse_words(sms.OPT_OUT_WORDS)


@pytest.mark.parametrize("body,answer", [
    ("C", "confirm"), ("c.", "confirm"), (" Yes! ", "confirm"), ("Y", "confirm"), ("yes please", ""),
    ("Stop", "opt-out"), ("STOP\u200b", "opt-out"), ("S T O P", "opt-out"), ("stop all", "opt-out"),
    ("C" + " " * 40, ""),  # longer than an answer: a person reads it
    ("", ""), ("😀", ""), ("Cc", ""), ("\u202eC", "confirm"),  # the bidi control is dropped, not obeyed
])
def test_reply_answers_with_the_default_words(body: str, answer: str) -> None:
    assert sms.classify_reply(body, CONFIRM, OPT_OUT) == answer


def test_words_the_practice_chooses() -> None:
    assert sms.parse_words("oui, c  sí,OUI") == ("OUI", "C", "SÍ")
    assert sms.classify_reply("Sí", ("SÍ",), ("STOP",)) == "confirm"
    assert sms.classify_reply("STOP", ("STOP",), ("STOP",)) == "opt-out"  # in both: opting out wins
    for bad in ("C, YE5", "Y-E-S", "A" * 21, "C\u2028", "C;YES", "C, " * 200):
        with pytest.raises(ValueError):
            sms.parse_words(bad)


def test_a_confirmation_answers_the_appointment_last_reminded() -> None:
    t = datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    coming = [("A", t.replace(day=28)), ("B", t.replace(day=29)), ("C", t.replace(day=30))]
    assert sms.appointment_to_confirm(coming, {}) == "A"  # nothing reminded: the soonest
    assert sms.appointment_to_confirm(coming, {"B": t, "C": t.replace(hour=9)}) == "B"
    assert sms.appointment_to_confirm(coming, {"Z": t.replace(hour=11)}) == "A"  # not coming: ignored
    assert sms.appointment_to_confirm([], {"Z": t}) == ""


_MOBILE_REGIONS = ("GB", "IE", "FR", "DE", "US", "AU", "PL", "IN", "NG", "JP")


def _example_mobile(region: str, last: int) -> str:
    """A valid mobile of `region` (phonenumbers' example, its last digits varied)."""
    import phonenumbers
    example = phonenumbers.format_number(phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE), phonenumbers.PhoneNumberFormat.E164)
    varied = example[:-3] + f"{last:03d}"
    return varied if phonenumbers.is_valid_number(phonenumbers.parse(varied)) else example


@given(st.sampled_from(_MOBILE_REGIONS), st.sampled_from(_MOBILE_REGIONS), st.integers(0, 999))
def test_a_shown_mobile_reads_back_as_the_same_number(number_of: str, practice: str, last: int) -> None:
    """What reception sees is what she can type back: the shown form of any stored mobile, read as
    the practice's country reads typed numbers, is the stored number."""
    stored = _example_mobile(number_of, last)
    shown = sms.shown_mobile(stored, practice)
    assert sms.normalise_mobile(shown, practice) == stored
    assert shown.startswith("+") == (number_of != practice), shown  # no two of these countries share a code


@pytest.mark.parametrize("stored,shown", [
    ("+447700900002", "07700 900002"),  # the practice's own country: as it is dialled there
    ("+33612345678", "+33 6 12 34 56 78"),  # another country: with its code
    ("07700", "07700"), ("", ""), ("+44 7700", "+44 7700"),  # not a number: as stored
    ("+44\u202e7700900002", "+44\u202e7700900002"),  # a hidden character: as stored, for plain.shown to show
])
def test_a_stored_mobile_as_reception_reads_it(stored: str, shown: str) -> None:
    assert sms.shown_mobile(stored, "GB") == shown
