"""Writing, enabling and removing the service with the computer's own service manager.

systemd on Linux (the signed-in user's manager, or the system's for a practice server), launchd
on macOS. The unit file is written first (privately, atomically), then the manager is asked to
load and start it; when the manager is not running (a container, a machine booted without
systemd) the file stays and the report says what to run by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.adapters.durable import atomic_write
from engine.core import service_unit
from engine.core.service_unit import ServiceSpec

SYSTEMD_UNIT = f"{service_unit.NAME}.service"
COMMAND_TIMEOUT_S = 30


@dataclass(frozen=True)
class ManagerReport:
    """What happened: `ok` only when the manager itself answered yes."""

    ok: bool
    unit_file: Path
    said: str
    hint: str = ""


def platform_manager() -> str:
    return "launchd" if sys.platform == "darwin" else "windows" if sys.platform == "win32" else "systemd"


def unit_file(manager: str, system: bool, home: Path) -> Path:
    if manager == "launchd":
        folder = Path("/Library/LaunchDaemons") if system else home / "Library" / "LaunchAgents"
        return folder / f"{service_unit.LABEL}.plist"
    folder = Path("/etc/systemd/system") if system else home / ".config" / "systemd" / "user"
    return folder / SYSTEMD_UNIT


def _run(argv: list[str]) -> tuple[bool, str]:
    """The manager's answer, as one line (its last non-empty line of output)."""
    if shutil.which(argv[0]) is None:
        return False, f"{argv[0]} is not on this computer"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return False, f"{argv[0]} did not answer within {COMMAND_TIMEOUT_S} s"
    lines = [x.strip() for x in (done.stdout + "\n" + done.stderr).splitlines() if x.strip()]
    return done.returncode == 0, (lines[-1] if lines else ("done" if done.returncode == 0 else "failed"))


def _systemctl(system: bool, *words: str) -> tuple[bool, str]:
    return _run(["systemctl", *([] if system else ["--user"]), *words])


def install(spec: ServiceSpec, manager: str, home: Path, start: bool = True) -> ManagerReport:
    path = unit_file(manager, spec.system, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if manager == "launchd":
        atomic_write(path, service_unit.launchd_plist(spec), mode=0o600)
        if not start:
            return ManagerReport(True, path, "written")
        ok, said = _run(["launchctl", "load", "-w", str(path)])
        return ManagerReport(ok, path, said, "" if ok else f"Load it by hand: launchctl load -w '{path}'")
    atomic_write(path, service_unit.systemd_unit(spec).encode(), mode=0o600 if not spec.system else 0o644)
    if not start:
        return ManagerReport(True, path, "written")
    scope = "" if spec.system else " --user"
    ok, said = _systemctl(spec.system, "daemon-reload")
    if ok:
        ok, said = _systemctl(spec.system, "enable", "--now", SYSTEMD_UNIT)
    return ManagerReport(ok, path, said, "" if ok else
                         f"The unit is written; on the machine that runs systemd: systemctl{scope} enable --now {SYSTEMD_UNIT}")


def uninstall(manager: str, system: bool, home: Path) -> ManagerReport:
    path = unit_file(manager, system, home)
    if manager == "launchd":
        ok, said = _run(["launchctl", "unload", "-w", str(path)]) if path.exists() else (True, "not loaded")
    else:
        ok, said = _systemctl(system, "disable", "--now", SYSTEMD_UNIT) if path.exists() else (True, "not installed")
    existed = path.exists()
    path.unlink(missing_ok=True)
    if manager == "systemd" and existed:
        _systemctl(system, "daemon-reload")
    return ManagerReport(ok or not existed, path, said if existed else "not installed",
                         "" if ok or not existed else "The file is removed; the manager could not be told (see above).")


def status(manager: str, system: bool, home: Path) -> ManagerReport:
    path = unit_file(manager, system, home)
    if not path.exists():
        return ManagerReport(False, path, "not installed", "Install it: practicemail service install")
    if manager == "launchd":
        ok, said = _run(["launchctl", "list", service_unit.LABEL])
        return ManagerReport(ok, path, "loaded" if ok else said)
    ok, said = _systemctl(system, "is-active", SYSTEMD_UNIT)
    return ManagerReport(ok, path, said)
