"""Pieces of the compose form: a chooser of providers or specialists, the email's own
category and description (how it is grouped and found in the patient's contact history), and
a chosen template's words shown in place of the typed ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QTextEdit

from engine.core.directory import person_name
from engine.errors import PracticeMailError
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


class TemplateWords:
    """With a template chosen, the subject and the words are the template's for this patient
    (`preview(code)`: its subject and text), shown read-only: what is sent, not what was typed.
    Back to "(no template)", what reception had typed comes back as it was."""

    def __init__(self, subject: QLineEdit, body: QTextEdit, preview: Callable[[str], tuple[str, str]]) -> None:
        self.subject, self.body, self.preview = subject, body, preview
        self.typed: tuple[str, str] | None = None  # (subject, body as HTML) while a template is shown

    def show(self, code: str) -> str:
        """The template `code`'s words (none: the typed ones again); a problem in words, or ""."""
        if not code:
            if self.typed is not None:
                self.subject.setText(self.typed[0])
                self.body.setHtml(self.typed[1])
                self.typed = None
            self._editable(True)
            return ""
        if self.typed is None:
            self.typed = (self.subject.text(), self.body.toHtml())
        try:
            subject, text = self.preview(code)
        except PracticeMailError as exc:
            subject, text = "", ""
            problem = f"The template cannot be shown: {exc.message}. {exc.hint}"
        else:
            problem = ""
        self.subject.setText(subject)
        self.body.setPlainText(text)  # merge fields are records' text: never markup
        self._editable(False)
        return problem

    def _editable(self, on: bool) -> None:
        tip = "" if on else "The template's words for this patient (choose (no template) to write your own)"
        for w in (self.subject, self.body):
            w.setReadOnly(not on)
            w.setToolTip(tip)
