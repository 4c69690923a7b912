"""The setup wizard's sign-in page: "Sign in with Microsoft / Google / another provider".

The browser flow opens the system browser and waits, with Cancel; the device flow shows the
address, the code and a QR code of the address, so a phone can finish the sign-in when the
desk PC has no browser. Everything slow runs off the GUI thread (kiosk/bridge.py).
"""

from __future__ import annotations

import io
import threading
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import segno
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWizardPage

from engine.core.oauth_presets import PRESETS, propose
from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.bridge import run_in_background
from kiosk.widgets import keyed

if TYPE_CHECKING:
    from kiosk.wizard import SetupWizard

LABELS = {"microsoft": "Sign in with Microsoft", "google": "Sign in with Google", "custom": "Sign in with another provider"}
KEYS = {"microsoft": "Alt+M", "google": "Alt+G", "custom": "Alt+P"}  # the wizard's own: Alt+B, Alt+N, Alt+F, Esc


def qr_pixmap(text: str) -> QPixmap:
    """A QR code of `text` (the verification address) as an image a phone camera reads."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=5, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class SignInPage(QWizardPage):
    def __init__(self, wizard: "SetupWizard", values: dict[str, Any]) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Sign in")
        self.setSubTitle("Microsoft 365 and Google accounts sign in instead of using a password.")
        form = QFormLayout(self)
        self.client_id = QLineEdit(values["oauth.client_id"])
        self.tenant = QLineEdit(values["oauth.tenant"])
        self.issuer = QLineEdit(values["oauth.issuer"])
        self.device = QCheckBox("Show a code to finish on a phone (no browser on this PC)")
        self.provider = values["oauth.provider"] or ""
        suggested = propose(values["practice.email"])
        self.suggestion = plain.label(wrap=True)
        self.show_suggestion(suggested)
        self._address = "" if suggested else values["practice.email"]  # its own domain: ask its autoconfig
        self._lookup: Any = None
        self.buttons = {name: QPushButton(text) for name, text in LABELS.items()}
        row = QHBoxLayout()
        for name, button in self.buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.start(n))
            keyed(button, KEYS[name])
            row.addWidget(button)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.stop)
        self.cancel.setToolTip("Stop signing in")
        keyed(self.cancel, "Alt+C")  # Esc is the wizard's Cancel
        row.addWidget(self.cancel)
        self.status = plain.label(wrap=True)
        self.code = plain.label(wrap=True)
        self.qr = QLabel()
        for label, widget in (("Application (client) id", self.client_id),
                              ("Microsoft tenant", self.tenant), ("Issuer (another provider)", self.issuer),
                              ("", self.device), ("", self.suggestion)):
            form.addRow(label, widget)
        form.addRow(row)
        for widget in (self.status, self.code, self.qr):
            form.addRow("", widget)
        self.open_browser: Callable[[str], Any] = webbrowser.open  # tests put an HTTP client here
        self._cancel = threading.Event()
        self._job: Any = None
        self.signed_in = False
        self.device_code: Any = None

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        """Shown: ask the practice domain's autoconfig document once, on a worker (it is the network)."""
        if self._address and self._lookup is None:
            address = self._address
            self._lookup = run_in_background(lambda: self.wiz.app.suggest_sign_in(address), self.show_suggestion, lambda _exc: None,
                                             owner=self)

    def show_suggestion(self, preset: str) -> None:
        """Only ever a suggestion: the buttons stay the practice manager's choice."""
        if preset in PRESETS:
            self.suggestion.setText(f"Suggested from the practice address: {PRESETS[preset].label}")

    def values(self) -> dict[str, Any]:
        if not self.wiz.account.signs_in.isChecked():
            return {"incoming.auth": "password"}
        return {"outgoing.auth": "oauth2", "incoming.auth": "oauth2", "oauth.provider": self.provider,
                "oauth.client_id": self.client_id.text(), "oauth.tenant": self.tenant.text(),
                "oauth.issuer": self.issuer.text()}

    def _busy(self, on: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(not on)
        self.cancel.setEnabled(on)

    def start(self, provider: str) -> None:
        self.provider = provider
        self.wiz.account.signs_in.setChecked(True)
        try:
            self.wiz.save_account()  # provider, client id... validated and saved first
        except PracticeMailError as exc:
            self.status.setText(f"{exc.message}. {exc.hint}")
            return
        self._cancel = threading.Event()
        self.signed_in = False
        self.code.setText("")
        self.qr.clear()
        self._busy(True)
        app = self.wiz.app
        if self.device.isChecked():
            self.status.setText("Asking for a code...")
            self._job = run_in_background(app.begin_device_sign_in, self._show_code, self.failed, owner=self)
        else:
            self.status.setText("Waiting for the browser: sign in there, then come back here.")
            cancel, opener = self._cancel, self.open_browser
            self._job = run_in_background(lambda: app.sign_in(opener, cancel),
                                          self.done, self.failed, owner=self)

    def _show_code(self, device: Any) -> None:
        self.device_code = device
        self.code.setText(f"On a phone or another computer, go to {device.verification_uri} "
                          f"and enter the code {device.user_code}")
        self.qr.setPixmap(qr_pixmap(device.verification_uri_complete))
        self.status.setText("Waiting for the sign-in to finish...")
        app, cancel = self.wiz.app, self._cancel
        self._job = run_in_background(lambda: app.finish_device_sign_in(device, cancel.wait), self.done, self.failed,
                                      owner=self)

    def stop(self) -> None:
        self._cancel.set()

    def done(self, summary: dict[str, Any]) -> None:
        self._busy(False)
        self.signed_in = bool(summary.get("signed_in"))
        self.status.setText(f"Signed in as {summary.get('account') or 'the mail account'}.")
        self.completeChanged.emit()

    def failed(self, exc: Exception) -> None:
        self._busy(False)
        self.status.setText(f"{exc.message}. {exc.hint}" if isinstance(exc, PracticeMailError)
                            else f"The sign-in could not run: {exc}")
