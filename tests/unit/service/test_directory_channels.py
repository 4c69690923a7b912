"""Each patient's mobile (validated, stored as E.164 with the practice's country as the
default) and channel preference, through import, add and update."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputInvalid
from engine.service.practice import Practice

HEADER = "id,first_name,last_name,email,mobile,preference\n"


def test_import_normalises_mobiles_and_reads_preferences(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "patients.csv"
    f.write_text(HEADER + "P1,Al,One,al@example.com,07700 900001,SMS\n"
                 "P2,Bea,Two,,+44 (0)7700 900002,both\n"
                 "P3,Cy,Three,cy@example.com,,\n"
                 "P4,Di,Four,di@example.com,06 12 34 56 78,none\n", encoding="utf-8")
    with Practice(data_dir, writer=True) as p:
        p.settings.set("practice.country", "FR")
        with pytest.raises(InputInvalid) as exc:  # read as French numbers, the British ones are not mobiles
            p.directory.import_csv("patients", f)
        assert {(x.row, x.column) for x in exc.value.problems} == {(2, "mobile")}
        p.settings.set("practice.country", "gb")
        with pytest.raises(InputInvalid):  # and a French one needs its +33 in a British practice
            p.directory.import_csv("patients", f)
        f.write_text(f.read_text("utf-8").replace("06 12 34 56 78", "+33 6 12 34 56 78"), "utf-8")
        assert p.directory.import_csv("patients", f) == 4
        got = {r["id"]: (r["mobile"], r["preference"]) for r in p.directory.list("patients")}
    assert got == {"P1": ("+447700900001", "sms"), "P2": ("+447700900002", "both"), "P3": ("", ""),
                   "P4": ("+33612345678", "none")}


@pytest.mark.parametrize("column,value", [
    ("mobile", "01225 555010"), ("mobile", "07700 900001\u2028"), ("mobile", "07700 900001\x85"),
    ("mobile", "\u202e07700 900001"), ("mobile", "07700\r\n900001"), ("mobile", "ring me"),
    ("preference", "fax"), ("preference", "s\u2029ms"), ("preference", "email,sms"),
])
def test_hostile_values_refused_naming_the_column(data_dir: Path, column: str, value: str) -> None:
    fields = {"id": "P1", "first_name": "Al", "last_name": "One", column: value}
    with Practice(data_dir, writer=True) as p:
        with pytest.raises(InputInvalid) as exc:
            p.directory.add_patient(fields)
        assert column in {x.column for x in exc.value.problems}
        assert p.directory.list("patients") == []


def test_update_stores_the_normal_form(data_dir: Path) -> None:
    with Practice(data_dir, writer=True) as p:
        p.directory.add_patient({"id": "P1", "first_name": "Al", "last_name": "One"})
        p.directory.update("patients", "P1", {"mobile": "07700 900009", "preference": "Both"})
        rec = p.directory.require("patients", "P1")
    assert (rec["mobile"], rec["preference"]) == ("+447700900009", "both")
