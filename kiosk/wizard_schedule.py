"""The setup wizard's schedule and pacing page. "Check every" keeps what the setting was: left to
the engine it stays so (shown with the engine's own default, and said), empty (mail checked only
at the check times) stays empty; only a number typed is written."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QCheckBox, QFormLayout, QLineEdit, QSpinBox, QWizardPage

from engine.core.settings import defaults
from kiosk import plain

EVERY = "schedule.check_every_minutes"
KEYS = ("schedule.send_immediately", "schedule.periods", EVERY, "schedule.check_times", "pacing.enabled",
        "pacing.per_minute")


class SchedulePage(QWizardPage):
    def __init__(self, values: dict[str, Any], settings: Any) -> None:
        """`settings`: the App's (`app.settings`), asked whether Check every was ever set."""
        super().__init__()
        self.setTitle("Schedule and pacing")
        form = QFormLayout(self)
        self.send_immediately = QCheckBox("Send and receive automatically inside the periods")
        self.send_immediately.setChecked(bool(values["schedule.send_immediately"]))
        self.periods = QLineEdit(values["schedule.periods"])
        self.every = QSpinBox()
        self.every.setRange(0, 1440)
        self.every.setSpecialValueText("Not set")  # 0: the setting empty, mail checked only at the times below
        self.unset = settings.is_default(EVERY)  # left to the engine: kept so unless a number is typed
        self.usual = int(defaults()[EVERY])
        self.every.setValue(int(values[EVERY] or 0))
        self.every_note = plain.label(wrap=True)
        self.every.valueChanged.connect(self._say_every)
        self._say_every(self.every.value())
        self.check_times = QLineEdit(values["schedule.check_times"])
        self.pacing = QCheckBox("Limit automatic sending")
        self.pacing.setChecked(bool(values["pacing.enabled"]))
        self.per_minute = QSpinBox()
        self.per_minute.setRange(1, 100000)
        self.per_minute.setValue(int(values["pacing.per_minute"]))
        for label, w in (("", self.send_immediately), ("Periods", self.periods), ("Check every (minutes)", self.every),
                         ("", self.every_note), ("Also check at", self.check_times), ("", self.pacing),
                         ("Emails per minute", self.per_minute)):
            form.addRow(label, w)

    def _left_to_engine(self) -> bool:
        return self.unset and self.every.value() == self.usual

    def _say_every(self, minutes: int) -> None:
        if self._left_to_engine():
            self.every_note.setText(f"Not set: mail is checked every {self.usual} minutes, the usual.")
        elif minutes == 0:
            self.every_note.setText("Not set: mail is checked only at the times in Also check at.")
        else:
            self.every_note.setText("")

    def values(self) -> dict[str, Any]:
        out = {"schedule.send_immediately": self.send_immediately.isChecked(), "schedule.periods": self.periods.text(),
               EVERY: self.every.value() or "", "schedule.check_times": self.check_times.text(),
               "pacing.enabled": self.pacing.isChecked(), "pacing.per_minute": self.per_minute.value()}
        if self._left_to_engine():
            del out[EVERY]  # not written: the engine's default stays the engine's
        return out
