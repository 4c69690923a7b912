"""The service light: green running, amber failing, grey stopped; a click says why and offers Restart."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QToolButton, QVBoxLayout, QWidget

from kiosk import plain

COLOURS = {"running": "#2e9d4f", "failing": "#e0a020", "stopped": "#8a8f96"}
WORDS = {"running": "Email service running", "failing": "Email service needs attention",
         "stopped": "Email service stopped"}


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
    lines = [WORDS.get(st["state"], st["state"])]
    if st.get("reason"):
        lines.append(st["reason"])
    if st.get("hint"):
        lines.append(st["hint"])
    for key, label in (("last_send", "Last sent"), ("last_receive", "Last checked")):
        info = st.get(key) or {}
        if info.get("at"):
            lines.append(f"{label}: {info['at'][11:16]} ({info['at'][:10]})")
    return "\n".join(lines)


class ServiceLight(QToolButton):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "stopped"
        self.status: dict[str, Any] = {"state": "stopped"}
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.show_status({"state": "stopped"})

    def show_status(self, st: dict[str, Any]) -> None:
        self.status = st
        self.state = st["state"]
        self.setIcon(dot(COLOURS.get(self.state, "#8a8f96")))
        self.setText(WORDS.get(self.state, self.state))
        self.setToolTip(plain.tip(tooltip(st)))  # the reason is a server's words
        self.setAccessibleName(WORDS.get(self.state, self.state))


class ServiceDialog(QDialog):
    restart_requested = pyqtSignal()

    def __init__(self, st: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Email service")
        layout = QVBoxLayout(self)
        self.state_label = plain.label(WORDS.get(st["state"], st["state"]))
        self.state_label.setStyleSheet("font-weight: bold")
        layout.addWidget(self.state_label)
        self.reason = plain.label(st.get("reason") or "Everything is working.", wrap=True)
        layout.addWidget(self.reason)
        self.hint = plain.label(st.get("hint") or "", wrap=True)
        layout.addWidget(self.hint)
        self.restart = QPushButton("Restart Service")
        self.restart.clicked.connect(self.restart_requested.emit)
        layout.addWidget(self.restart)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
