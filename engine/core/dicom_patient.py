"""Is this x-ray the patient's? The DICOM header's patient tags against the patient the email is
about: the wrong patient's x-ray is the classic mistake, so a mismatch is refused in words.

Compared: the name (DICOM writes it FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX; family and first given
name must be the patient's, case and accents aside), the birth date (YYYYMMDD), and the id,
but the id only when it is another patient's id here: imaging systems keep their own numbers,
and an id we do not know says nothing. A tag the file leaves empty (an anonymised export) is
not a mismatch. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class DicomPatient:
    """The patient tags of a DICOM file, as text (PatientName, PatientID, PatientBirthDate)."""

    name: str = ""
    patient_id: str = ""
    birth_date: str = ""


def _shown(text: str, limit: int = 80) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()[:limit]


def _key(text: str) -> str:
    """Letters only, no accents, case folded: 'Mac Leod' and 'MACLEOD' are the same name."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isalnum()).casefold()


def _date(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) == 8 else ""


def readable_name(pn: str) -> str:
    """FAMILY^GIVEN as 'Given Family' for the words a receptionist reads."""
    parts = [p.strip() for p in _shown(pn, 200).split("^")]
    family, given = (parts + ["", ""])[:2]
    return _shown(" ".join(p.title() for p in (given, family) if p)) or _shown(pn)


def mismatches(tags: DicomPatient, patient: Mapping[str, Any], other_ids: frozenset[str]) -> list[str]:
    """What in the x-ray says it is not this patient's, in plain words ([] when nothing does).
    `other_ids`: the practice's patient ids (the patient's own is ignored)."""
    found = []
    parts = tags.name.split("^")
    family, given = _key(parts[0]), _key(parts[1].split()[0]) if len(parts) > 1 and parts[1].split() else ""
    if family or given:
        first = _key((str(patient.get("first_name") or "").split() or [""])[0])
        last = _key(str(patient.get("last_name") or ""))
        if (family and family != last) or (given and first and given != first):
            found.append(f"the x-ray is of {readable_name(tags.name)}")
    born = _date(tags.birth_date)
    if born and patient.get("date_of_birth") and born != str(patient["date_of_birth"]):
        found.append(f"the x-ray's patient was born {born}")
    pid = _shown(tags.patient_id, 64)
    if pid and pid != patient.get("id") and pid in other_ids:
        found.append(f"the x-ray carries another patient's id {pid}")
    return found


def refusal(found: list[str], patient: Mapping[str, Any]) -> str:
    """One line: why the file is not attached."""
    who = _shown(" ".join(str(patient.get(k) or "") for k in ("first_name", "last_name")))
    return f"This x-ray does not look like {who}'s: {'; '.join(found)}. It was not attached"
