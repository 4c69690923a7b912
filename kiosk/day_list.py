"""The day list: one day's appointments as reception runs the day, with how far each
confirmation got and what the patient's calendar answered (accepted, declined, a proposed
time; an answer to an older version of the time shown as outdated). Moving and cancelling
go through the engine's reminders, as in the patient file; it prints and emails as PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from PyQt6.QtCore import QDate
from PyQt6.QtWidgets import QDateEdit, QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from engine.service.app import App, DayAppointment, RecallLine, allowed
from kiosk import plain, printing
from kiosk.appointments import SlotDialog, calendar_text, cancel_question, said_refused
from kiosk.jobs import Jobs, OneWrite, Refresher
from kiosk.recall_run import RecallRunDialog
from kiosk.tables import RecordTable
from kiosk.widgets import keyed, no_checked

COLUMNS = ("Time", "Patient", "Provider", "Type", "Status", "Confirmation", "Calendar")
CONFIRMATION_WORDS = {"draft": "held for reception", "ready": "waiting to go", "sending": "going",
                      "sent": "sent", "failed": "failed", "cancelled": "not sent", "deleted": "deleted",
                      "pending_link": "waiting for its link", "link_failed": "link failed", "bounced": "bounced"}
ON_ITS_WAY = {"draft", "ready", "sending", "pending_link"}  # the invitation goes with the confirmation


def no_confirmation(a: DayAppointment, confirmations_on: bool, has_email: bool) -> str:
    """Why no confirmation went, and what reception does about it (the engine confirms only what
    is booked or moved here, with a confirmation template set, to a patient with an address)."""
    if a.status == "cancelled":
        return "not needed (cancelled)"
    why = ("automatic confirmations off" if not confirmations_on else "no email address" if not has_email
           else "imported" if a.record.get("source") != "reception" else "not sent when booked")
    return f"none ({why}): phone to confirm"


def calendar_words(a: DayAppointment, answered: str, invitations_on: bool) -> str:
    """The calendar's answer, else where the invitation is: not sent, on its way, or sent and unanswered."""
    if answered or a.status == "cancelled":
        return answered
    if not invitations_on:
        return "none (calendar invitations off)"
    if a.confirmation == "sent":
        return "no answer yet"
    return "invitation not sent yet" if a.confirmation in ON_ITS_WAY else "no invitation sent"


