"""The redactor: every directory entry goes in any case or Unicode form; nothing else changes."""

from __future__ import annotations

import csv
import re
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.core.redaction import PLACEHOLDER, fold, private_data, redact
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures" / "demo"
SHORT = [{"first_name": "Bo", "last_name": "Ng", "email": "bo.ng@mailhome.example", "mobile": "07700 900901",
          "date_of_birth": "1988-07-09"},
         {"first_name": "Li", "last_name": "Wu", "email": "li.wu@mailhome.example", "mobile": "+44 7700 900902"}]


def demo_people() -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    for kind in ("patients", "providers", "specialists"):
        with (FIXTURES / f"{kind}.csv").open(encoding="utf-8") as f:
            people += list(csv.DictReader(f))
    return people + SHORT


PEOPLE = demo_people()
PRIVATE = private_data(PEOPLE, keep_addresses=["reception@brightsmile.example"])


def survives(entry: str, output: str) -> bool:
    """The entry is still readable in the output as a whole word, in any case or form."""
    for p in PLACEHOLDER.values():
        output = output.replace(p, "|")
    pattern = re.compile(r"(?<![^\W_])" + re.escape(fold(entry)) + r"(?![^\W_])")
    return bool(pattern.search(fold(output)))


# -- the cases the issue found ---------------------------------------------------------------------
def test_short_names_go_but_words_containing_them_stay() -> None:
    assert redact("550 mailbox of Bo Ng full; Li said hi", PRIVATE) == "550 mailbox of [name] [name] full; [name] said hi"
    assert redact("500 Line too long", PRIVATE) == "500 Line too long"
    assert redact("552 5.3.4 message too large", PRIVATE) == "552 5.3.4 message too large"


def test_addresses_go_whole_with_their_domain_and_the_punctuation_stays() -> None:
    assert redact("'zoe.lefevre@patientmail.example' refused", PRIVATE) == "'[address]' refused"
    assert redact('"john smith"@example.org is unknown', PRIVATE) == "[address] is unknown"
    assert redact('from="stranger@else.example"', PRIVATE) == 'from="[address]"'
    assert redact("<a.b@x.org>, (c@y.org).", PRIVATE) == "<[address]>, ([address])."
    assert redact("x='reception@brightsmile.example'", PRIVATE) == "x='reception@brightsmile.example'"


def test_phones_and_dates_of_birth_in_any_shape() -> None:
    for phone in ("07700 900002", "07700900002", "+44 7700 900002", "+44 (0)7700 900002", "0044 7700-900-002"):
        assert redact(f"call {phone} now", PRIVATE) == "call [phone] now", phone
    assert redact("call 7700900002 now", PRIVATE) == "call [phone] now"  # directory number, no 0
    for dob in ("1991-03-13", "13/03/1991", "03/13/1991", "13.03.91", "13 March 1991", "March 13th, 1991",
                "19910313"):
        assert redact(f"born {dob}.", PRIVATE) == "born [date].", dob
    assert redact("born 1991-03-13T00:00:00", PRIVATE) == "born [date]T00:00:00"  # a birth date, even so
    assert redact("(212) 555-0142 or 555.0142.99", PRIVATE) == "[phone] or [phone]"


def test_timestamps_counts_codes_and_addresses_of_machines_stay() -> None:
    kept = ["2026-11-30 17:15:43,123 INFO practicemail.smtp: sent", "Mon, 30 Nov 2026 17:15:43 +0000",
            "uidvalidity 1732981234 size 10485760", "connect to 192.168.1.10 port 587", "took 0.0012345 s",
            "421 4.7.0 try again", "17  18  19  20", "Python 3.11.4 Linux-6.1.0-13-amd64-x86_64"]
    for text in kept:
        assert redact(text, PRIVATE) == text, text


def test_any_case_and_unicode_form() -> None:
    for name in ("Zoë Lefèvre", "ZOË LEFÈVRE", "zoe\u0308 lefe\u0300vre", "Zoe Lefevre", "ＰＡＴＥＬ", "O’Brien",
                 "OBRIEN", "Łukasz", "LUKASZ", "Fitz\u200bgerald", "ﬁtzgerald-SMYTHE", "Małgorzata"):
        assert "[name]" in redact(name, PRIVATE) and not any(c.isalpha() for c in
                                                             redact(name, PRIVATE).replace("[name]", "")), name


def test_names_hidden_in_encoded_words() -> None:
    assert redact("550 unknown =?utf-8?q?Zo=C3=AB_Lef=C3=A8vre?= here", PRIVATE) == "550 unknown [name] [name] here"
    assert redact("=?utf-8?b?Qm8gTmc=?=", PRIVATE) == "[name] [name]"
    assert redact("=?utf-8?q?hello?= =?bogus?q?x?=", PRIVATE) == "=?utf-8?q?hello?= =?bogus?q?x?="


# -- the properties --------------------------------------------------------------------------------
def entries() -> list[str]:
    out: list[str] = []
    for p in PEOPLE:
        out += [p["first_name"], p["last_name"], f"{p['first_name']} {p['last_name']}", p.get("email", ""),
                p.get("mobile", ""), p.get("date_of_birth", "")]
    return sorted({e for e in out if e})


FORMS = [lambda s: s, str.upper, str.lower, str.casefold, lambda s: unicodedata.normalize("NFD", s),
         lambda s: unicodedata.normalize("NFKC", s), lambda s: s.title()]
SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", "'", '"', "(", ")", "<", ">", ": ", "; ", "/", "[", "]",
                              "\u00a0", "\u2028", "*", "=", " - "])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(entry=st.sampled_from(entries()), form=st.sampled_from(FORMS), before=st.text(max_size=40),
       after=st.text(max_size=40), left=SEPARATORS, right=SEPARATORS)
@example(entry="Li", form=FORMS[0], before='"', after="", left="", right='"')
def test_no_directory_entry_survives_any_surrounding_text(entry: str, form, before: str, after: str,  # noqa: ANN001
                                                          left: str, right: str) -> None:
    text = f"{before}{left}{form(entry)}{right}{after}"
    assert not survives(entry, redact(text, PRIVATE)), (text, redact(text, PRIVATE))


def _runs(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", fold(text)))


TERM_RUNS = set().union(*(_runs(e) for e in entries())) | {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                                           "aug", "sep", "sept", "oct", "nov", "dec"}
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüçñåøÆЖж", min_size=1, max_size=10) \
    .filter(lambda w: not _runs(w) & TERM_RUNS)
GLUE = st.sampled_from(["", "", '"', "'", "(", ")", "<", ">", ".", ",", ";", ":", "!", "?", "*", "-", "/"])
TOKEN = st.one_of(st.tuples(GLUE, WORDS, GLUE).map("".join), st.integers(1, 99).map(str))


@settings(max_examples=300)
@given(tokens=st.lists(TOKEN, max_size=30), joins=st.lists(st.sampled_from([" ", "  ", "\n", ", ", "; "]),
                                                           min_size=30, max_size=30))
def test_text_without_private_data_is_unchanged(tokens: list[str], joins: list[str]) -> None:
    text = "".join(t + j for t, j in zip(tokens, joins))
    assert redact(text, PRIVATE) == text
