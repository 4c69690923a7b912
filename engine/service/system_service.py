"""`practicemail service install|uninstall|status`: the email service as the computer's own service.

The unit runs `python -m engine --data FOLDER serve` with the Python that installed it, restarts
on failure, and appends its output to a log in the data folder. A database URL (several desks)
never goes on the command line: it is written to a private settings file the manager reads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.adapters import service_manager
from engine.adapters.durable import atomic_write
from engine.core.service_unit import ServiceSpec
from engine.errors import InputInvalid

DATABASE_ENV = "PRACTICEMAIL_DATABASE"
OUTPUT_LOG = "service-output.log"
ENV_FILE = "service.env"


def _env_line(url: str) -> bytes:
    if any(c in url for c in "\r\n\x00"):
        raise InputInvalid("the database address holds a line break", hint="Check PRACTICEMAIL_DATABASE.")
    quoted = url.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'{DATABASE_ENV}="{quoted}"\n'.encode()


def spec_for(folder: Path, system: bool, user_name: str = "") -> ServiceSpec:
    """The unit for this data folder; a database URL in the environment goes to a 0600 file."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    env_file = None
    url = os.environ.get(DATABASE_ENV, "")
    if url:
        env_file = folder / ENV_FILE
        atomic_write(env_file, _env_line(url), mode=0o600)
    return ServiceSpec(Path(sys.executable), folder, folder / OUTPUT_LOG, env_file, system, user_name)


def install(folder: Path, system: bool = False, user_name: str = "", start: bool = True,
            home: Path | None = None) -> service_manager.ManagerReport:
    manager = service_manager.platform_manager()
    if manager == "windows":
        raise InputInvalid("Windows has no service manager this command can drive",
                           hint="Run `practicemail service windows-task` as an administrator (see docs/service.md).")
    return service_manager.install(spec_for(folder, system, user_name), manager, home or Path.home(), start)


def uninstall(system: bool = False, home: Path | None = None) -> service_manager.ManagerReport:
    return service_manager.uninstall(service_manager.platform_manager(), system, home or Path.home())


def status(system: bool = False, home: Path | None = None) -> service_manager.ManagerReport:
    return service_manager.status(service_manager.platform_manager(), system, home or Path.home())
