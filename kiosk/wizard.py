"""The setup wizard: account, the connection (a proxy), the step-by-step test (nothing sent), schedule and pacing,
reminders. Values are validated by the engine's settings catalogue; a bad one is named
with its hint and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLineEdit, QListWidget, QListWidgetItem,
                             QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget, QWizard,
                             QWizardPage)

from engine.core.status import plain_line
from engine.errors import PracticeMailError
from engine.service.app import App
from kiosk import plain
from kiosk.bridge import run_in_background
from kiosk.signin_page import SignInPage
from kiosk.widgets import CLOSE_KEY, keyed
from kiosk.wizard_proxy import KEYS as PROXY_KEYS, ProxyPage
from kiosk.wizard_schedule import KEYS as SCHEDULE_KEYS, SchedulePage
from kiosk.wizard_cancel import ACCOUNT, put_back
from kiosk.wizard_sms import KEYS as SMS_KEYS, SmsPage

PORTS = {"imap": 993, "pop3": 995}
CONNECTION = ("The email service needs a working internet connection: it reaches the practice's mail servers "
              "over the internet, and nothing is sent or received while the connection is down.")
SIGN_IN_KEYS = ("outgoing.auth", "incoming.auth", "oauth.provider", "oauth.client_id", "oauth.tenant", "oauth.issuer")


def in_the_wizard(text: str) -> str:
    """A hint written for the rest of the program says "in the setup wizard": here we are in it."""
    return text.replace(" in the setup wizard", "")


def template_combo(templates: list[tuple[str, str]], current: str) -> QComboBox:
    """Templates by description (their code in the tooltip), "(none)" first."""
    combo = QComboBox()
    combo.addItem("(none)", "")
    for code, description in templates:
        combo.addItem(plain.shown(description or code), code)
        combo.setItemData(combo.count() - 1, plain.tip(f"Template code {code}"), Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class AccountPage(QWizardPage):
    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        self.setTitle("Account")
        self.setSubTitle("The practice's email account. Ask your provider if you are unsure.")
        form = QFormLayout(self)
        self.email = QLineEdit(values["practice.email"])
        self.username = QLineEdit(values["account.username"])
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("unchanged" if values["account.password"] else "")
        self.incoming_enabled = QCheckBox("Receive email")
        self.incoming_enabled.setChecked(bool(values["incoming.enabled"]))
        self.use_imap = QCheckBox("Use IMAP (recommended)")
        first = not values["outgoing.host"] and not values["incoming.host"]  # a fresh setup: IMAP, 993
        self.use_imap.setChecked(first or values["incoming.protocol"] == "imap")
        self.incoming_host = QLineEdit(values["incoming.host"])
        self.incoming_port = QSpinBox()
        self.incoming_port.setRange(1, 65535)
        self.incoming_port.setValue(PORTS["imap"] if first else int(values["incoming.port"]))
        self.outgoing_host = QLineEdit(values["outgoing.host"])
        self.outgoing_port = QSpinBox()
        self.outgoing_port.setRange(1, 65535)
        self.outgoing_port.setValue(int(values["outgoing.port"]))
        self.starttls = QCheckBox("Use STARTTLS (port 25 only)")
        self.starttls.setChecked(bool(values["outgoing.starttls"]))
        self.outgoing_auth = QCheckBox("The outgoing server needs a login")
        self.outgoing_auth.setChecked(bool(values["outgoing.auth"]))
        self.signs_in = QCheckBox("Sign in instead of a password (Microsoft 365, Google, another provider)")
        self.signs_in.setChecked("oauth2" in (values["outgoing.auth"], values["incoming.auth"]))
        self.allow_without = QCheckBox("Finish setup without account details (email stays off)")
        self.allow_without.setChecked(bool(values["setup.allow_without_account"]))
        for label, widget in (("Practice email address", self.email), ("User name", self.username),
                              ("Password", self.password), ("", self.incoming_enabled), ("", self.use_imap),
                              ("Incoming server", self.incoming_host), ("Incoming port", self.incoming_port),
                              ("Outgoing server", self.outgoing_host), ("Outgoing port", self.outgoing_port),
                              ("", self.starttls), ("", self.outgoing_auth), ("", self.signs_in),
                              ("", self.allow_without)):
            form.addRow(label, widget)
        self.use_imap.toggled.connect(self._protocol_changed)
        self.incoming_enabled.toggled.connect(self._incoming_toggled)
        self.outgoing_port.valueChanged.connect(lambda port: self.starttls.setEnabled(port == 25))
        self.starttls.setEnabled(self.outgoing_port.value() == 25)
        self._incoming_toggled(self.incoming_enabled.isChecked())

    def _protocol_changed(self, imap: bool) -> None:
        """Use IMAP switches the suggested port (993 IMAP, 995 POP3) unless the port was changed by hand."""
        if self.incoming_port.value() in PORTS.values():
            self.incoming_port.setValue(PORTS["imap" if imap else "pop3"])

    def _incoming_toggled(self, on: bool) -> None:
        for w in (self.use_imap, self.incoming_host, self.incoming_port):
            w.setEnabled(on)  # greyed, values kept

    def values(self) -> dict[str, Any]:
        out = {
            "practice.email": self.email.text(), "account.username": self.username.text(),
            "incoming.enabled": self.incoming_enabled.isChecked(),
            "incoming.protocol": "imap" if self.use_imap.isChecked() else "pop3",
            "incoming.host": self.incoming_host.text(), "incoming.port": self.incoming_port.value(),
            "outgoing.host": self.outgoing_host.text(), "outgoing.port": self.outgoing_port.value(),
            "outgoing.starttls": self.starttls.isChecked(), "outgoing.auth": self.outgoing_auth.isChecked(),
            "setup.allow_without_account": self.allow_without.isChecked(),
        }
        if self.password.text():
            out["account.password"] = self.password.text()
        return out


class TestPage(QWizardPage):
    def __init__(self, wizard: "SetupWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Test the account")
        self.setSubTitle("Each step is tried in turn. Nothing is sent.")
        layout = QVBoxLayout(self)
        self.run = QPushButton("Test Credentials")
        self.run.clicked.connect(self.start)
        keyed(self.run, "Alt+T")  # the wizard's own: Alt+B, Alt+N, Alt+F (underlined), Esc
        layout.addWidget(self.run)
        self.progress = QProgressBar()  # busy while a step runs (the steps come back together)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Testing...")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.steps = QListWidget()
        self.steps.setWordWrap(True)  # a server's long answer wraps instead of being cut off
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.steps)
        self.verdict = plain.label(wrap=True)  # a server's answer, word for word
        layout.addWidget(self.verdict)
        self.service = plain.label(wrap=True)  # information beside the result, never part of it
        layout.addWidget(self.service)
        self.connection = plain.label(CONNECTION, wrap=True)
        layout.addWidget(self.connection)
        self.passed = False
        self.result: dict[str, Any] | None = None
        self._job: Any = None

    def start(self) -> None:
        try:
            self.wiz.save_account()  # the test uses what was typed (validated first)
        except PracticeMailError as exc:
            self.verdict.setText(f"{exc.message}. {exc.hint}")
            return
        self.run.setEnabled(False)
        self.steps.clear()
        self.service.setText("")
        self.verdict.setText(f"Testing: connecting to the servers{self.wiz.proxy.route()}...")
        self.progress.setVisible(True)
        self._job = run_in_background(self.wiz.app.test_credentials, self.done, self.failed, owner=self)

    def done(self, result: dict[str, Any]) -> None:
        self.result = result
        self.run.setEnabled(True)
        self.progress.setVisible(False)
        for st in result["steps"]:
            text = plain_line(f"{'✔' if st['ok'] else '✘'}  {st['name']}  ({st['seconds']:.2f} s)  "
                              f"{in_the_wizard(st['message'])}", 300)
            self.steps.addItem(QListWidgetItem(text))
        self.passed = bool(result["ok"])  # about the servers only
        self.verdict.setText(f"Passed: every step worked{self.wiz.proxy.route()}." if self.passed
                             else plain_line(in_the_wizard(f"Failed: {result['message']}. {result['hint']}"), 400))
        service = result.get("service") or {}
        if service:
            self.service.setText(plain_line(f"For information: {service['message']}."
                                            + (f" {service['hint']}" if service.get("hint") else ""), 400))
        self.completeChanged.emit()

    def failed(self, exc: Exception) -> None:
        self.run.setEnabled(True)
        self.progress.setVisible(False)
        self.verdict.setText(in_the_wizard(f"The test could not run: {exc}"))

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        """Compulsory only on first setup, and not when the practice chose to finish without an account."""
        return self.passed or not self.wiz.first_setup or self.wiz.account.allow_without.isChecked()


class RemindersPage(QWizardPage):
    KEYS = ("reminders.confirmation_template", "reminders.cancellation_template", "reminders.new_patient_template")

    def __init__(self, values: dict[str, Any], templates: list[tuple[str, str]]) -> None:
        """templates: (code, description), listed by description with the code in the tooltip."""
        super().__init__()
        self.setTitle("Reminders")
        form = QFormLayout(self)
        self.combos: dict[str, QComboBox] = {}
        for key, label in zip(self.KEYS, ("Confirmation", "Cancellation", "Welcome")):
            combo = template_combo(templates, values[key])
            self.combos[key] = combo
            form.addRow(f"{label} template", combo)
        self.delay = QSpinBox()
        self.delay.setRange(0, 99)
        self.delay.setValue(int(values["reminders.confirmation_delay_minutes"]))
        form.addRow("Hold confirmations (minutes)", self.delay)
        self.ical = QCheckBox("Attach a calendar invitation")
        self.ical.setChecked(bool(values["reminders.include_ical"]))
        form.addRow("", self.ical)
        self.alarm = QSpinBox()
        self.alarm.setRange(-1, 40320)
        self.alarm.setSpecialValueText("No alarm")  # -1: the setting left empty
        alarm = values.get("reminders.alarm_minutes")
        self.alarm.setValue(-1 if alarm in (None, "") else int(alarm))
        form.addRow("Calendar alarm (minutes before)", self.alarm)
        self.prompt = QCheckBox("Ask reception before each confirmation is sent")
        self.prompt.setChecked(bool(values["reminders.prompt_before_send"]))
        form.addRow("", self.prompt)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: c.currentData() for k, c in self.combos.items()}
        out["reminders.confirmation_delay_minutes"] = self.delay.value()
        out["reminders.include_ical"] = self.ical.isChecked()
        out["reminders.alarm_minutes"] = "" if self.alarm.value() < 0 else self.alarm.value()
        out["reminders.prompt_before_send"] = self.prompt.isChecked()
        return out


class PracticePage(QWizardPage):
    """The practice's own details: templates and invitations use them, "Email support" needs
    the support address."""

    def __init__(self, values: dict[str, Any], templates: list[tuple[str, str]]) -> None:
        super().__init__()
        self.setTitle("The practice")
        self.setSubTitle("How the practice is named in emails and calendar invitations.")
        form = QFormLayout(self)
        self.name = QLineEdit(values["practice.name"] or "")
        self.phone = QLineEdit(values["practice.phone"] or "")
        self.address = QPlainTextEdit(values["practice.address"] or "")
        self.address.setMaximumHeight(70)
        self.address.setTabChangesFocus(True)
        self.support = QLineEdit(values["support.address"] or "")
        self.support.setPlaceholderText("support@your-it-company.example")
        self.signature = template_combo(templates, values["signature.template"] or "")
        for label, w in (("Practice name", self.name), ("Phone", self.phone), ("Address", self.address),
                         ("Support email address", self.support), ("Signature template", self.signature)):
            form.addRow(label, w)

    def values(self) -> dict[str, Any]:
        """The address on one line (a setting is one line of text): lines joined by commas."""
        address = ", ".join(x.strip() for x in self.address.toPlainText().splitlines() if x.strip())
        return {"practice.name": self.name.text().strip(), "practice.phone": self.phone.text().strip(),
                "practice.address": address, "support.address": self.support.text().strip(),
                "signature.template": self.signature.currentData()}


class TomorrowPage(QWizardPage):
    """The settings are saved on arriving here; then the practice sees what tomorrow will look like."""

    def __init__(self, wizard: "SetupWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Tomorrow")
        layout = QVBoxLayout(self)
        self.lines = QListWidget()
        layout.addWidget(self.lines)
        self.saved_ok = False

    def initializePage(self) -> None:  # noqa: N802 - Qt's name

        self.lines.clear()
        self.saved_ok = self.wiz.save_all()
        if not self.saved_ok:
            self.setSubTitle(f"Not saved: {self.wiz.last_error}. Go back and correct it.")
            return
        self.setSubTitle("Saved. This is what the next 24 hours will look like:")
        snap = self.wiz.settings.snapshot()
        tz = snap.tz
        lines = self.wiz.app.preview(24)  # the schedule rule's plan
        for x in lines or []:
            self.lines.addItem(plain.shown(f"{x.at.astimezone(tz):%a %H:%M}  {x.what}  {x.detail}"))
        if not lines:
            mode = "automatically" if snap.schedule.automatic else "when someone presses Send/Receive"
            self.lines.addItem(f"Nothing is planned in the next 24 hours; mail goes {mode}.")

    def isComplete(self) -> bool:  # noqa: N802
        return self.saved_ok


class SetupWizard(QWizard):
    def __init__(self, app: App, parent: QWidget | None = None, role: Any = "reception") -> None:
        super().__init__(parent)
        self.app = app
        self.settings = app.settings
        values = self.settings.values()
        self.first_setup = not values["outgoing.host"]
        self.setWindowTitle("Email setup")
        self.setSubTitleFormat(plain.PLAIN)  # a sub-title may carry a server's or a setting's words
        self.setTitleFormat(plain.PLAIN)
        self.account = AccountPage(values)
        self.proxy = ProxyPage(self, values)
        self.signin = SignInPage(self, values)
        self.test = TestPage(self)
        self.schedule = SchedulePage(values, self.settings)
        templates = [(t.code, t.description) for t in app.templates.list()]
        self.reminders = RemindersPage(values, templates)
        self.practice = PracticePage(values, templates)
        self.sms = SmsPage(app, values, role)
        self.sms_tested = False  # a successful SMS test keeps what it tested, even on Cancel (the ID is locked)
        self.tomorrow = TomorrowPage(self)
        self.page_ids = {id(page): self.addPage(page) for page in (self.account, self.proxy, self.signin, self.test,
                                                                   self.schedule, self.reminders, self.practice,
                                                                   self.sms, self.tomorrow)}
        keyed(self.button(QWizard.WizardButton.CancelButton), CLOSE_KEY)
        self.last_error = ""
        self.error = plain.label()
        self.error.setStyleSheet(plain.PROBLEM)
        self.saved = False
        keys = [*self.account.values(), *SCHEDULE_KEYS, *self.reminders.values(), *self.practice.values(),
                *SIGN_IN_KEYS, *SMS_KEYS, *PROXY_KEYS]
        self._before = {k: self.settings.get(k) for k in keys if k != "account.password"}
        self._before["account.password"] = self.settings.secret("account.password")
        self._before["sms.secret"] = self.settings.secret("sms.secret")
        self._before["proxy.password"] = self.settings.secret("proxy.password")
        self._unset = {k for k in self._before if self.settings.is_default(k)}  # the engine's: kept so on Cancel
        self._wrote = False  # the test and the Tomorrow page save as they go; Cancel puts them back
        self._lock_before = self.settings.locked(ACCOUNT)  # Cancel locks it again after an Unlock here

    def start_at_sign_in(self) -> None:
        """Straight to signing in again (the light's button when a sign-in expired)."""
        self.setStartId(self.page_ids[id(self.signin)])

    def nextId(self) -> int:  # noqa: N802 - Qt's name
        """The sign-in page only for an account that signs in."""
        if self.currentPage() is self.proxy and not self.account.signs_in.isChecked():
            return self.pageIds()[self.pageIds().index(self.currentId()) + 2]
        return super().nextId()

    def save_account(self) -> None:
        self.settings.set_many({**self.account.values(), **self.signin.values()})
        self._wrote = True

    def save_all(self) -> bool:
        """Every page's values in one validated write; a bad value is named and nothing is saved."""
        try:
            self.settings.set_many({**self.account.values(), **self.signin.values(), **self.schedule.values(),
                                    **self.reminders.values(), **self.practice.values(), **self.sms.values(),
                                    **self.proxy.values()})
            self._wrote = True
        except PracticeMailError as exc:
            self.last_error = f"{exc.message}. {exc.hint}"
            self.reminders.setSubTitle(f"Not saved: {self.last_error}")
            return False
        self.saved = True
        return True

    def accept(self) -> None:
        if self.save_all():
            super().accept()

    def reject(self) -> None:
        """Cancel cancels: what was saved on the way is put back, and the practice ID's lock
        (kiosk/wizard_cancel.py); a refusal is said in one line and the wizard stays open."""
        unlocked = self._lock_before is not None and self.settings.locked(ACCOUNT) is None
        if self._wrote or self.sms_tested or self.proxy.saved or unlocked:
            kept = SMS_KEYS + ("sms.secret",) if self.sms_tested else ()
            before = {k: v for k, v in self._before.items() if k not in self._unset or not self.settings.is_default(k)}
            said, retry = put_back(self.settings, before, self._lock_before, kept)
            if not retry:  # written: a second Cancel closes
                self._wrote = self.sms_tested = self.proxy.saved = False
                self.saved = False
            if said:
                self.last_error = said
                (self.currentPage() or self.sms).setSubTitle(said)
                return
        super().reject()
