"""Small icons the kiosk draws itself (no image files to ship): a text message's speech bubble,
beside a text reply in the inbox. Drawn once, on the GUI thread (a table's model asks there)."""

from __future__ import annotations

from PyQt6.QtCore import QPoint
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygon

_DRAWN: dict[str, QIcon] = {}


def speech_bubble() -> QIcon:
    if "bubble" not in _DRAWN:
        pixmap = QPixmap(16, 16)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor("#2a7ab0"))
        painter.setPen(QColor("#1d5a85"))
        painter.drawRoundedRect(1, 1, 14, 10, 3, 3)
        painter.drawPolygon(QPolygon([QPoint(4, 10), QPoint(4, 15), QPoint(8, 10)]))
        painter.setPen(QColor("white"))
        for x in (5, 8, 11):
            painter.drawPoint(x, 6)
        painter.end()
        _DRAWN["bubble"] = QIcon(pixmap)
    return _DRAWN["bubble"]