class DayList(QWidget):
    def __init__(self, app: App, when: Callable[[str], str], say: Callable[[str], None],
                 changed: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.app = app
        self.when = when
        self.say = say
        self.changed = changed
        self.rows: list[DayAppointment] = []
        self.shown: list[tuple[str, ...]] = []  # the rows' words as shown (and printed)
        self.reads: Refresher | None = None  # the day's rows, read on the jobs thread
        # set by the main window: open compose with the PDF attached, and a patient's file
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        self.on_open_patient: Callable[[str], Any] = lambda _pid: None
        self.role: Callable[[], Any] = lambda: "reception"  # who is at the desk (the main window's role)
        self.jobs: Jobs | None = None  # the main window's jobs thread (a recall run goes there)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        today = app.now().astimezone(app.zone()).date()
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.day.dateChanged.connect(lambda _d: self.refresh())
        for label, step, key, tip in (("< Previous", -1, "Alt+Left", "The day before"), ("Today", 0, "Ctrl+T", "Today"),
                                      ("Next >", 1, "Alt+Right", "The day after")):
            b = QPushButton(label)
            b.setToolTip(tip)
            keyed(b, key)
            b.clicked.connect(no_checked(lambda step=step: self.go(step)))
            top.addWidget(b)
        top.insertWidget(1, self.day)
        top.addStretch(1)  # the day on the left, what to do with it on the right: one row above the list
        self.buttons: dict[str, QPushButton] = {}
        for label, slot, key in (("Open patient...", self.open_patient, "Ctrl+O"), ("Move...", self.ask_move, "Ctrl+M"),
                                 ("Cancel appointment...", self.cancel, "Ctrl+Shift+X"), ("Print...", self.print_day, "Ctrl+P"),
                                 ("Email as PDF...", self.email_as_pdf, "Ctrl+Shift+E"),
                                 ("Recall list...", self.open_recalls, "Ctrl+L")):
            b = keyed(QPushButton(label), key)
            b.clicked.connect(no_checked(slot))
            top.addWidget(b)
            self.buttons[label] = b
        self.writing = OneWrite([self.buttons["Move..."], self.buttons["Cancel appointment..."]])
        layout.addLayout(top)
        self.table = RecordTable(COLUMNS)
        self.table.doubleClicked.connect(lambda _i: self.open_patient())
        layout.addWidget(self.table)

    def chosen_day(self) -> date:
        return self.day.date().toPyDate()

    def go(self, step: int) -> None:
        """A day back or forward; 0: today."""
        if step == 0:
            today = self.app.now().astimezone(self.app.zone()).date()
            self.day.setDate(QDate(today.year, today.month, today.day))
        else:
            self.day.setDate(self.day.date().addDays(step))

    def refresh(self) -> None:
        """The chosen day read on the jobs thread (a practice's every appointment and outbox item
        were read on the GUI thread at each day changed: ~0.5 s at 40,000), then filled."""
        if self.reads is None:
            assert self.jobs is not None, "the main window gives the day list its jobs thread"
            self.reads = Refresher(self.jobs, self._read, self._fill)
        self.reads.request()

    def _read(self) -> Callable[[], tuple[date, list[DayAppointment], list[tuple[str, ...]]]]:
        day = self.chosen_day()

        def work() -> tuple[date, list[DayAppointment], list[tuple[str, ...]]]:
            rows = self.app.appointments_on(day)
            settings, code = self.app.settings, self.app.settings.get("reminders.confirmation_template")
            said = (bool(code and self.app.templates.exists(code)), bool(settings.get("reminders.include_ical")))
            emails = {k: bool(p.get("email")) for k, p in self.app.directory.people(
                "patients", {a.patient_id for a in rows}).items()}
            return day, rows, [self._cells(a, said, emails.get(a.patient_id, False)) for a in rows]
        return work

    def _fill(self, read: tuple[date, list[DayAppointment], list[tuple[str, ...]]]) -> None:
        day, rows, cells = read
        if self.reads is not None and self.reads.again:  # another day chosen meanwhile: its rows follow
            return
        self.rows, self.shown = rows, cells
        self.table.fill(list(zip((a.id for a in rows), cells)),
                        [f"Appointment {a.id}, patient code {a.patient_id}" for a in rows])

    def _cells(self, a: DayAppointment, said: tuple[bool, bool], has_email: bool) -> tuple[str, ...]:
        """A row's words (jobs thread: store reads and the clock's zone only)."""
        start = datetime.fromisoformat(a.start).astimezone(self.app.zone())
        confirmations_on, invitations_on = said
        if a.record.get("confirmed"):  # "C" by text (engine/service/sms.py)
            confirmed = "confirmed by the patient"
        elif a.confirmation and not (a.status == "cancelled" and a.confirmation in ("cancelled", "deleted")):
            confirmed = CONFIRMATION_WORDS.get(a.confirmation, a.confirmation)
        else:
            confirmed = no_confirmation(a, confirmations_on, has_email)
        return (f"{start:%H:%M} ({a.minutes} min)", a.patient_name, a.provider, a.type, a.status, confirmed,
                calendar_words(a, calendar_text(a.record, self.when), invitations_on))

    def selected(self) -> DayAppointment | None:
        ids = self.table.selected_ids()
        found = [a for a in self.rows if ids and a.id == ids[0]]
        if not found:
            self.say("Choose an appointment in the list first.")
        return found[0] if found else None

    def open_patient(self) -> Any:
        a = self.selected()
        return self.on_open_patient(a.patient_id) if a else None

    def ask_move(self) -> None:
        if self.writing.busy:
            return
        a = self.selected()
        if a is None:
            return
        patient = self.app.directory.require("patients", a.patient_id)
        dialog = SlotDialog(self.app, patient, "Move the appointment", a.record, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.move(a.id, dialog.start_text())

    def move(self, aid: str, start: str) -> bool:
        """Moved on the jobs thread; the status line says so, and names each reminder rule too
        late for the new time. False: a move or cancellation is still being written."""
        reminders, now = self.app.reminders, self.app.now()

        def move() -> list[str]:
            reminders.move(aid, start, now)
            return reminders.late_reminders(aid, now)

        def moved(late: list[str]) -> None:
            self._written(" ".join(["Appointment moved.", *late]) if late
                          else "Appointment moved; the new confirmation is queued.")
        return self._write(move, moved, "Move...", "Moving…")

    def cancel(self) -> bool:
        """Asked first, saying whether a cancellation email will be queued; written on the jobs thread."""
        if self.writing.busy:
            return False
        a = self.selected()
        if a is None:
            return False
        if a.status == "cancelled":
            self.say("That appointment is already cancelled.")
            return False
        patient = self.app.directory.require("patients", a.patient_id)
        if not plain.ask(self, "Cancel the appointment", cancel_question(self.app, patient, a.record, self.when)):
            return False
        reminders, aid, now, words = self.app.reminders, a.id, datetime.now(timezone.utc), \
            f"{a.patient_name}'s appointment cancelled."
        return self._write(lambda: reminders.cancel(aid, now), lambda _none: self._written(words),
                           "Cancel appointment...", "Cancelling…")

    def _write(self, action: Callable[[], Any], done: Callable[[Any], None], label: str, saying: str) -> bool:
        """The write on the jobs thread (issue 19: 50-330 ms on the GUI thread at 40,000
        appointments), Move and Cancel taking no click meanwhile; False: one is under way."""
        assert self.jobs is not None, "the main window gives the day list its jobs thread"
        return self.writing.start(self.jobs, action, done, lambda exc: said_refused(exc, self.say, "Not done"),
                                  self.buttons[label], saying)

    def _written(self, words: str) -> None:
        self.say(words)
        self.refresh()
        self.changed()

    def document(self) -> Any:
        """The day as the print shows it: one line an appointment."""
        lines = ["  ".join(f"{c:<22}" if i < 3 else c for i, c in enumerate(cells)) for cells in self.shown]
        return printing.document([("Appointments", self.day.date().toString("dddd d MMMM yyyy")),
                                  ("Count", str(len(self.rows)))], "\n".join(lines) or "No appointments.")

    def print_day(self) -> bool:
        return printing.print_with_dialog(self.document(), self)

    def email_as_pdf(self) -> Any:
        """The day list as a PDF in a new email (to whom is reception's choice; the gate decides)."""
        return self.on_email_pdf(None, printing.pdf_attachment(self.document(), "appointments.pdf"))

    def open_recalls(self) -> "RecallList":
        dialog = RecallList(self.app, self, lambda: allowed(self.role(), "mass_email"), self.jobs or Jobs(self),
                            self.changed)
        dialog.on_email_pdf = self.on_email_pdf
        dialog.show()
        self.last_recalls = dialog
        return dialog


class RecallList(QDialog):
    """Who is due a recall, soonest first: printed or emailed as PDF (to whom is reception's choice);
    "Run recalls..." queues them (kiosk/recall_run.py), shown only to a group allowed mass email."""

    def __init__(self, app: App, parent: QWidget | None = None, may_run: Callable[[], bool] = lambda: False,
                 jobs: Jobs | None = None, changed: Callable[[], None] = lambda: None) -> None:
        super().__init__(parent)
        self.app, self.may_run, self.changed = app, may_run, changed
        self.jobs = jobs if jobs is not None else Jobs(self)
        self.setWindowTitle("Recall list")
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        self.lines: list[RecallLine] = app.recall_list()
        layout = QVBoxLayout(self)
        self.table = RecordTable(("Due", "Patient", "Recall", "Status"))
        self.table.fill([(n, (f"{r.due:%d %b %Y}", r.patient_name, r.type, r.status))
                         for n, r in enumerate(self.lines)], [f"Patient code {r.patient_id}" for r in self.lines])
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, slot in (("Print...", lambda: printing.print_with_dialog(self.document(), self)),
                            ("Email as PDF...", self.email_as_pdf), ("Run recalls...", self.open_run)):
            b = QPushButton(label)
            b.clicked.connect(no_checked(slot))
            row.addWidget(b)
            self.buttons[label] = b
        for label, key in (("Print...", "Ctrl+P"), ("Email as PDF...", "Alt+E"), ("Run recalls...", "Alt+R")):
            keyed(self.buttons[label], key)
        self.buttons["Run recalls..."].setVisible(may_run())
        row.addStretch(1)
        layout.addLayout(row)
        self.resize(640, 480)
        self.last_run: RecallRunDialog | None = None

    def open_run(self) -> RecallRunDialog | None:
        """The recall run's dialog, for a group allowed mass email (asked again when it queues)."""
        if not self.may_run():
            return None
        dialog = RecallRunDialog(self.app, self.jobs, self.may_run, self.changed, self)
        dialog.show()
        self.last_run = dialog
        return dialog

    def document(self) -> Any:
        text = "\n".join(f"{r.due:%d %b %Y}  {r.patient_name:<30}  {r.type:<12}  {r.status}" for r in self.lines)
        return printing.document([("Recall list", f"{len(self.lines)} recall(s)")], text or "No recalls on file.")

    def email_as_pdf(self) -> Any:
        return self.on_email_pdf(None, printing.pdf_attachment(self.document(), "recall-list.pdf"))
