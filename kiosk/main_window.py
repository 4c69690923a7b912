"""The reception kiosk's main window: Inbox, Outbox, Deleted, Patients, Templates,
Send/Receive, Create New Email, the service light and the new-mail indicator.

Nothing slow runs on the GUI thread: Send/Receive and Restart go to a worker,
engine events arrive through the bridge.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import (QApplication, QHBoxLayout, QLineEdit, QMainWindow, QTabWidget, QWidget)

from engine.core.sms import shown_mobile
from engine.service.app import App, allowed
from kiosk import plain
from kiosk.admin_page import AdminPage
from kiosk.appearance import Appearance
from kiosk.bridge import EngineBridge, run_in_background
from kiosk.compose import ComposeDialog
from kiosk.day_list import DayList
from kiosk.toolbar import build_toolbar
from kiosk.mass_mail import MassMail
from kiosk.navigation import Navigation
from kiosk.inbox_page import InboxPage
from kiosk.jobs import Jobs, Refresher
from kiosk.outbox_page import OutboxPage
from kiosk.patient_edit import PatientEditDialog
from kiosk.patient_file import PatientFile
from kiosk.people import birthday
from kiosk.prompt_desk import PromptDesk
from kiosk.roles_desk import IdleWatch, RoleDesk
from kiosk.status_light import ServiceDialog
from kiosk.tables import ROWS, RecordTable, local_date, local_time, short_time
from kiosk.widgets import with_buttons
from kiosk.template_editor import TemplateEditor
from kiosk.wizard import SetupWizard

VIEWS = ("inbox", "outbox", "deleted", "patients", "templates", "admin", "appointments")


class MainWindow(RoleDesk, PromptDesk, QMainWindow):
    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app  # the one door: every part below is the app's own, built once
        self.composer, self.reminders, self.roles = app.composer, app.reminders, app.roles
        self.bridge = EngineBridge()  # subscribed once its signals are connected (below)
        self.jobs = Jobs(self)  # clicks' commands and refresh reads, off the GUI thread, in order
        self.zone = app.settings.snapshot().timezone  # `when` reads this, never the settings file
        app.settings.on_change(lambda _keys: self._new_zone())
        self.appearance = Appearance(QApplication.instance(), lambda: (int(app.settings.get("kiosk.font_size") or 0),
                                                                      bool(app.settings.get("kiosk.high_contrast"))))
        self.appearance.apply(*self.appearance.read())
        app.settings.on_change(lambda keys: any(str(k).startswith("kiosk.") for k in keys)
                               and self.appearance.settings_changed.emit())
        self._jobs: list[Any] = []
        self.dialog: QWidget | None = None  # the dialog a screenshot of a view should show
        self.last_compose: ComposeDialog | None = None
        self.last_pass: dict[str, Any] | None = None
        name = app.settings.get("practice.name") or "practicemail"
        self.setWindowTitle(f"{name} - practicemail")

        build_toolbar(self)
        self._build_tabs()
        self.tabs.currentChanged.connect(lambda _i: self.status_line.setText(""))  # old news stays behind
        # a role above reception falls back to reception when the desk is left alone
        self.role = "reception"
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(self.sign_out_idle)
        self.idle_watch = IdleWatch(self.idle)  # on the application while someone is signed in
        self.status_line = plain.label()  # says what servers answered: their words, never markup
        self.statusBar().addWidget(self.status_line)

        self.status_reads = Refresher(self.jobs, lambda: self._status_read, self._status_fill)
        self.bridge.service_state.connect(lambda _d: self.status_reads.request())
        self.bridge.new_mail.connect(self.on_new_mail)
        self.bridge.outbox_changed.connect(lambda _d: self.outbox_page.refresh_later())
        self.patient_reads = Refresher(self.jobs, self._patients_read, lambda rows: self.patients.fill(*rows))
        self.counts_reads = Refresher(self.jobs, lambda: self.app.desk_counts, self.navigation.show_counts)
        for table in (self.inbox, self.outbox):  # every refill (mail read, filed, sent): the numbers again
            table.model_.modelReset.connect(self.counts_reads.request)
            table.model_.dataChanged.connect(lambda *_a: self.counts_reads.request())  # read in place
        self.apply_role("reception")
        self._asking: set[int] = set()
        self._prompt_boxes: dict[int, Any] = {}
        # the worker asks the moment a confirmation falls due (engine/service/prompts.py): no timer
        self.bridge.prompt_due.connect(lambda details: self.ask_prompts([details["item"]]))
        self.bridge.prompt_withdrawn.connect(self.withdraw_prompt)  # answered at another desk: said who
        app.subscribe(self.bridge.deliver, answers_prompts=True)  # connected first: no question is lost
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.status_reads.request)
        self.timer.timeout.connect(self.counts_reads.request)
        self.timer.start(10_000)
        self.refresh_all()

    def _build_tabs(self) -> None:
        """Inbox, Outbox, Deleted, Patients, Templates, Admin: each page takes the App."""
        self.tabs = QTabWidget()
        self.inbox_page = InboxPage(self.app, lambda: self.role, self.when,
                                    lambda text: self.status_line.setText(text), self.refresh_outbox, self.jobs)
        self.inbox, self.deleted = self.inbox_page.table, self.inbox_page.deleted
        self.inbox_page.short = self.short
        self.message_view = self.inbox_page.message_view
        self.patients = RecordTable(("Name", "Date of birth", "Mobile", "Email", "Family", "Usual provider"))
        self.tabs.addTab(self.inbox_page, "Inbox")
        self.outbox_page = OutboxPage(self.app, self.when, lambda text: self.status_line.setText(text), self.jobs)
        self.outbox = self.outbox_page.table
        self.outbox_page.short = self.short
        self.outbox_page.on_email_pdf = self.email_as_pdf
        self.message_view.on_email_pdf = self.email_as_pdf
        self.tabs.addTab(self.outbox_page, "Outbox")
        self.tabs.addTab(self.inbox_page.deleted_tab, "Deleted")
        patients_box = with_buttons(self.patients, [("Open...", self.open_selected_patient),
                                                    ("Email...", self.email_selected_patient),
                                                    ("Add patient...", self.add_patient)],
                                   keys={"Open...": "Ctrl+O", "Email...": "Ctrl+E", "Add patient...": "Ctrl+Shift+A"})
        self.patient_search = QLineEdit()
        self.patient_search.setPlaceholderText("Find a patient: name, date of birth, phone or email")
        self.patient_search.setClearButtonEnabled(True)
        self.patient_search.textChanged.connect(lambda _t: self.refresh_patients())
        patients_box.layout().insertWidget(0, self.patient_search)
        self.tabs.addTab(patients_box, "Patients")
        self.patients.doubleClicked.connect(lambda _i: self.open_selected_patient())
        self.template_editor = TemplateEditor(self.app)
        self.tabs.addTab(self.template_editor, "Templates")
        self.admin_page = AdminPage(self.app)
        self.admin_page.on_email_pdf = self.email_as_pdf
        self.tabs.addTab(self.admin_page, "Admin")
        self.day_list = DayList(self.app, self.when, lambda text: self.status_line.setText(text), self.refresh_outbox)
        self.day_list.on_email_pdf = self.email_as_pdf
        self.day_list.on_open_patient = self.open_patient
        self.day_list.role, self.day_list.jobs = (lambda: self.role), self.jobs
        self.tabs.addTab(self.day_list, "Appointments")
        middle = QWidget()
        row = QHBoxLayout(middle)
        row.setContentsMargins(0, 0, 0, 0)
        self.navigation = Navigation(self.tabs, VIEWS, middle)
        row.addWidget(self.navigation)
        row.addWidget(self.tabs, 1)
        self.setCentralWidget(middle)

    def when(self, iso: str | None) -> str:
        """In the practice's zone from the settings snapshot (a row costs no settings read: 500
        rows each checking the settings file stalled the GUI ~100 ms while the worker fsynced).
        Pure, so refresh reads call it off the GUI thread too."""
        return local_time(iso, self.zone)

    def short(self, iso: str | None) -> str:
        """For the tables' time columns: 'Today 08:14', 'Tue 3 Dec 09:30' (kiosk/tables.py)."""
        return short_time(iso, self.zone, local_date(self.app.now(), self.zone))

    def _new_zone(self) -> None:  # settings were written (the wizard): the zone as they say now
        self.zone = self.app.settings.snapshot().timezone

    def _status_read(self) -> tuple[dict[str, Any], str]:  # jobs thread; another process may change the zone
        return self.app.status(), self.app.settings.snapshot().timezone

    def _status_fill(self, read: tuple[dict[str, Any], str]) -> None:
        status, self.zone = read
        self.light.show_status(status)

    # -- views ------------------------------------------------------------------------------
    def show_view(self, view: str) -> None:
        target = {"patient": "patients"}.get(view, view)
        if target in VIEWS:
            self.tabs.setCurrentIndex(VIEWS.index(target))
        if view == "inbox" and self.inbox.model_.rowCount():
            self.inbox_page.tag_filter.setCurrentIndex(self.inbox_page.tag_filter.findData("all"))
            self.inbox.selectRow(0)  # a message open in the reading pane
        if view == "patient":
            self.dialog = self.open_patient("P001")
        elif view == "compose":
            self.dialog = self.open_compose("P001")
        elif view == "wizard" and allowed(self.role, "setup_wizard"):  # as the toolbar's Setup
            self.dialog = self.open_wizard()
        elif view == "wizard":
            self.status_line.setText("Email setup is for a group allowed to change it: sign in first.")

    def refresh_all(self) -> None:
        self.refresh_status()
        self.refresh_inbox()
        self.refresh_outbox()
        self.refresh_patients()
        self.template_editor.reload()
        self.refresh_to_act_on()
        self.day_list.refresh()

    def refresh_patients(self) -> None:
        """The Patients view again, read on the jobs thread: the search builds the patient
        index when the patients changed (another desk's service, an import: 20,000 patients
        took 1.8 s cold, 0.1 s from kept entries), and the GUI thread never waits for it."""
        self.patient_reads.request()

    def _patients_read(self) -> Any:  # GUI thread: the words typed, captured now
        typed = self.patient_search.text()
        return lambda: self._patient_rows(typed)

    def _patient_rows(self, typed: str) -> tuple[list[Any], list[str]]:
        """Patients by name; the family as the others' first names, the provider by name; the
        codes in the row's tooltip. Jobs thread (store reads only)."""
        d = self.app.directory
        everyone = self.app.patients(typed, limit=ROWS)  # before anything is typed: the first ROWS by name
        region = str(self.app.settings.get("practice.country"))  # mobiles as reception dials them
        providers = d.names("providers", {p.usual_provider_id for p in everyone})
        families = d.family_first_names({p.family_id for p in everyone})
        return ([(p.id, (p.name, birthday(p.date_of_birth), shown_mobile(p.mobile, region), p.email,
                         ", ".join(first for code, first in families.get(p.family_id, []) if code != p.id),
                         providers.get(p.usual_provider_id, p.usual_provider_id)))
                 for p in everyone],
                [f"Patient code {p.id}" + (f", family {p.family_id}" if p.family_id else "") for p in everyone])

    def refresh_status(self) -> None:  # now, on the GUI thread; engine events use status_reads
        self.light.show_status(self.app.status())

    def refresh_inbox(self) -> None:
        self.inbox_page.refresh()

    def refresh_outbox(self) -> None:
        self.outbox_page.refresh()

    # -- actions ----------------------------------------------------------------------------
    def start_send_receive(self) -> None:
        """One manual pass, on a worker; the button is disabled until it finishes."""
        self.send_receive.setEnabled(False)
        self.cancel_pass.setEnabled(True)
        self.status_line.setText("Sending and receiving...")
        self._jobs.append(run_in_background(self.app.send_receive_now, self._pass_done, self._pass_failed,
                                            owner=self))

    def cancel_send_receive(self) -> None:
        """Cuts the pass's connections on a worker (it may wait a few seconds); the pass's own
        report then says it was cancelled."""
        self.cancel_pass.setEnabled(False)
        self.status_line.setText("Cancelling Send/Receive...")
        self._jobs.append(run_in_background(self.app.cancel_send_receive, lambda _r: None,
                                            lambda exc: self.status_line.setText(f"Could not cancel: {exc}"),
                                            owner=self))

    def _pass_done(self, report: dict[str, Any]) -> None:
        self.last_pass = report
        self.send_receive.setEnabled(True)
        self.cancel_pass.setEnabled(False)
        if report.get("cancelled"):
            self.status_line.setText(f"Send/Receive cancelled after {report['sent']} sent; nothing was lost: "
                                     "what was not sent goes at the next pass.")
            self.refresh_status()
            self.refresh_outbox()
            return
        text = f"Sent {report['sent']}, received {report['received']}"
        if report["failed"]:
            text += f", {report['failed']} failed"
        if report["errors"]:
            text += f" - {report['errors'][-1]['error']}"
        self.status_line.setText(text)
        self.status_reads.request()  # read on the jobs thread, filled when read
        self.outbox_page.refresh_later()
        if report["received"]:
            self.inbox_page.refresh_later()

    def _pass_failed(self, exc: Exception) -> None:
        self.send_receive.setEnabled(True)
        self.cancel_pass.setEnabled(False)
        self.status_line.setText(f"Send/Receive failed: {exc}")
        self.status_reads.request()

    def on_new_mail(self, details: dict[str, Any]) -> None:
        """The indicator counts what reception should look at: mail held as a flood is left out
        (it is in the inbox under the Flood tag, and said so in the tooltip). A notice from the
        database (another desk's service, details {"notice": ...}) carries no counts: just read."""
        if "notice" in details:
            self.inbox_page.refresh_later()
            return
        flooded = details.get("flooded", 0)
        n = details.get("received", 0) - flooded
        if n > 0:
            self.new_mail.setText(f"  {n} new message{'s' if n != 1 else ''}")
        tip = f"{n} arrived, {details.get('filed', 0)} filed to patients"
        if flooded:
            tip += f"; {flooded} from a sender sending too many at once, held under the Flood tag"
        self.new_mail.setToolTip(tip)
        self.inbox_page.refresh_later()
        self.jobs.run(self.reminders.needing_attention, self.show_to_act_on)

    def refresh_to_act_on(self) -> list[dict[str, Any]]:
        """Appointments a patient's calendar declined or proposed another time for: reception's tasks."""
        return self.show_to_act_on(self.reminders.needing_attention())

    def show_to_act_on(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.to_act_on.setText(f"  {len(tasks)} calendar answer{'s' if len(tasks) != 1 else ''} to act on"
                               if tasks else "")
        self.to_act_on.setToolTip("\n".join(plain.shown(f"{t['patient_id']} {self.when(t['start'])}: {t['attention']}")
                                            for t in tasks[:20]))
        return tasks

    def open_service_dialog(self) -> ServiceDialog:
        dialog = ServiceDialog(self.light.status, self)
        dialog.restart_requested.connect(lambda: self.restart_service(dialog))
        dialog.sign_in_requested.connect(lambda: (dialog.accept(), self.open_wizard(at_sign_in=True))
                                         if allowed(self.role, "setup_wizard") else self.status_line.setText(
                                             "Signing the mail account in again is for a group allowed email setup."))
        dialog.show()
        return dialog

    def restart_service(self, dialog: ServiceDialog | None = None) -> None:
        if dialog is not None:
            dialog.restart.setEnabled(False)

        def done(_: Any) -> None:
            self.refresh_status()
            if dialog is not None:
                dialog.accept()

        self._jobs.append(run_in_background(self.app.restart, done, lambda exc: self.refresh_status(), owner=self))

    def email_as_pdf(self, patient_id: str | None, pdf: Any) -> ComposeDialog:
        """Email as PDF from a printing view: compose to the patient it is about, the PDF attached
        (the confidentiality gate decides, as for any email, who else may receive it)."""
        dialog = self.open_compose(patient_id)
        dialog.files.add(pdf)
        return dialog

    def open_mass_mail(self, modal: bool = False) -> MassMail:
        self.last_mass_mail = dialog = MassMail(self.app, self.jobs, self)
        dialog.exec() if modal else dialog.show()
        return dialog

    def open_compose(self, patient_id: str | None = None) -> ComposeDialog:
        dialog = ComposeDialog(self.app, patient_id, self)
        dialog.accepted.connect(self.refresh_outbox)
        dialog.show()
        self.last_compose = dialog
        return dialog

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name; the App closes after the window
        self.jobs.finish()
        super().closeEvent(event)

    def open_wizard(self, at_sign_in: bool = False) -> SetupWizard:
        """Email setup; `at_sign_in`: straight to the sign-in page (the light's "Sign in again")."""
        wizard = SetupWizard(self.app, self, role=self.role)
        if at_sign_in:
            wizard.start_at_sign_in()
        wizard.accepted.connect(self.refresh_all)
        wizard.show()
        return wizard

    def open_selected_patient(self) -> None:
        ids = self.patients.selected_ids()
        if ids:
            self.open_patient(ids[0])

    def open_patient(self, patient_id: str) -> PatientFile:
        d = self.app.directory
        patient = d.require("patients", patient_id)
        provider = d.names("providers", [patient.get("usual_provider_id", "")]).get(patient.get("usual_provider_id", ""))
        dialog = PatientFile(patient, d.family(patient), self.app.inbox.contact_history(patient_id),
                             lambda pid: self.open_compose(pid), self.when, self.app, self.refresh_outbox, self,
                             provider_name=provider or "", short=self.short, jobs=self.jobs)
        dialog.on_email_pdf = self.email_as_pdf
        dialog.on_edited = self.refresh_patients
        dialog.show()
        return dialog

    def add_patient(self) -> PatientEditDialog:
        """A new patient typed at the desk; the list shows them once saved."""
        dialog = PatientEditDialog(self.app, None, self, jobs=self.jobs)
        dialog.accepted.connect(lambda: (self.refresh_patients(), self.status_line.setText(
            f"Patient {dialog.saved.name if dialog.saved else ''} added.")))
        dialog.show()
        self.dialog = dialog
        return dialog

    def email_selected_patient(self) -> None:
        ids = self.patients.selected_ids()
        self.open_compose(ids[0] if ids else None)
