"""The setup wizard's text-message page: the provider, its practice ID, secret and sender, quiet
hours, the most parts a text may have, and the reply words; Test asks the provider for the
balance (nothing is sent). Once a test succeeds the practice ID is locked: the field is read
only, and only someone allowed to (the super user, behind their PIN) unlocks it, after a warning."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QPushButton, QSpinBox, QWizardPage

from engine.errors import PracticeMailError
from engine.service.app import App, SignedIn, allowed
from kiosk import plain
from kiosk.bridge import run_in_background
from kiosk.widgets import keyed

UNLOCK = "unlock_sms_account"  # the permission (engine/service/roles.py)
KEYS = ("sms.provider", "sms.account", "sms.sender", "sms.quiet_hours", "sms.per_minute", "sms.max_segments",
        "sms.confirm_words", "sms.opt_out_words")
NOT_PACED = "Not paced"  # sms.per_minute left empty: texts go as soon as they are due
PROVIDERS = (("none", "None (no text messages)"), ("twilio", "Twilio (Messages API)"))


class SmsPage(QWizardPage):
    def __init__(self, app: App, values: dict[str, Any], role: SignedIn | str) -> None:
        super().__init__()
        self.app = app
        self.role = role
        self.setTitle("Text messages")
        self.setSubTitle("The SMS provider the practice's texts go through. Test shows the balance; nothing is sent.")
        form = QFormLayout(self)
        self.provider = QComboBox()
        for code, name in PROVIDERS:
            self.provider.addItem(name, code)
        self.provider.setCurrentIndex(max(0, self.provider.findData(values["sms.provider"])))
        self.account = QLineEdit(values["sms.account"] or "")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("unchanged" if values["sms.secret"] else "")
        self.sender = QLineEdit(values["sms.sender"] or "")
        self.quiet = QLineEdit(values["sms.quiet_hours"] or "")
        self.quiet.setPlaceholderText("e.g. 20:00-08:00; empty: none")
        self.per_minute = QSpinBox()  # sms.per_minute: 0 shows NOT_PACED and saves the setting empty
        self.per_minute.setRange(0, 100000)
        self.per_minute.setSpecialValueText(NOT_PACED)
        self.per_minute.setValue(int(values.get("sms.per_minute") or 0))
        self.per_minute.setToolTip("The most automatic texts in any minute, counted apart from emails")
        self.parts = QSpinBox()
        self.parts.setRange(1, 10)
        self.parts.setValue(int(values["sms.max_segments"]))
        self.confirm = QLineEdit(values["sms.confirm_words"] or "")
        self.opt_out = QLineEdit(values["sms.opt_out_words"] or "")
        self.test = QPushButton("Test")
        self.test.clicked.connect(self.start_test)
        self.unlock = QPushButton("Unlock the practice ID...")
        self.unlock.clicked.connect(self.ask_unlock)
        keyed(self.test, "Alt+T")
        keyed(self.unlock, "Alt+U")
        self.result = plain.label(wrap=True)  # the provider's answer, or why not
        self.lock_note = plain.label(wrap=True)
        for label, w in (("Provider", self.provider), ("Practice ID (account)", self.account), ("Secret", self.secret),
                         ("Sender number or ID", self.sender), ("Quiet hours", self.quiet),
                         ("Texts per minute", self.per_minute),
                         ("Most messages per text", self.parts), ("Confirmation replies", self.confirm),
                         ("Opt-out replies", self.opt_out), ("", self.test), ("", self.result),
                         ("", self.lock_note), ("", self.unlock)):
            form.addRow(label, w)
        self._job: Any = None
        self.show_lock()

    def values(self) -> dict[str, Any]:
        out = {"sms.provider": self.provider.currentData(), "sms.account": self.account.text().strip(),
               "sms.sender": self.sender.text().strip(), "sms.quiet_hours": self.quiet.text().strip(),
               "sms.per_minute": self.per_minute.value() or "",
               "sms.max_segments": self.parts.value(), "sms.confirm_words": self.confirm.text(),
               "sms.opt_out_words": self.opt_out.text()}
        if self.secret.text():
            out["sms.secret"] = self.secret.text()
        return out

    def show_lock(self) -> None:
        """A locked practice ID is read only, with why; Unlock only for a role allowed to."""
        locked = self.app.sms_account_locked()
        self.account.setReadOnly(locked)
        self.account.setToolTip("Locked after a successful test" if locked else "")
        self.lock_note.setText("The practice ID is locked after a successful test." if locked else "")
        self.unlock.setVisible(locked)
        self.unlock.setEnabled(locked and allowed(self.role, UNLOCK))
        if locked and not allowed(self.role, UNLOCK):
            self.lock_note.setText("The practice ID is locked after a successful test; only the super user can "
                                   "unlock it.")

    def start_test(self) -> None:
        try:
            self.app.set_settings(self.values())  # the test uses what was typed (validated first)
        except PracticeMailError as exc:
            self.result.setText(f"Not tested: {exc.message}. {exc.hint}")
            return
        self.wizard_noted("_wrote")  # Cancel puts it back, unless the test succeeds
        self.test.setEnabled(False)
        self.result.setText("Asking the provider...")
        self._job = run_in_background(self.app.test_sms, self.tested, self.failed, owner=self)

    def wizard_noted(self, flag: str) -> None:
        wizard = self.wizard()
        if wizard is not None:
            setattr(wizard, flag, True)

    def tested(self, balance: Any) -> None:
        self.wizard_noted("sms_tested")  # Cancel keeps what was tested (the practice ID is locked now)
        self.test.setEnabled(True)
        self.result.setText(plain.shown(f"Passed: the balance is {balance.amount} {balance.currency}."))
        self.show_lock()

    def failed(self, exc: Exception) -> None:
        self.test.setEnabled(True)
        if isinstance(exc, PracticeMailError):
            self.result.setText(plain.shown(f"Failed: {exc.message}. {exc.hint}"))
        else:
            self.result.setText(plain.shown(f"The test could not run: {exc}"))

    def ask_unlock(self) -> bool:
        if not allowed(self.role, UNLOCK):
            return False
        if not plain.ask(self, "Unlock the practice ID", f"{self.app.SMS_UNLOCK_WARNING}\n\nUnlock it?"):
            return False
        try:
            # the door checks again who may (a group's name alone: the desk's own permissions)
            self.app.unlock_sms_account(self.role if isinstance(self.role, SignedIn) else self.app.roles.desk())
        except PracticeMailError as exc:
            self.result.setText(plain.shown(f"{exc.message}. {exc.hint}"))
            return False
        self.result.setText("The practice ID is unlocked: test again after changing it.")
        self.show_lock()
        return True
