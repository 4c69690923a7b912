"""Pieces of the compose form: a chooser of providers or specialists, and the email's own
category and description (how it is grouped and found in the patient's contact history)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QFormLayout, QLineEdit

from engine.core.directory import person_name
from kiosk import plain
from kiosk.people import code_tip


def people_combo(people: list[dict[str, Any]], first: str | None = None, prefix: str = "") -> QComboBox:
    """A choice of providers or specialists by name and id (their id as the item's data),
    after an optional first choice whose data is ""."""
    combo = QComboBox()
    if first is not None:
        combo.addItem(first, "")
    for r in sorted(people, key=lambda r: (r.get("last_name", ""), r["id"])):
        combo.addItem(plain.shown(f"{prefix}{person_name(r) or r['id']}"), r["id"])
        combo.setItemData(combo.count() - 1, plain.tip(code_tip("Code", r["id"])), Qt.ItemDataRole.ToolTipRole)
    return combo


class Naming:
    """The Category and Description rows. A template chosen fills in its own (what it is for);
    reception may type over either, for this email only."""

    def __init__(self, form: QFormLayout, categories: list[str], by_template: dict[str, tuple[str, str]]) -> None:
        self.by_template = by_template
        self.category = QComboBox()
        self.category.setEditable(True)  # one of those used before, or a new one typed
        self.category.addItem("")
        for c in categories:
            self.category.addItem(plain.shown(c), c)
        self.category.setToolTip("Groups this email in the patient's contact history (a template fills it in)")
        self.description = QLineEdit()
        self.description.setPlaceholderText("what this email is, e.g. a denture reminder for 15 November")
        self.description.setMaxLength(200)
        form.addRow("Category", self.category)
        form.addRow("Description", self.description)

    def follow(self, template: str) -> None:
        """The template's category and description, in place of what was there."""
        category, description = self.by_template.get(template, ("", ""))
        self.show(category, description)

    def show(self, category: str, description: str) -> None:
        self.category.setCurrentText(category)
        self.description.setText(description)

    def values(self) -> tuple[str, str]:
        return self.category.currentText(), self.description.text()
