"""The whole demo directory planted in server replies, exceptions and logs never reaches the
diagnostic export without the opt-in, in any case or Unicode form; the server's code and
its useful words still do."""

from __future__ import annotations

import csv
import html
import json
import logging
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from engine.admin.diagnostics import export
from engine.admin.facade import Admin
from engine.service.app import App
from engine.service.demo import FIXTURES, load_demo
from engine.service.engine import Engine
from tests.integration.helpers import configure, draft, open_practice
from tools.fakemail import FakeMail

SHORT = [{"id": "P901", "first_name": "Bo", "last_name": "Ng", "email": "bo.ng@mailhome.example",
          "mobile": "07700 900901", "date_of_birth": "1988-07-09"},
         {"id": "P902", "first_name": "Li", "last_name": "Wu", "email": "li.wu@mailhome.example",
          "mobile": "+44 7700 900902", "date_of_birth": "2001-12-24"}]
FORMS = (lambda s: s, str.upper, lambda s: unicodedata.normalize("NFD", s), str.casefold)
PER_REPLY = 6


def directory() -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    for kind in ("patients", "providers", "specialists"):
        with (FIXTURES / f"{kind}.csv").open(encoding="utf-8") as f:
            people += list(csv.DictReader(f))
    return people + SHORT


def entries(person: dict[str, str]) -> list[str]:
    """What of one person must never leave: each name, the whole name, address, phone, birth."""
    out = [person["first_name"], person["last_name"], f"{person['first_name']} {person['last_name']}",
           person.get("email", ""), person.get("mobile", ""), person.get("date_of_birth", "")]
    return [e for e in out if e]


def spoken(person: dict[str, str], form: Any) -> str:
    """The person as a server might quote them back."""
    dob = person.get("date_of_birth", "")
    born = f" born {dob}" if dob else ""
    if dob and form is str.upper:
        y, m, d = dob.split("-")
        born = f" born {d}/{m}/{y}"
    name = f"{person['first_name']} {person['last_name']}"
    return form(f"{name} <{person['email']}> \"{name}\"@example.org tel {person.get('mobile', '')}{born}")


def ascii_only(text: str) -> str:
    """What an SMTP server can say (its replies are ASCII): accents dropped, as servers do."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.translate(str.maketrans("łŁøØ", "lLoO")).encode("ascii", "ignore").decode()


def plant(data_dir: Path, fakemail: FakeMail) -> list[dict[str, str]]:
    people = directory()
    with open_practice(data_dir) as p:
        load_demo(p)
        configure(p, fakemail)
        p.directory.import_rows("patients", [(n, row) for n, row in enumerate(SHORT, 1)])
        e = Engine(p)
        e.start()
        quotes = [spoken(person, form) for form in FORMS for person in people]
        chunks = [quotes[i:i + PER_REPLY] for i in range(0, len(quotes), PER_REPLY)]
        for n, chunk in enumerate(chunks):
            fakemail.faults.add("smtp", "data", "reply", code=552, times=1,
                                text="5.3.4 message too large: " + ascii_only("; ".join(chunk)))
            person = people[n % len(people)]
            e.outbox.add_draft(draft(to=person["email"],
                                     subject=f"{person['first_name']}'s crown"), e.clock.now())
        e.send_receive_now()
        e.heartbeat.note_error(e.clock.now(), "receive", "imaplib.error: LOGIN refused for " + "; ".join(quotes),
                               "Check the password.")
        logging.getLogger("practicemail.service").warning("planted: %s", " | ".join(quotes))
        e.stop()
    return people


def readable(name: str, data: bytes) -> str:
    """A file's text as a person reads it (JSON escapes and HTML entities undone)."""
    text = data.decode("utf-8", "replace")
    if name.endswith(".json"):
        return json.dumps(json.loads(text), ensure_ascii=False)
    if name.endswith(".html"):
        return html.unescape(text)
    return text


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def leaks(text: str, people: list[dict[str, str]]) -> set[str]:
    """Entries found as whole words in `text` in any case or normal form."""
    folded = {fold(text), unicodedata.normalize("NFD", fold(text))}
    found = set()
    for person in people:
        for entry in entries(person):
            variants = {fold(entry), unicodedata.normalize("NFD", fold(entry)), fold(entry).replace(" ", "")}
            for v in variants:
                pattern = re.compile(r"(?<![^\W_])" + re.escape(v) + r"(?![^\W_])")
                if any(pattern.search(t) for t in folded):
                    found.add(entry)
    return found


def test_the_whole_directory_planted_in_replies_never_reaches_the_export(
        data_dir: Path, fakemail: FakeMail, tmp_path: Path) -> None:
    people = plant(data_dir, fakemail)
    with open_practice(data_dir) as p:
        path = export(Admin(App(p)), tmp_path / "diag.zip")
        full = export(Admin(App(p)), tmp_path / "diag-full.zip", include_patient_data=True)
    with zipfile.ZipFile(path) as z:
        files = {n: readable(n, z.read(n)) for n in z.namelist()}
    for name, text in files.items():
        assert not leaks(text, people), (name, len(leaks(text, people)), sorted(leaks(text, people))[:40])
    everything = "\n".join(files.values())
    assert "552" in everything and "message too large" in everything  # the server's code and words
    assert "[name]" in everything and "[address]" in everything and "[phone]" in everything
    assert "[date]" in everything
    assert any(n.startswith("logs/") for n in files) and "planted:" in everything
    with zipfile.ZipFile(full) as z:
        opted_in = "\n".join(readable(n, z.read(n)) for n in z.namelist())
    assert "Bo Ng" in opted_in  # with the opt-in, support sees the words as the server wrote them


def test_a_log_line_keeps_its_punctuation(data_dir: Path, fakemail: FakeMail, tmp_path: Path) -> None:
    with open_practice(data_dir) as p:
        load_demo(p)
        logging.getLogger("practicemail.smtp").warning("rejected 'zoe.lefevre@patientmail.example' and "
                                                       "\"li chen\"@example.org (Okafor)")
    with open_practice(data_dir) as p:
        path = export(Admin(App(p)), tmp_path / "diag.zip")
    with zipfile.ZipFile(path) as z:
        log = z.read("logs/practicemail.log").decode()
    assert "rejected '[address]' and [address] ([name])" in log
