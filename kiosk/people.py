"""People as reception reads them: names, never codes (a code is in a tooltip, for support)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from engine.core.directory import person_name


def born(p: Mapping[str, Any]) -> str:
    """A date of birth as the desk says it: '13 Mar 1991' (as stored when it is not a date)."""
    return birthday(str(p.get("date_of_birth") or ""))


def birthday(raw: str) -> str:
    """'1991-03-13' as '13 Mar 1991'; anything else as it is."""
    try:
        return date.fromisoformat(raw).strftime("%-d %b %Y")
    except ValueError:
        return raw


def patient_label(p: Mapping[str, Any]) -> str:
    """'Mrs Priya Patel, born 13 Mar 1991': two patients of one name told apart as reception would."""
    when = born(p)
    return f"{person_name(p) or p.get('id', '')}, born {when}" if when else (person_name(p) or str(p.get("id", "")))


def code_tip(kind: str, code: str) -> str:
    """The code a person can quote to support, in a tooltip."""
    return f"{kind} code {code}" if code else ""


def one_of(people: Sequence[Mapping[str, Any]]) -> str:
    """Patients who share an address, as a question reception answers by filing: 'Niamh, Declan
    or Aoife O'Brien?' (one family name said once, no titles), 'Ann Lee or Tom Hart?' when the
    names differ. Short enough that the inbox's columns fit the window."""
    firsts = [str(p.get("first_name") or "").strip() for p in people]
    lasts = {str(p.get("last_name") or "").strip() for p in people}
    if len(lasts) == 1 and "" not in lasts and all(firsts):
        return f"{_or(firsts)} {lasts.pop()}?"
    return _or([_whole(p) for p in people]) + "?"


def _whole(p: Mapping[str, Any]) -> str:
    """First and last name; else the title; else the code (a record with no name is still one of them)."""
    named = " ".join(x for x in (str(p.get("first_name") or "").strip(), str(p.get("last_name") or "").strip()) if x)
    return named or str(p.get("title") or "").strip() or str(p.get("id") or "someone")


def _or(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"
