"""Reminder rules at the desk ("SMS 2 days before at 10:00", "email 7 days before"): the list,
Add and Delete, opened from the Templates page. Changing them takes the same "templates"
permission as editing a template (kiosk/roles_desk.py): a rule sends a template to every
patient with an appointment. The engine checks each rule (engine/service/reminder_rules.py);
its words are shown here, and nothing is kept on a problem."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                             QVBoxLayout, QWidget)

from engine.core import reminders as rules
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain
from kiosk.appointments import types_later
from kiosk.compose_fields import people_combo
from kiosk.tables import RecordTable
from kiosk.widgets import keyed, no_checked

CHANNELS = (("Text message (SMS)", "sms"), ("Email", "email"))


class RuleForm(QFormLayout):
    """A new rule's fields: channel, days and hours before or a time of day, template, and
    which appointments (type, provider, location; "any" for all)."""

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app
        self.channel = QComboBox()
        for name, value in CHANNELS:
            self.channel.addItem(name, value)
        self.days = QSpinBox()
        self.days.setRange(0, rules.MAX_DAYS)
        self.days.setValue(2)
        self.hours = QSpinBox()
        self.hours.setRange(0, 23)
        self.hours.setToolTip("Hours before the appointment's start (only without a time of day)")
        self.at = QLineEdit("10:00")
        self.at.setPlaceholderText("empty: the days and hours before the start")
        self.at.setToolTip("The practice's time on that day, like 10:00")
        self.template = QComboBox()
        self.type = QComboBox()
        self.type.setEditable(True)
        self.type.addItem("", "")
        types_later(self.type, app)  # read off the GUI thread: every appointment
        self.type.setToolTip("Only appointments of this type (empty: every type)")
        self.provider = people_combo(app.directory.list("providers"), first="Any provider")
        self.location = QComboBox()
        self.location.addItem("Any location", "")
        for r in sorted(app.directory.list("locations"), key=lambda r: r["name"]):
            self.location.addItem(plain.shown(r["name"]), r["name"])
        for label, w in (("Send", self.channel), ("Days before", self.days), ("Hours before", self.hours),
                         ("At (time of day)", self.at), ("Template", self.template), ("Appointment type", self.type),
                         ("Provider", self.provider), ("Location", self.location)):
            self.addRow(label, w)
        self.channel.currentIndexChanged.connect(lambda _i: self.fill_templates())
        self.fill_templates()

    def fill_templates(self) -> None:
        """The templates of the channel's kind only: the engine refuses an email's words as a text."""
        self.template.clear()
        kind = self.channel.currentData()
        for t in self.app.templates.list():
            if t.kind == kind:
                self.template.addItem(plain.shown(f"{t.description or t.code} ({t.code})"), t.code)

    def fields(self) -> dict[str, object]:
        """As `reminders rules add` takes them; the engine checks them all."""
        return {"channel": self.channel.currentData(), "days": self.days.value(), "hours": self.hours.value(),
                "at": self.at.text(), "template": self.template.currentData() or "",
                "appointment_type": self.type.currentText(), "provider_id": self.provider.currentData() or "",
                "location": self.location.currentData() or ""}


class ReminderRulesDialog(QDialog):
    """The practice's rules, and Add / Delete when the signed-in group may change templates."""

    def __init__(self, app: App, may_change: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reminder rules")
        self.app = app
        self.may_change = may_change
        layout = QVBoxLayout(self)
        self.table = RecordTable(("Rule", "When", "Template", "Applies to"))
        layout.addWidget(self.table, 1)
        self.form = RuleForm(app)
        layout.addLayout(self.form)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, slot, key in (("Add rule", self.add, "Alt+A"), ("Delete rule...", self.delete, "Alt+D")):
            b = keyed(QPushButton(label), key)
            b.clicked.connect(no_checked(slot))
            b.setEnabled(may_change)
            row.addWidget(b)
            self.buttons[label] = b
        row.addStretch(1)
        layout.addLayout(row)
        self.problem = plain.label(wrap=True)
        self.problem.setStyleSheet(plain.PROBLEM)
        layout.addWidget(self.problem)
        self.done_line = plain.label(wrap=True)
        layout.addWidget(self.done_line)
        if not may_change:
            self.done_line.setText("Changing reminder rules is for a group allowed to edit templates: sign in first.")
        self.refresh()

    def refresh(self) -> None:
        self.table.fill([(r.id, (r.id, r.describe(), r.template, applies_to(r))) for r in self.app.reminder_rules.list()])

    def add(self) -> bool:
        if not self.may_change:
            return False
        added: list[rules.Rule] = []
        return self._change(lambda: added.append(self.app.reminder_rules.add(self.form.fields())),
                            lambda: f"Rule {added[0].id} added: {added[0].describe()}.")

    def delete(self) -> bool:
        """Asked first; reminders already planned by the rule stay planned (said in the question)."""
        ids = self.table.selected_ids()
        if not self.may_change or not ids:
            self.problem.setText("" if not self.may_change else "Choose the rule to delete.")
            return False
        rule = next((r for r in self.app.reminder_rules.list() if r.id == ids[0]), None)
        if rule is None or not plain.ask(self, "Delete reminder rule", f"Delete rule {rule.id} ({rule.describe()})?\n\n"
                                         "Reminders it has already planned stay in the outbox."):
            return False
        return self._change(lambda: self.app.reminder_rules.delete(rule.id), lambda: f"Rule {rule.id} deleted.")

    def _change(self, command: Callable[[], object], said: Callable[[], str]) -> bool:
        """Run an add or delete: its problem in the practice's words, or what was done, and the list again."""
        try:
            command()
        except PracticeMailError as exc:
            self.problem.setText(problem_words(exc))
            return False
        self.problem.setText("")
        self.done_line.setText(said())
        self.refresh()
        return True


def applies_to(rule: rules.Rule) -> str:
    only = [x for x in (rule.appointment_type, rule.provider_id and f"provider {rule.provider_id}",
                        rule.location) if x]
    return ", ".join(only) or "every appointment"


def problem_words(exc: PracticeMailError) -> str:
    """The engine's refusal (each bad field named in it) and what to do."""
    return f"{exc.message}. {exc.hint}"
