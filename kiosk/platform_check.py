"""Before the kiosk starts on a Linux desktop: are the system libraries Qt's xcb platform plugin
needs installed? Qt's own answer is "no Qt platform plugin could be initialized" and an abort;
this says which Debian/Ubuntu packages are missing, as the one `apt-get install` line that fixes
it, and exits 1.

    python -m kiosk.platform_check        (run by `make demo`)

Nothing is checked off Linux, without a display (the kiosk then runs offscreen), or when
QT_QPA_PLATFORM names a platform other than xcb.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# the library (soname without .so and version) and the Debian/Ubuntu package that has it
PACKAGES = {
    "libxcb-icccm": "libxcb-icccm4", "libxcb-keysyms": "libxcb-keysyms1", "libxcb-image": "libxcb-image0",
    "libxcb-render-util": "libxcb-render-util0", "libxkbcommon-x11": "libxkbcommon-x11-0",
    "libxcb-cursor": "libxcb-cursor0", "libxcb-randr": "libxcb-randr0", "libxcb-shape": "libxcb-shape0",
    "libxcb-xinerama": "libxcb-xinerama0", "libxcb-xkb": "libxcb-xkb1", "libxcb-sync": "libxcb-sync1",
    "libxcb-xfixes": "libxcb-xfixes0", "libxcb-shm": "libxcb-shm0", "libxcb-util": "libxcb-util1",
    "libxcb-glx": "libxcb-glx0", "libxcb-render": "libxcb-render0", "libxcb-xinput": "libxcb-xinput0",
    "libxcb": "libxcb1", "libX11-xcb": "libx11-xcb1", "libX11": "libx11-6", "libxkbcommon": "libxkbcommon0",
    "libfontconfig": "libfontconfig1", "libfreetype": "libfreetype6", "libEGL": "libegl1", "libGL": "libgl1",
    "libOpenGL": "libopengl0", "libdbus-1": "libdbus-1-3", "libglib-2.0": "libglib2.0-0",
}
# loaded by Qt at run time (dlopen), so not in the plugin's linked libraries: looked for by name
DLOPENED = ("xcb-cursor",)
_NOT_FOUND = re.compile(r"^\s*(\S+?)\.so[.\d]*\s+=>\s+not found", re.MULTILINE)


def wanted(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Only a Linux desktop session that will use xcb needs the check."""
    chosen = env.get("QT_QPA_PLATFORM", "")
    if platform != "linux" or (chosen and not chosen.startswith("xcb")):
        return False
    return bool(env.get("DISPLAY"))


def _plugin() -> Path | None:
    try:
        import PyQt6
    except ImportError:
        return None
    found = sorted(Path(PyQt6.__file__).parent.glob("Qt6/plugins/platforms/libqxcb.so"))
    return found[0] if found else None


def _ldd(path: Path) -> str:
    try:
        return subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def missing(ldd_output: str, find: Callable[[str], str | None] = ctypes.util.find_library) -> list[str]:
    """The libraries not found: from ldd's report on the plugin, and those Qt opens itself."""
    names = dict.fromkeys(_NOT_FOUND.findall(ldd_output))
    for lib in DLOPENED:
        if find(lib) is None:
            names.setdefault(f"lib{lib}")
    return list(names)


def fix(libraries: list[str]) -> str:
    """The one line that installs them (a library not in the table is named as it is)."""
    packages = dict.fromkeys(PACKAGES.get(lib, lib) for lib in libraries)
    return "sudo apt-get install " + " ".join(packages)


def main() -> int:
    if not wanted(os.environ):
        return 0
    plugin = _plugin()
    if plugin is None:
        return 0  # no PyQt6 with an xcb plugin here: Qt will say what it says
    lost = missing(_ldd(plugin))
    if not lost:
        return 0
    print("The kiosk cannot open a window: Qt's xcb platform needs system libraries that are not installed:\n  "
          + ", ".join(lost) + "\nInstall them with:\n  " + fix(lost)
          + "\n(or run without a window: QT_QPA_PLATFORM=offscreen make demo)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
