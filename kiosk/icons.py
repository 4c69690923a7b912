"""Icons from the desktop's standard icon theme (freedesktop names, as Thunderbird and the
GNOME/KDE mail programs use them), falling back to the icons Qt itself carries where the
platform has no theme (Windows, macOS, a bare kiosk PC, the offscreen tests): every button
shows a picture and its words on every desk."""

from __future__ import annotations

from PyQt6.QtGui import QIcon
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
