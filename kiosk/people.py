"""People as reception reads them: names, never codes (a code is in a tooltip, for support)."""

from __future__ import annotations

from collections.abc import Mapping
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
