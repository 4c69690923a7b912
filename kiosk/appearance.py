"""How the kiosk looks to the person reading it all day: the text size and high contrast from
the practice's settings (`kiosk.font_size`, `kiosk.high_contrast`), applied to the whole
application and again whenever the settings change. With neither set, the computer's own font
and colours (and so its own accessibility settings) are left as they are."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPalette
from PyQt6.QtWidgets import QApplication

Role = QPalette.ColorRole
HIGH_CONTRAST = {Role.Window: "#000000", Role.WindowText: "#ffffff", Role.Base: "#000000",
                 Role.AlternateBase: "#1a1a1a", Role.Text: "#ffffff", Role.Button: "#000000",
                 Role.ButtonText: "#ffffff", Role.Highlight: "#ffff00", Role.HighlightedText: "#000000",
                 Role.ToolTipBase: "#000000", Role.ToolTipText: "#ffffff", Role.Link: "#00ffff",
                 Role.PlaceholderText: "#c0c0c0", Role.BrightText: "#ffff00"}


_OWN: dict[int, tuple[QFont, QPalette]] = {}


class Appearance(QObject):
    """Remembers the computer's own font and palette, so turning a setting off puts them back.
    `settings_changed` may be emitted from any thread (a settings write): Qt carries it to the
    GUI thread, where fonts and palettes may be changed."""

    settings_changed = pyqtSignal()

    def __init__(self, qt: QApplication, read: Callable[[], tuple[int, bool]]) -> None:
        """read: the settings' (font size, high contrast) as they are now."""
        super().__init__(qt)
        self.qt, self.read = qt, read
        self.settings_changed.connect(lambda: self.apply(*self.read()))
        if id(qt) not in _OWN:  # the computer's own, before any window of ours changed them
            _OWN[id(qt)] = (QFont(qt.font()), QPalette(qt.palette()))
        self.own_font, self.own_palette = _OWN[id(qt)]

    def apply(self, font_size: int, high_contrast: bool) -> None:
        font = QFont(self.own_font)
        if font_size > 0:
            font.setPointSize(font_size)
        self.qt.setFont(font)
        if not high_contrast:
            self.qt.setPalette(self.own_palette)
            return
        palette = QPalette(self.own_palette)
        for role, colour in HIGH_CONTRAST.items():
            palette.setColor(QPalette.ColorGroup.All, role, QColor(colour))
        palette.setColor(QPalette.ColorGroup.Disabled, Role.WindowText, QColor("#a0a0a0"))
        palette.setColor(QPalette.ColorGroup.Disabled, Role.ButtonText, QColor("#a0a0a0"))
        palette.setColor(QPalette.ColorGroup.Disabled, Role.Text, QColor("#a0a0a0"))
        self.qt.setPalette(palette)
