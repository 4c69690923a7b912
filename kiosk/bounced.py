"""A patient's bounced address, in the same words on the patient file and in compose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk import plain


def bounced_note(bad: dict[str, Any], when: Callable[[str], str] = str) -> str:
    """Why reception should check the address: it bounced, when, and what the server said in words."""
    return (f"This address bounced on {when(bad.get('at', ''))}: {bad.get('reason', '')}. Automatic mail to it is "
            "held; check the address with the patient and correct it.")


def bounced_label(bad: dict[str, Any], when: Callable[[str], str] = str) -> plain.PlainLabel:
    label = plain.label(plain.shown(bounced_note(bad, when)), wrap=True)
    label.setStyleSheet("color: #a05a00; font-weight: bold")
    return label
