"""The service light: green running, amber failing, grey stopped or not set up; the words and
the reason are on the light itself, a click says why and offers Restart.

Reasons carry servers' own words, so they are shown as plain text: one line on the light,
escaped in the tooltip, PlainText labels in the dialog.
"""

from __future__ import annotations

import html
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QToolButton, QVBoxLayout, QWidget

from kiosk import plain
from kiosk.widgets import keyed, keyed_box

from engine.core.status import plain_line

GREY = "#8a8f96"
COLOURS = {"running": "#2e9d4f", "failing": "#e0a020", "stopped": GREY, "not_set_up": GREY}
WORDS = {"running": "Email service running", "failing": "Email service needs attention",
         "stopped": "Email service stopped", "not_set_up": "Email not set up"}
ON_THE_LIGHT = 70  # characters of the reason shown beside the dot; the rest is in the tooltip


def label(st: dict[str, Any]) -> str:
    """The light's own words: the state, and for amber or grey-not-set-up the reason."""
    words = WORDS.get(st["state"], plain_line(str(st["state"]), 40))
    if st["state"] in ("failing", "not_set_up") and st.get("reason"):
        return f"{words}: {plain_line(st['reason'], ON_THE_LIGHT)}"
    return words


def dot(colour: str, size: int = 18) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(colour))
    p.setPen(QColor("#44484e"))
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pix)


def tooltip(st: dict[str, Any]) -> str:
    """Rich text (Qt guesses a tooltip's format), so every line is escaped."""
    lines = [WORDS.get(st["state"], plain_line(str(st["state"]), 40))]
    if st.get("reason"):
        lines.append(plain_line(st["reason"]))
    if st.get("hint"):
        lines.append(plain_line(st["hint"]))
    for key, name in (("last_send", "Last sent"), ("last_receive", "Last checked")):
        info = st.get(key) or {}
        if info.get("at"):
            lines.append(f"{name}: {info['at'][11:16]} ({info['at'][:10]})")
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


class ServiceLight(QToolButton):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "stopped"
        self.status: dict[str, Any] = {"state": "stopped"}
        self.colour = GREY
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.show_status({"state": "stopped"})

    def show_status(self, st: dict[str, Any]) -> None:
        self.status = st
        self.state = st["state"]
        self.colour = COLOURS.get(self.state, GREY)
        self.setIcon(dot(self.colour))
        self.setText(label(st).replace("&", "&&"))  # a lone & would be read as a shortcut
        self.setToolTip(tooltip(st))  # escaped line by line there: the reason is a server's words
        self.setAccessibleName(label(st))


class ServiceDialog(QDialog):
    restart_requested = pyqtSignal()
    sign_in_requested = pyqtSignal()

    def __init__(self, st: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Email service")
        layout = QVBoxLayout(self)
        self.state_label = plain.label(WORDS.get(st["state"], plain_line(str(st["state"]), 40)))
        self.state_label.setStyleSheet("font-weight: bold")
        layout.addWidget(self.state_label)
        self.reason = plain.label(plain_line(st.get("reason") or "") or "Everything is working.", wrap=True)
        layout.addWidget(self.reason)
        self.hint = plain.label(plain_line(st.get("hint") or ""), wrap=True)
        layout.addWidget(self.hint)
        self.sign_in = QPushButton("Sign in again")  # the sign-in expired or was withdrawn
        self.sign_in.clicked.connect(lambda _checked=False: self.sign_in_requested.emit())
        self.sign_in.setVisible(st.get("action") == "sign_in")
        layout.addWidget(self.sign_in)
        self.restart = QPushButton("Restart Service")
        self.restart.clicked.connect(self.restart_requested.emit)
        layout.addWidget(self.restart)
        keyed(self.sign_in, "Alt+S")
        keyed(self.restart, "Alt+R")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(keyed_box(buttons))
