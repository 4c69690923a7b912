"""A patient's appointments in their file: book, move, cancel. Each change goes through the
engine's reminders, so the confirmation (held a few minutes, replaced if the slot moves again)
or the cancellation follows by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from PyQt6.QtCore import QDateTime
from PyQt6.QtWidgets import (QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                             QPushButton, QSpinBox, QVBoxLayout, QWidget)

from engine.core.calendar_answers import standing
from engine.core.directory import person_name
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain
from kiosk.bridge import run_in_background
from kiosk.compose import people_combo
from kiosk.jobs import Jobs, OneWrite
from kiosk.tables import RecordTable
from kiosk.widgets import keyed, keyed_box, no_checked


class SlotDialog(QDialog):
    """When (in the practice's time), how long, with whom, where."""

    def __init__(self, app: App, patient: dict[str, Any], title: str,
                 current: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        d = app.directory
        form = QFormLayout(self)
        self.start = QDateTimeEdit()
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        when = datetime.fromisoformat(current["start"]).astimezone(app.zone()).replace(tzinfo=None) \
            if current else tomorrow
        self.start.setDateTime(QDateTime(when))
        form.addRow("Starts", self.start)
        self.minutes = QSpinBox()
        self.minutes.setRange(5, 720)
        self.minutes.setSingleStep(5)
        self.minutes.setValue(int(current["minutes"]) if current else 30)
        form.addRow("Minutes", self.minutes)
        self.provider = people_combo(d.list("providers"))
        chosen = (current or {}).get("provider_id") or patient.get("usual_provider_id", "")
        self.provider.setCurrentIndex(max(0, self.provider.findData(chosen)))
        self.location = QComboBox()
        for r in sorted(d.list("locations"), key=lambda r: r["name"]):
            self.location.addItem(plain.shown(r["name"]), r["name"])
        where = (current or {}).get("location") or patient.get("preferred_location", "")
        self.location.setCurrentIndex(max(0, self.location.findData(where)))
        self.type = QComboBox()  # check-up, hygiene...: reminder rules and recalls go by it
        self.type.setEditable(True)
        self.type.addItem("", "")
        types_later(self.type, app)
        self.type.setCurrentText(str((current or {}).get("type", "")))
        if current is not None:  # a move changes the time; who, where and what stay
            for field in (self.provider, self.location, self.type):
                field.setEnabled(False)
        form.addRow("Provider", self.provider)
        form.addRow("Location", self.location)
        form.addRow("Type", self.type)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(keyed_box(buttons))

    def start_text(self) -> str:
        """The chosen time as the practice's local time (the engine adds the practice's zone)."""
        return self.start.dateTime().toPyDateTime().replace(second=0, microsecond=0).isoformat(timespec="minutes")


def appointment_types(app: App) -> list[str]:
    """The types already in use (appointments and recalls), for the booking's choice; a new one may be typed."""
    used = {str(r.get("type") or "") for r in app.reminders.appointments.all()}
    used |= {r.type for r in app.recalls.list()} | {r.appointment_type for r in app.reminder_rules.list()}
    return sorted(t for t in used if t)


def types_later(combo: QComboBox, app: App) -> None:
    """The types in use added to an editable `combo` once read on a background thread (issue 19:
    appointment_types reads every appointment, too slow for the GUI thread at a large practice);
    what is typed or chosen meanwhile stays. If the read fails the list stays short: typing works."""
    def fill(types: list[str]) -> None:
        shown = combo.currentText()
        for kind in types:
            if combo.findData(kind) < 0:
                combo.addItem(plain.shown(kind), kind)
        if combo.currentText() != shown:
            combo.setCurrentText(shown)
    run_in_background(lambda: appointment_types(app), fill, lambda _exc: None, owner=combo)


def calendar_text(appt: dict[str, Any], when: Callable[[str], str] | None = None) -> str:
    """What the patient's calendar said: the answer to the time as it stands, else the latest
    answer to an earlier time, marked outdated; and whether reception must act. A proposed
    time is shown in the practice's time when `when` is given."""
    current = appt.get("calendar_answer")
    answers = appt.get("calendar_answers") or []
    if current and "sequence" in current and \
            standing(int(current["sequence"]), int(appt.get("version", 1))) == "outdated":
        current = None  # answered before the time was moved: the patient has not seen the new one

    def said(a: dict[str, Any]) -> str:
        if a.get("answer") == "proposed" and a.get("proposed_start") and when is not None:
            return f"proposed {when(a['proposed_start'])}"
        return str(a.get("words", ""))

    if current:
        text = said(current)
    elif answers:
        text = f"outdated answer: {said(answers[-1])}"
    else:
        return ""
    return plain.shown(f"{text} - contact the patient" if appt.get("attention") else text)


def status_text(appt: dict[str, Any]) -> str:
    """'booked', and 'confirmed by the patient' once they answered a text (engine/service/sms.py)."""
    status = str(appt.get("status", "booked"))
    return f"{status}, confirmed by the patient" if appt.get("confirmed") and status != "cancelled" else status


class AppointmentsPanel(QWidget):
    """Book, move and cancel write on the desk's jobs thread (issue 19: the appointments file
    rewritten and fsynced, the outbox's confirmation and the late-reminder check, 50-330 ms on
    the GUI thread at 40,000 appointments); the list is read again there after each."""

    def __init__(self, app: App, patient: dict[str, Any], when: Callable[[str], str],
                 changed: Callable[[], None], jobs: Jobs | None = None) -> None:
        super().__init__()
        self.app = app
        self.reminders = app.reminders
        self.patient = patient
        self.when = when
        self.changed = changed
        self.jobs = jobs if jobs is not None else Jobs(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Appointments</b>"))
        self.table = RecordTable(("Starts", "Minutes", "Provider", "Location", "Status", "Calendar", "Type"))
        self.table.setMaximumHeight(150)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, slot, key in (("Book...", self.ask_book, "Alt+B"), ("Move...", self.ask_move, "Alt+M"),
                                 ("Cancel appointment", self.cancel, "Alt+C")):
            b = keyed(QPushButton(label), key)
            b.clicked.connect(no_checked(slot))
            row.addWidget(b)
            self.buttons[label] = b
        self.writing = OneWrite(self.buttons.values())  # one write at a time: a double click books once
        row.addStretch(1)
        self.problem = plain.label()
        self.problem.setStyleSheet(plain.PROBLEM)
        row.addWidget(self.problem)
        layout.addLayout(row)
        self.notice = plain.label(wrap=True)  # reminders a late booking will not get, in words
        layout.addWidget(self.notice)
        self.refresh()

    def refresh(self) -> None:
        self._fill(self._read())

    def _read(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The patient's appointments and their providers' names (the GUI thread at opening,
        the jobs thread after a write)."""
        rows = self.reminders.for_patient(self.patient["id"])
        return rows, self.app.directory.names("providers", [r.get("provider_id", "") for r in rows])

    def _fill(self, read: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
        rows, names = read
        self.table.fill([(r["id"], (self.when(r["start"]), r["minutes"],
                                    names.get(r.get("provider_id") or "", r.get("provider_id", "")), r.get("location", ""),
                                    status_text(r), calendar_text(r, self.when), r.get("type", ""))) for r in rows])

    def _write(self, action: Callable[[], list[str]], label: str, saying: str) -> bool:
        """`action` (the write; it returns the late-reminder lines) and the list's read after it, on
        the jobs thread; then shown. False: another write of this file is under way."""
        def work() -> tuple[list[str], tuple[list[dict[str, Any]], dict[str, str]]]:
            return action(), self._read()
        started = self.writing.start(self.jobs, work, self._written, self._refused, self.buttons[label], saying)
        if started:
            self.notice.setText("")
        return started

    def _written(self, answer: tuple[list[str], tuple[list[dict[str, Any]], dict[str, str]]]) -> None:
        late, read = answer
        self.problem.setText("")
        self.notice.setText("\n".join(late))  # said under the list: a rule's reminder that will not go, and why
        self._fill(read)
        self.changed()

    def _refused(self, exc: Exception) -> None:
        said_refused(exc, self.problem.setText, "Not done")

    def book(self, start: str, minutes: int, provider_id: str, location: str, appointment_type: str = "") -> bool:
        """Asked of the jobs thread; False: a write of this file is still under way."""
        reminders, now, pid = self.reminders, self.app.now(), self.patient["id"]

        def book() -> list[str]:
            aid = reminders.book(pid, start, minutes, now, provider_id, location, appointment_type=appointment_type)
            return reminders.late_reminders(aid, now)
        return self._write(book, "Book...", "Booking…")

    def move(self, aid: str, start: str) -> bool:
        reminders, now = self.reminders, self.app.now()

        def move() -> list[str]:
            reminders.move(aid, start, now)
            return reminders.late_reminders(aid, now)
        return self._write(move, "Move...", "Moving…")

    def ask_book(self) -> None:
        if self.writing.busy:
            return
        dialog = SlotDialog(self.app, self.patient, "Book an appointment", parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.book(dialog.start_text(), dialog.minutes.value(), dialog.provider.currentData(),
                      dialog.location.currentData(), dialog.type.currentText())

    def ask_move(self) -> None:
        if self.writing.busy:
            return
        ids = self.table.selected_ids()
        if not ids:
            self.problem.setText("Choose the appointment to move.")
            return
        dialog = SlotDialog(self.app, self.patient, "Move the appointment", self.reminders.get(ids[0]), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.move(ids[0], dialog.start_text())

    def cancel(self) -> bool:
        """Asked first, saying whether the patient will be emailed (a cancellation goes at once);
        then written on the jobs thread."""
        ids = self.table.selected_ids()
        if self.writing.busy:
            return False
        if not ids:
            self.problem.setText("Choose the appointment to cancel.")
            return False
        appt = self.reminders.get(ids[0])
        if appt.get("status") == "cancelled":
            self.problem.setText("That appointment is already cancelled.")
            return False
        if not plain.ask(self, "Cancel the appointment", self.cancel_question(appt)):
            return False
        reminders, aid, now = self.reminders, ids[0], datetime.now(timezone.utc)

        def cancel() -> list[str]:
            reminders.cancel(aid, now)
            return []
        return self._write(cancel, "Cancel appointment", "Cancelling…")

    def cancel_question(self, appt: dict[str, Any]) -> str:
        return cancel_question(self.app, self.patient, appt, self.when)


def on_day(shown: str) -> str:
    """'Today 14:00' as a sentence says it ('today at 14:00'); 'Fri 4 Dec 08:00' as 'on Fri 4 Dec 08:00'."""
    first, _, clock = shown.partition(" ")
    return f"{first.lower()} at {clock}" if first in ("Today", "Tomorrow", "Yesterday") else f"on {shown}"


def cancel_question(app: App, patient: dict[str, Any], appt: dict[str, Any], when: Callable[[str], str]) -> str:
    """The question before a cancellation, saying whether an email will be queued for the patient."""
    code = app.settings.get("reminders.cancellation_template")
    emailed = bool(code and app.templates.exists(code) and patient.get("email"))
    who = person_name(patient) or patient["id"]
    then = f"{who}'s appointment {on_day(when(appt['start']))}"
    return (f"Cancel {then}?\n\n" + ("A cancellation email will be queued for the patient." if emailed
                                      else "No cancellation email will be sent (none is set up, or no address)."))


def said_refused(exc: Exception, say: Callable[[str], None], not_done: str) -> None:
    """A write's answer when it failed: the problem in the practice's words; anything unforeseen
    said plainly, and raised to be reported (as an error in a slot is: kiosk/workers.py)."""
    if isinstance(exc, PracticeMailError):
        say(f"{exc.message}. {exc.hint}")
        return
    say(f"{not_done}: something went wrong; try again, and tell support if it happens again.")
    raise exc
