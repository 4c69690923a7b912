"""The practice directory: the people and places mail is about, and their rules.

Pure validation of rows (from an import file, the CLI or the kiosk) into
records. Every problem is reported with its row and column so a practice
manager can fix the file; `validate_rows` returns all problems, not the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from engine.core.addresses import is_valid_address, mailbox_key, normalise_address
from engine.core.sms import NotAMobile, national_forms, normalise_mobile
from engine.errors import Problem

KINDS = ("patients", "providers", "specialists", "locations", "appointments")

COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("id", "title", "first_name", "last_name", "email", "mobile", "family_id",
                 "usual_provider_id", "preferred_location", "date_of_birth", "shared_address", "preference"),
    "providers": ("id", "title", "first_name", "last_name", "email"),
    "specialists": ("id", "title", "first_name", "last_name", "email"),
    "locations": ("name", "address", "phone"),
    "appointments": ("id", "patient_id", "provider_id", "start", "minutes", "location", "type"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("id", "first_name", "last_name"),
    "providers": ("id", "last_name"),
    "specialists": ("id", "last_name"),
    "locations": ("name",),
    "appointments": ("id", "patient_id", "start", "minutes"),
}
KEY_COLUMN = {"patients": "id", "providers": "id", "specialists": "id", "locations": "name", "appointments": "id"}

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# control characters (C0 and C1, NEL included) and Unicode line ends: a name from a CSV must
# never be able to end a line in a header or a listing. Bidi controls are kept and shown
# written out wherever a name is shown (engine/core/names.shown_name).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PHONE = re.compile(r"^[+0-9 ()-]{5,32}$")
PREFERENCES = ("email", "sms", "both", "none")  # how automatic messages reach a patient; empty: email


@dataclass(frozen=True)
class Known:
    """Ids that rows may refer to (existing records plus the file's own). Only asked `in`: a
    single row's check asks the store for the few keys it names (engine/service/directory.py)
    where an import holds every key."""

    providers: Container[str] = frozenset()
    patients: Container[str] = frozenset()
    locations: Container[str] = frozenset()


def person_name(record: Mapping[str, Any]) -> str:
    parts = [record.get("title") or "", record.get("first_name") or "", record.get("last_name") or ""]
    return " ".join(p for p in parts if p).strip()


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def validate_row(kind: str, row: Mapping[str, Any], row_no: int | None, known: Known,
                 tz: tzinfo | None = None, region: str = "GB") -> tuple[dict[str, Any], list[Problem]]:
    """One row -> (record, problems). The record is only meaningful without problems. Every
    column's text first (line breaks, length, required), then the id and email any kind has,
    then the kind's own checks (_KIND_CHECKS), in that order, so problems read left to right."""
    row_ = _Row(row_no, known, tz, region)
    for col in COLUMNS[kind]:
        row_.rec[col] = _column_text(row_, kind, col, row.get(col))
    rec = row_.rec
    if KEY_COLUMN[kind] == "id" and rec["id"] and not _ID.match(rec["id"]):
        row_.bad("id", f"{rec['id']!r} is not a valid id (letters, digits, . _ -)")
    if "email" in rec and rec["email"]:
        if not is_valid_address(rec["email"]):
            row_.bad("email", f"{rec['email']!r} is not an email address")
        else:
            rec["email"] = normalise_address(rec["email"]) if rec["email"].isascii() else rec["email"]
    check = _KIND_CHECKS.get(kind)
    if check is not None:
        check(row_)
    return rec, row_.problems


@dataclass
class _Row:
    """One row being checked: its record so far, its problems, and what the checks need."""

    row_no: int | None
    known: Known
    tz: tzinfo | None
    region: str
    rec: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def bad(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row_no, column, message))


def _column_text(row: _Row, kind: str, col: str, raw: Any) -> str:
    """A column's text, trimmed, control characters blanked, each problem reported."""
    value = _clean(raw)
    if col == "mobile" and kind == "patients":  # checked whole below: a trailing NEL is no number
        value = "" if raw is None else str(raw).strip(" \t")
    if _CONTROL.search(value):
        row.bad(col, "contains a line break or control character")
        value = _CONTROL.sub(" ", value)
    if len(value) > 200:
        row.bad(col, "is longer than 200 characters")
    if not value and col in REQUIRED[kind]:
        row.bad(col, "is empty but required")
    return value


