"""Saving one patient (or appointment) at the desk checks the row as an import checks it, but
reads only what its rules need (issue 19: Directory.update read every patient twice, 0.5-0.8 s
at 20,000 patients, on the GUI thread): the keys the row names, looked up one by one, and the
patients whose address reaches the row's mailbox, from the patients' index. On TinyDB and
PostgreSQL:

- the decisions (accepted, or refused with which problems) are the old ones: the old way, every
  key and every patient handed to rules.validate_rows, is the oracle, on directories made by
  any sequence of checked and unchecked writes;
- a save hands the Directory a handful of records through the storage interface, not every
  patient (counted by a store that counts what its collections hand over)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.directory import COLUMNS, Known, validate_rows
from engine.errors import InputInvalid
from engine.service.directory import Directory
from tests.backends import Backend

EMAILS = ("", "ann@x.example", "Ann@X.example", "ann+desk@x.example", "a.nn@gmail.com", "ann@googlemail.com",
          "bob@x.example", "not an address", "ann@x.example\u2028", " bob@x.example ")
IDS = ("P1", "P2", "P3", "P9", "bad id!", "")
fields = st.fixed_dictionaries({}, optional={
    "first_name": st.sampled_from(("Ann", "", "Bo")), "last_name": st.sampled_from(("Lee", "Ng")),
    "email": st.sampled_from(EMAILS), "family_id": st.sampled_from(("", "F1", "F2", "bad id!")),
    "shared_address": st.sampled_from(("", "yes", "YES", "no", "maybe")),
    "usual_provider_id": st.sampled_from(("", "DR1", "DR9")),
    "preferred_location": st.sampled_from(("", "Main", "Nowhere")),
    "mobile": st.sampled_from(("", "07700 900123", "12"))})
appointment = st.fixed_dictionaries({}, optional={
    "patient_id": st.sampled_from(IDS), "provider_id": st.sampled_from(("", "DR1", "DR9")),
    "location": st.sampled_from(("", "Main", "Nowhere")), "minutes": st.sampled_from(("30", "0"))})
ops = st.lists(st.one_of(
    st.tuples(st.just("unchecked"), st.sampled_from(IDS[:4]), fields),  # any directory, shared addresses too
    st.tuples(st.just("add"), st.sampled_from(IDS), fields),
    st.tuples(st.just("edit"), st.integers(0, 30), fields),
    st.tuples(st.just("appointment"), appointment),
), min_size=1, max_size=8)


def old_way(d: Directory, kind: str, key: str | None, fields: dict[str, Any]) -> list[tuple[str | None, str]]:
    """The problems as the check before issue 19 found them: every key, every patient."""
    known = Known(providers=d.keys("providers"), patients=d.keys("patients"), locations=d.keys("locations"))
    if key is None:  # add_patient
        _, problems = validate_rows("patients", [(1, fields)], known, d.keys("patients"),
                                    existing_patients=d.list("patients"))
    else:  # update
        merged = {**d.require(kind, key), **fields}
        row = {c: merged.get(c, "") for c in COLUMNS[kind]}
        others = [p for p in d.list("patients") if p.get("id") != key] if kind == "patients" else []
        _, problems = validate_rows(kind, [(1, row)], known, existing_patients=others)
    return [(p.column, p.message) for p in problems]


def new_way(save: Callable[[], Any]) -> list[tuple[str | None, str]]:
    try:
        save()
    except InputInvalid as exc:
        return [(p.column, p.message) for p in exc.problems]
    return []


def test_a_save_decides_as_the_check_of_every_record_did(backend: Backend) -> None:
    with backend.practice() as p:
        d = p.directory
        p.store.collection("providers").insert({"id": "DR1", "last_name": "Who"})
        p.store.collection("locations").insert({"name": "Main"})
        p.store.collection("appointments").insert({"id": "A1", "patient_id": "P1", "start": "2026-12-01T09:00:00+00:00",
                                                    "minutes": 30})
        p.store.collection("patients").insert({"id": "P1", "first_name": "Ann", "last_name": "Lee",
                                                "email": "ann@x.example", "family_id": "F1"})
        decided: Counter[str] = Counter()

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(ops)
        def run(sequence: list[tuple[Any, ...]]) -> None:
            d.search("a")  # sometimes current (patched by the saves), sometimes rebuilt after an unchecked write
            for op in sequence:
                if op[0] == "unchecked":
                    p.store.collection("patients").insert({"first_name": "Un", "last_name": "Checked", **op[2],
                                                            "id": op[1]})
                    continue
                if op[0] == "add":
                    row = {**op[2], "id": op[1]}
                    expected = old_way(d, "patients", None, row)
                    got = new_way(lambda: d.add_patient(row))
                elif op[0] == "edit":
                    stored = d.list("patients")
                    key = stored[op[1] % len(stored)]["id"]
                    expected = old_way(d, "patients", key, op[2])
                    got = new_way(lambda: d.update("patients", key, op[2]))
                else:
                    expected = old_way(d, "appointments", "A1", op[1])
                    got = new_way(lambda: d.update("appointments", "A1", op[1]))
                assert got == expected, op
                decided["refused" if expected else "accepted"] += 1
                decided["shared address refused"] += any("also the address of" in m for _c, m in expected)

        run()
        assert min(decided.values()) > 0, decided  # each kind of decision was met


class Counted:
    """A store whose collections count every record they hand over (returned, or shown to a
    caller's predicate), by collection; everything else is the store's own."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.read: Counter[str] = Counter()

    def collection(self, name: str) -> Any:
        return _CountedCollection(self._store.collection(name), name, self.read)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _CountedCollection:
    def __init__(self, coll: Any, name: str, read: Counter[str]) -> None:
        self._coll, self._name, self._read = coll, name, read

    def __getattr__(self, name: str) -> Any:  # writes, signature: the collection's own
        return getattr(self._coll, name)

    def _handed(self, records: list[Any]) -> list[Any]:
        self._read[self._name] += len(records)
        return records

    def _shown(self, predicate: Any) -> Any:
        def counted(r: Any) -> bool:
            self._read[self._name] += 1
            return predicate(r)
        return counted

    def all(self) -> list[Any]:
        return self._handed(self._coll.all())

    def find(self, predicate: Any) -> list[Any]:
        return self._coll.find(self._shown(predicate))

    def find_by(self, field: str, value: Any) -> list[Any]:
        return self._handed(self._coll.find_by(field, value))

    def get(self, record_id: int) -> Any:
        rec = self._coll.get(record_id)
        self._read[self._name] += rec is not None
        return rec

    def require(self, record_id: int) -> Any:
        return self._handed([self._coll.require(record_id)])[0]

    def ids(self, predicate: Any) -> list[int]:
        return self._coll.ids(self._shown(predicate))

    def ids_by(self, field: str, value: Any, also: Any = None) -> list[int]:
        if also is not None:
            return self._coll.ids_by(field, value, self._shown(also))
        return self._handed(self._coll.ids_by(field, value))  # only the matches are read (storage.py)


PATIENTS = 300


@pytest.mark.parametrize("save", ["edit", "add", "refused", "family"])
def test_a_save_reads_a_few_records_not_every_patient(backend: Backend, save: str) -> None:
    with backend.practice() as p:
        p.store.collection("providers").insert({"id": "DR1", "last_name": "Who"})
        p.store.collection("locations").insert({"name": "Main"})
        p.store.collection("patients").insert_many(
            {"id": f"P{i:04d}", "first_name": "Pat", "last_name": f"N{i}", "email": f"pat{i}@x.example",
             "family_id": f"F{i // 3}"} for i in range(PATIENTS))
        counted = Counted(p.store)
        d = Directory(counted, lambda: "Europe/London")  # type: ignore[arg-type]
        d.search("pat")  # the index, as the desk builds it (off the GUI thread) before anyone saves
        assert counted.read["patients"] >= PATIENTS  # the counting sees a read of every patient
        counted.read.clear()
        if save == "edit":  # the same family's address: accepted
            d.update("patients", "P0150", {"email": "Pat151+desk@x.example", "usual_provider_id": "DR1",
                                           "preferred_location": "Main", "mobile": "07700 900123"})
            assert p.directory.require("patients", "P0150")["email"] == "Pat151+desk@x.example"
        elif save == "add":
            d.add_patient({"id": "P9999", "first_name": "New", "last_name": "One", "email": "new@x.example",
                           "usual_provider_id": "DR1"})
        elif save == "refused":  # another family's address, not said to be shared
            with pytest.raises(InputInvalid, match="also the address of patient P0200"):
                d.update("patients", "P0150", {"email": "pat200@x.example"})
        else:
            assert [r["id"] for r in d.family(d.require("patients", "P0150"))] == ["P0150", "P0151", "P0152"]
        assert counted.read["patients"] <= 5, counted.read
        assert d.search("n150") and counted.read["patients"] <= 6  # the index still current: no rebuild
