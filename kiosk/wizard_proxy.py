"""The setup wizard's connection page (#18): whether the practice reaches the internet through a
proxy, and which one: its address and port, its kind (HTTP or SOCKS5), a login if it asks for one
(the password stored encrypted and never shown back, like the account password), and whether
email goes through it too. Saved on Next, so the sign-in suggestion, the sign-in and the tests
after it go through the proxy; a bad value is named here and nothing is saved; Cancel puts back
what was saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWizardPage

from engine.errors import PracticeMailError
from kiosk import plain

if TYPE_CHECKING:
    from kiosk.wizard import SetupWizard

KEYS = ("proxy.address", "proxy.port", "proxy.kind", "proxy.user", "proxy.use_for_email")
KINDS = (("http", "HTTP (CONNECT)"), ("socks5", "SOCKS5"))
USUAL = {"http": 3128, "socks5": 1080}  # the port each kind usually listens on
ALWAYS = ("Text messages, signing in and booking links always go through the proxy; email only when "
          "ticked above (ask whoever looks after the network).")


class ProxyPage(QWizardPage):
    def __init__(self, wizard: "SetupWizard", values: dict[str, Any]) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Connection")
        self.setSubTitle("How this computer reaches the internet. Most practices connect directly; leave the box "
                         "unticked unless the practice's network has a proxy.")
        form = QFormLayout(self)
        self.use = QCheckBox("Reaches the internet through a proxy")
        self.use.setChecked(bool(values["proxy.address"]))
        self.address = QLineEdit(values["proxy.address"] or "")
        self.address.setPlaceholderText("e.g. proxy.practice.local or 10.0.0.5")
        self.kind = QComboBox()
        for code, name in KINDS:
            self.kind.addItem(name, code)
        self.kind.setCurrentIndex(max(0, self.kind.findData(values["proxy.kind"] or "http")))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(int(values["proxy.port"] or USUAL[self.kind.currentData()]))
        self.user = QLineEdit(values["proxy.user"] or "")
        self.user.setPlaceholderText("only if the proxy asks for a login")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("unchanged" if values["proxy.password"] else "")
        self.for_email = QCheckBox("Send and receive email through the proxy too")
        self.for_email.setChecked(bool(values["proxy.use_for_email"]))
        self.note = plain.label(ALWAYS, wrap=True)
        self.error = plain.label(wrap=True)  # a bad value, named with its hint
        self.error.setStyleSheet(plain.PROBLEM)
        for label, widget in (("", self.use), ("Proxy address", self.address), ("Kind", self.kind),
                              ("Port", self.port), ("User name", self.user), ("Password", self.password),
                              ("", self.for_email), ("", self.note), ("", self.error)):
            form.addRow(label, widget)
        self.saved = False  # written on Next: Cancel puts it back
        self.use.toggled.connect(self._toggled)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._toggled(self.use.isChecked())

    def _toggled(self, on: bool) -> None:
        for widget in (self.address, self.kind, self.port, self.user, self.password, self.for_email, self.note):
            widget.setEnabled(on)  # greyed, values kept

    def _kind_changed(self) -> None:
        """The kind switches the suggested port (3128 HTTP, 1080 SOCKS5) unless it was changed by hand."""
        if self.port.value() in USUAL.values():
            self.port.setValue(USUAL[self.kind.currentData()])

    def values(self) -> dict[str, Any]:
        """Off: no proxy.address (the rest kept for next time). A cleared user name clears the
        stored password too (a login no longer used is not kept)."""
        if not self.use.isChecked():
            return {"proxy.address": ""}
        out: dict[str, Any] = {"proxy.address": self.address.text().strip(), "proxy.port": self.port.value(),
                               "proxy.kind": self.kind.currentData(), "proxy.user": self.user.text().strip(),
                               "proxy.use_for_email": self.for_email.isChecked()}
        if not out["proxy.user"]:
            out["proxy.password"] = ""
        elif self.password.text():
            out["proxy.password"] = self.password.text()
        return out

    def route(self) -> str:
        """How the email test goes, for its words: " through the proxy at HOST:PORT", or direct."""
        host = self.address.text().strip()
        if not self.use.isChecked() or not host:
            return ""
        where = f"[{host.strip('[]')}]:{self.port.value()}" if ":" in host else f"{host}:{self.port.value()}"
        if self.for_email.isChecked():
            return f" through the proxy at {where}"
        return f" directly (email does not use the proxy at {where})"

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        """Saved now (validated first), so what comes next goes through the proxy."""
        if not self.use.isChecked() and not self.wiz.settings.get("proxy.address"):
            self.error.setText("")
            return True  # no proxy before, none now: nothing to write
        try:
            self.wiz.settings.set_many(self.values())
        except PracticeMailError as exc:
            self.error.setText(plain.shown(f"Not saved: {exc.message}. {exc.hint}"))
            return False
        self.error.setText("")
        self.saved = True
        return True