def _check_patient(row: _Row) -> None:
    rec, known = row.rec, row.known
    if rec["mobile"] and not problems_in(row.problems, "mobile"):
        try:
            rec["mobile"] = normalise_mobile(rec["mobile"], row.region)  # stored as E.164
        except NotAMobile as exc:
            row.bad("mobile", str(exc))
    if rec["preference"]:
        rec["preference"] = rec["preference"].lower()
        if rec["preference"] not in PREFERENCES:
            row.bad("preference", f"{rec['preference']!r} is not one of {', '.join(PREFERENCES)}")
    if rec["family_id"] and not _ID.match(rec["family_id"]):
        row.bad("family_id", f"{rec['family_id']!r} is not a valid id")
    if rec["usual_provider_id"] and rec["usual_provider_id"] not in known.providers:
        row.bad("usual_provider_id", f"no provider with id {rec['usual_provider_id']!r}")
    if rec["preferred_location"] and rec["preferred_location"] not in known.locations:
        row.bad("preferred_location", f"no location named {rec['preferred_location']!r}")
    if rec["shared_address"].lower() not in ("", "yes", "no"):
        row.bad("shared_address", f"{rec['shared_address']!r} is not yes or no")
    rec["shared_address"] = rec["shared_address"].lower()
    if rec["date_of_birth"]:
        try:
            date.fromisoformat(rec["date_of_birth"])
        except ValueError:
            row.bad("date_of_birth", f"{rec['date_of_birth']!r} is not a date like 1984-03-21")


def _check_location(row: _Row) -> None:
    if row.rec["phone"] and not _PHONE.match(row.rec["phone"]):
        row.bad("phone", f"{row.rec['phone']!r} is not a phone number")


def _check_appointment(row: _Row) -> None:
    rec, known = row.rec, row.known
    if rec["patient_id"] and rec["patient_id"] not in known.patients:
        row.bad("patient_id", f"no patient with id {rec['patient_id']!r}")
    if rec["provider_id"] and rec["provider_id"] not in known.providers:
        row.bad("provider_id", f"no provider with id {rec['provider_id']!r}")
    if rec["location"] and rec["location"] not in known.locations:
        row.bad("location", f"no location named {rec['location']!r}")
    if rec["type"]:  # check-up, hygiene...: what recalls are derived from
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", rec["type"]):
            row.bad("type", f"{rec['type']!r} is not an appointment type (like checkup or hygiene)")
        rec["type"] = rec["type"].lower()
    try:
        minutes = int(rec["minutes"])
        if not 1 <= minutes <= 720:
            raise ValueError
        rec["minutes"] = minutes
    except ValueError:
        if rec["minutes"]:
            row.bad("minutes", f"{rec['minutes']!r} is not a length in minutes (1-720)")
    if rec["start"]:
        try:
            start = datetime.fromisoformat(rec["start"])
            if start.tzinfo is None and row.tz is not None:
                start = start.replace(tzinfo=row.tz)
            rec["start"] = start.isoformat()
        except ValueError:
            row.bad("start", f"{rec['start']!r} is not a date and time like 2026-12-01T09:30")


# a kind's own checks, after the columns' text and the id and email every kind has
_KIND_CHECKS: dict[str, Callable[[_Row], None]] = {
    "patients": _check_patient, "locations": _check_location, "appointments": _check_appointment}


def validate_rows(kind: str, rows: Iterable[tuple[int, Mapping[str, Any]]], known: Known,
                  existing_keys: Iterable[str] | Container[str] = (), tz: tzinfo | None = None,
                  existing_patients: Iterable[Mapping[str, Any]] = (),
                  region: str = "GB") -> tuple[list[dict[str, Any]], list[Problem]]:
    """All rows or none: (row number, row) pairs -> records and every problem.
    `existing_patients`: the practice's patients, for the shared-address rule; `region`: the
    practice's country, for mobile numbers written without one. `existing_keys`: the kind's keys
    already stored (a set, or anything that answers `in`)."""
    rows_seen = list(rows)
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    key = KEY_COLUMN[kind]
    seen: dict[str, int] = {}
    existing = existing_keys if isinstance(existing_keys, Container) else set(existing_keys)
    for n, row in rows_seen:
        rec, row_problems = validate_row(kind, row, n, known, tz, region)
        problems.extend(row_problems)
        k = rec.get(key, "")
        if k:
            if k in seen:
                problems.append(Problem(n, key, f"{k!r} appears twice (also row {seen[k]})"))
            elif k in existing:
                problems.append(Problem(n, key, f"{k!r} already exists in the practice"))
            seen.setdefault(k, n)
        records.append(rec)
    if kind == "patients":
        problems.extend(shared_address_problems([(n, r) for (n, _), r in zip(rows_seen, records)], existing_patients))
    return records, problems


