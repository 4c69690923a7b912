"""`make demo` on a fresh Debian desktop: Qt's xcb plugin aborted for want of system libraries,
naming none of them (issue 19 item 1). The check says which, as one apt-get line, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiosk import platform_check as pc

ROOT = Path(__file__).resolve().parents[2]
LDD = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibweird-thing.so.7 => not found
"""


def test_missing_libraries_become_one_apt_get_line() -> None:
    lost = pc.missing(LDD, find=lambda name: None)
    assert lost == ["libxcb-icccm", "libxcb-keysyms", "libxkbcommon-x11", "libweird-thing", "libxcb-cursor"]
    assert pc.fix(lost) == ("sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libweird-thing "
                            "libxcb-cursor0")
    assert pc.missing("\tlibc.so.6 => /lib/libc.so.6\n", find=lambda name: f"lib{name}.so.0") == []


def test_checked_only_for_a_linux_desktop_on_xcb() -> None:
    assert pc.wanted({"DISPLAY": ":0"}, "linux")
    assert pc.wanted({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not pc.wanted({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not pc.wanted({}, "linux")  # no display: the kiosk runs offscreen
    assert not pc.wanted({"DISPLAY": ":0"}, "darwin")


def test_make_demo_checks_first_and_says_the_fix_on_this_machine() -> None:
    """The real plugin, the real ldd: exit 1 with the line when something is missing here, 0 when not."""
    dry = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    lines = [ln for ln in dry.splitlines() if "-m kiosk.platform_check" in ln or "-m engine demo" in ln]
    assert len(lines) == 2 and "platform_check" in lines[0]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"} | {"DISPLAY": ":99"}
    run = subprocess.run([sys.executable, "-m", "kiosk.platform_check"], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=False, timeout=60)
    plugin = pc._plugin()
    lost = pc.missing(pc._ldd(plugin)) if plugin is not None else []
    if lost:
        assert run.returncode == 1 and pc.fix(lost) in run.stderr and run.stderr.count("apt-get install") == 1
    else:
        assert run.returncode == 0 and run.stderr == ""
    offscreen = subprocess.run([sys.executable, "-m", "kiosk.platform_check"], cwd=ROOT, capture_output=True,
                               env=env | {"QT_QPA_PLATFORM": "offscreen"}, text=True, check=False, timeout=60)
    assert offscreen.returncode == 0
