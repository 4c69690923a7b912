"""New, Copy and Delete for the template editor (a mixin: the editor's fields are its own).

A code is asked for and checked before anything is kept: the code's characters, and that no
other template has it (saving under another template's code would have replaced it). Delete
names the template in its question, and the App refuses one a reminder rule or a setting
still uses, saying where."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QHBoxLayout, QPushButton

from engine.core import templates as tpl
from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.widgets import KEEP, SAVE, ask_unsaved, keyed, no_checked

if TYPE_CHECKING:
    from kiosk.template_editor import TemplateEditor


class TemplateActions:
    def action_row(self: TemplateEditor) -> QHBoxLayout:
        row = QHBoxLayout()
        self.actions: dict[str, QPushButton] = {}
        for label, slot, tip, key in (("New...", self.new_template, "A new, empty template (its code is asked for)",
                                       "Ctrl+Shift+N"),
                                      ("Copy...", self.copy_template, "A copy of this template under a new code",
                                       "Ctrl+Shift+C"),
                                      ("Delete...", self.delete_template, "Delete this template (asked first)",
                                       "Ctrl+Shift+D"),
                                      ("Reminder rules...", self.open_rules,
                                       "When reminders go before an appointment, and with which template",
                                       "Ctrl+Shift+B")):
            b = QPushButton(label)
            b.setToolTip(tip)
            keyed(b, key)
            b.clicked.connect(no_checked(slot))
            row.addWidget(b)
            self.actions[label] = b
        return row

    def open_rules(self: TemplateEditor) -> None:
        """The reminder rules beside the templates they send (kiosk/reminder_rules.py), not modal."""
        from kiosk.reminder_rules import ReminderRulesDialog

        self.rules_dialog = ReminderRulesDialog(self.app, self.may_change, self)
        self.rules_dialog.show()

    def ask_code(self: TemplateEditor, title: str, suggested: str = "") -> tuple[str, bool]:
        return plain.get_text(self, title, "The new template's code (capital letters, digits, _ and -):", suggested)

    def confirm(self: TemplateEditor, text: str) -> bool:
        return plain.ask(self, "Delete template", text)

    def code_problem(self: TemplateEditor, code: str) -> str:
        """Why a code cannot be a new template's ("" when it can)."""
        if not tpl.CODE.match(code):
            return f"\"{code}\" cannot be a template code: use capital letters A-Z, digits, _ and - (up to 32)."
        if self.templates.exists(code):
            return f"The code {code} is already used by \"{self.templates.get(code).description or code}\"."
        return ""

    def _new_code(self: TemplateEditor, title: str, suggested: str = "") -> str:
        """A code asked for, checked; "" (and the reason shown) when there is none to use."""
        code, ok = self.ask_code(title, suggested)
        code = code.strip().upper()
        if not ok or not code:
            return ""
        problem = self.code_problem(code)
        self.problems.setText(problem)
        return "" if problem else code

    def _may_leave(self: TemplateEditor) -> bool:
        """Changes to the template shown are saved, discarded or kept, as asked."""
        if not self.dirty():
            return True
        answer = ask_unsaved(self, f"The template \"{self.loaded.description or self.loaded.code}\"", save_label="Save")
        return answer != KEEP and (answer != SAVE or self._store())

    def new_template(self: TemplateEditor) -> None:
        """An empty template with the code asked for; kept when Save is pressed."""
        if not self._may_leave():
            return
        code = self._new_code("New template")
        if not code:
            return
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.show_template(tpl.Template(code), new=True)
        self.problems.setText(f"New template {code}: write it, then Save.")
        self.description.setFocus()

    def copy_template(self: TemplateEditor) -> None:
        """The template shown (as typed), saved at once under the new code."""
        if self.loaded is None:
            return
        t = self.current()
        code = self._new_code("Copy template", f"{self.loaded.code}-COPY"[:32])
        if not code:
            return
        html = None if self.is_new or t.kind == tpl.SMS else self.templates.get(self.loaded.code).html
        copy = tpl.Template(code, f"Copy of {t.description or t.code}", t.category, t.subject, t.body, html, t.kind)
        if self._saved(copy):
            self.show_template(self.templates.get(code))  # the copy shown, then found in the list
            self.reload()
            self.problems.setText(f"Copied to {code}.")

    def delete_template(self: TemplateEditor) -> None:
        """Asked first, naming the template; refused, with where, while it is in use."""
        if self.loaded is None or not self.may_change:
            return
        t = self.loaded
        if self.is_new:  # never saved: nothing to delete but the fields
            self.loaded, self.is_new = None, False
            self.reload()
            return
        if not self.confirm(f"Delete the template \"{t.description or t.code}\" ({t.code})? This cannot be undone."):
            return
        try:
            self.app.delete_template(t.code)
        except PracticeMailError as exc:
            self.problems.setText(f"Not deleted: {exc.message}. {exc.hint}")
            return
        self.loaded = None
        self.code.setText("")
        self.reload()
        self.problems.setText(f"Deleted {t.description or t.code}.")

    def _saved(self: TemplateEditor, t: Any) -> bool:
        try:
            self.app.save_template(t, new=True)
        except PracticeMailError as exc:
            self.problems.setText(f"Not saved: {exc.message}")
            return False
        return True