def household(record: Mapping[str, Any]) -> str:
    """A patient's family, or the patient alone: the unit that may share mail."""
    return record.get("family_id") or f"#{record.get('id', '')}"


def _whose(record: Mapping[str, Any], row_no: int | None) -> str:
    where = f"row {row_no}" if row_no is not None else "already in the practice"
    family = f"family {record['family_id']}" if record.get("family_id") else "no family"
    return f"patient {record.get('id', '')} ({family}, {where})"


def shared_address_problems(rows: Iterable[tuple[int | None, Mapping[str, Any]]],
                            existing: Iterable[Mapping[str, Any]] = ()) -> list[Problem]:
    """One email address shared across two families (or a family and someone outside it) is
    refused unless each row in the file that shares it says `shared_address` = yes: otherwise
    one family's mail would reach another without anyone having decided so. Addresses are
    compared as mailboxes (case, `+tag`). Patients of one family sharing an address need nothing."""
    by_box: dict[str, list[tuple[int | None, Mapping[str, Any]]]] = {}
    for row_no, rec in [*((None, r) for r in existing), *rows]:
        if rec.get("email") and is_valid_address(rec["email"]):
            by_box.setdefault(mailbox_key(rec["email"]), []).append((row_no, rec))
    problems = []
    for sharing in by_box.values():
        if len({household(r) for _, r in sharing}) < 2:
            continue
        for row_no, rec in sharing:
            if row_no is None or rec.get("shared_address") == "yes":
                continue
            others = [_whose(r, n) for n, r in sharing if household(r) != household(rec)]
            problems.append(Problem(row_no, "email", f"{rec['email']} is also the address of {', '.join(others[:3])}; "
                                    "families share an address only when their rows say shared_address yes"))
    return problems


def problems_in(problems: list[Problem], column: str) -> bool:
    return any(p.column == column for p in problems)


def preference(patient: Mapping[str, Any]) -> str:
    """How automatic messages reach this patient: email, sms, both or none (empty means email)."""
    return patient.get("preference") or "email"


def family_members(patients: Iterable[Mapping[str, Any]], patient: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The patient's family (including the patient); alone if no family id."""
    fam = patient.get("family_id")
    if not fam:
        return [patient]
    return [p for p in patients if p.get("family_id") == fam]


def is_one_of(value: Any, codes: Container[str]) -> bool:
    """`value in codes`; False for a value no code can be (a list or an object where a code is
    stored: another program's record), not a TypeError that fails a whole list."""
    try:
        return value in codes
    except TypeError:
        return False


def search_words(text: str) -> list[str]:
    """What was typed in a patient search, as lower-case words (commas are spaces), longest first;
    a word repeated or inside a longer one is left out: it matches nothing the longer one does not
    (each word is a pass over every patient: a paste of 5,000 'a's was 6 s at 20,000)."""
    kept: list[str] = []
    for w in sorted(set(text.replace(",", " ").casefold().split()), key=lambda w: (-len(w), w)):
        if not any(w in longer for longer in kept):
            kept.append(w)
    return kept


def haystack(p: Mapping[str, Any]) -> str:
    """A patient's searchable text, lower-cased: name, birth date both ways, mobile both ways, email, id."""
    dob = str(p.get("date_of_birth") or "")
    typed_dob = "/".join(reversed(dob.split("-"))) if len(dob) == 10 else ""  # 1985-04-03 as 03/04/1985
    mobile = str(p.get("mobile") or "")  # stored as E.164: also as typed at the desk
    return " ".join((person_name(p), dob, typed_dob, mobile, mobile.replace(" ", ""), *national_forms(mobile),
                     str(p.get("email") or ""), str(p.get("id") or ""))).casefold()


def patient_matches(p: Mapping[str, Any], words: list[str]) -> bool:
    """Every word is in the patient's name, date of birth, mobile or email address."""
    hay = haystack(p)
    return all(w in hay for w in words)
