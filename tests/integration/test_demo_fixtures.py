"""The demo practice's addresses as a person would have typed them (#19 item 11: 'jrgen.mller@'
for Greta Müller, 'luca.garca@' for Lucía García: letters dropped where an accent stood)."""

from __future__ import annotations

import csv
import io
import unicodedata

from engine.service.demo import FIXTURES


def folded(text: str) -> str:
    """Lower-case ASCII letters and digits: 'Müller' -> 'muller', "O'Brien" -> 'obrien'."""
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def test_every_demo_address_carries_its_patients_name_unmangled() -> None:
    rows = list(csv.DictReader(io.StringIO((FIXTURES / "patients.csv").read_text("utf-8"))))
    mangled = []
    for r in rows:
        if not r["email"]:
            continue
        local = folded(r["email"].split("@")[0].replace("ue", "u"))  # Müller may be written mueller
        if not any(folded(name) and folded(name) in local for name in (r["first_name"], r["last_name"])):
            mangled.append(f"{r['id']} {r['first_name']} {r['last_name']}: {r['email']}")
    assert mangled == []
