"""Icons from the desktop's standard icon theme (freedesktop names, as Thunderbird and the
GNOME/KDE mail programs use them), falling back to the icons Qt itself carries where the
platform has no theme (Windows, macOS, a bare kiosk PC, the offscreen tests): every button
shows a picture and its words on every desk. And the small ones the kiosk draws itself (a text
message's speech bubble, beside a text reply in the inbox), drawn once on the GUI thread."""

from __future__ import annotations

from PyQt6.QtCore import QPoint
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygon
from PyQt6.QtWidgets import QApplication, QStyle

SP = QStyle.StandardPixmap
# what we call it -> (freedesktop theme name, Qt's own picture when the theme has none)
ICONS: dict[str, tuple[str, QStyle.StandardPixmap]] = {
    "inbox": ("mail-inbox", SP.SP_DirOpenIcon),
    "outbox": ("mail-outbox", SP.SP_ArrowForward),
    "deleted": ("user-trash", SP.SP_TrashIcon),
    "patients": ("x-office-address-book", SP.SP_FileDialogContentsView),
    "templates": ("text-x-generic-template", SP.SP_FileIcon),
    "admin": ("preferences-system", SP.SP_ComputerIcon),
    "appointments": ("x-office-calendar", SP.SP_FileDialogDetailedView),
    "send_receive": ("mail-send-receive", SP.SP_BrowserReload),
    "cancel": ("process-stop", SP.SP_BrowserStop),
    "new_email": ("mail-message-new", SP.SP_FileDialogNewFolder),
    "mass_email": ("mail-send", SP.SP_FileDialogListView),
    "setup": ("preferences-other", SP.SP_FileDialogInfoView),
    "pins": ("dialog-password", SP.SP_DialogResetButton),
    "role": ("system-users", SP.SP_DirHomeIcon),
}


def icon(name: str) -> QIcon:
    theme, ours = ICONS[name]
    found = QIcon.fromTheme(theme)
    if not found.isNull():
        return found
    style = QApplication.style()
    return style.standardIcon(ours) if style is not None else QIcon()


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
