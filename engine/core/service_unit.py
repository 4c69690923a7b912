"""The words of a system service: a systemd unit, a launchd agent, a Windows scheduled task.

Pure text from typed values, so the service manager's own parser (systemd-analyze, plistlib)
can read back exactly what we wrote. A path is quoted for the manager that reads it: systemd
expands `%` specifiers and `$` variables inside ExecStart, so they are doubled; a line end in a
path would start a new directive, so it is refused instead.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from pathlib import PurePath

from engine.errors import InputInvalid

NAME = "practicemail"
LABEL = "org.practicemail.service"  # launchd's reverse-DNS label
RESTART_AFTER_S = 10


@dataclass(frozen=True)
class ServiceSpec:
    """What the service runs: this Python with `-m engine serve --data FOLDER`.

    `environment_file`: a private file beside the data (mode 0600) holding settings that must not
    be on a command line, such as a database URL with a password; systemd reads it itself.
    `system`: a system-wide unit (the practice's server) rather than the signed-in user's.
    """

    python: PurePath
    data_folder: PurePath
    log_file: PurePath
    environment_file: PurePath | None = None
    system: bool = False
    user_name: str = ""

    def argv(self) -> list[str]:
        return [str(self.python), "-m", "engine", "--data", str(self.data_folder), "serve"]


def _no_line_ends(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\x00\x0b\x0c\x85\u2028\u2029"):
        raise InputInvalid(f"the {what} holds a line break, which a service file cannot carry",
                           hint=f"Move the {what} to a folder whose name has no line breaks.")
    return value


def _systemd_word(value: str, what: str) -> str:
    """One ExecStart word: quoted, with specifiers and variables doubled so systemd takes them literally."""
    text = _no_line_ends(value, what).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("%", "%%").replace("$", "$$") + '"'


def _systemd_path(value: str, what: str) -> str:
    """A path setting (EnvironmentFile=, StandardOutput=append:): specifiers doubled, no quoting."""
    return _no_line_ends(value, what).replace("%", "%%")


def systemd_unit(spec: ServiceSpec) -> str:
    words = " ".join(_systemd_word(w, "data folder" if w == str(spec.data_folder) else "program path")
                     for w in spec.argv())
    log = _systemd_path(str(spec.log_file), "log file")
    lines = [
        "[Unit]",
        "Description=practicemail: the practice's email and text service",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={words}",
    ]
    if spec.environment_file is not None:
        lines.append(f"EnvironmentFile={_systemd_path(str(spec.environment_file), 'settings file')}")
    if spec.system and spec.user_name:
        lines.append(f"User={_no_line_ends(spec.user_name, 'user name')}")
    lines += [
        "Restart=on-failure",
        f"RestartSec={RESTART_AFTER_S}",
        "UMask=0077",
        f"StandardOutput=append:{log}",
        f"StandardError=append:{log}",
        "",
        "[Install]",
        f"WantedBy={'multi-user.target' if spec.system else 'default.target'}",
        "",
    ]
    return "\n".join(lines)


def launchd_plist(spec: ServiceSpec) -> bytes:
    """A launchd agent: kept alive after a failure, started at login (or boot for a daemon)."""
    for word, what in ((str(spec.python), "program path"), (str(spec.data_folder), "data folder")):
        _no_line_ends(word, what)
    doc = {
        "Label": LABEL,
        "ProgramArguments": spec.argv(),
        "EnvironmentVariables": {"PRACTICEMAIL_DATA": str(spec.data_folder)},
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": RESTART_AFTER_S,
        "StandardOutPath": str(spec.log_file),
        "StandardErrorPath": str(spec.log_file),
        "Umask": 0o077,
    }
    return plistlib.dumps(doc, sort_keys=True)


def windows_task(spec: ServiceSpec) -> list[str]:
    """The `schtasks` command that starts the service when the computer starts (run by an
    administrator). Windows services proper need a service wrapper; a start-up task is what a
    practice can set up without one."""
    run = subprocess_line(spec.argv())
    return ["schtasks", "/Create", "/TN", NAME, "/SC", "ONSTART", "/RU", "SYSTEM", "/RL", "HIGHEST", "/F", "/TR", run]


def subprocess_line(argv: list[str]) -> str:
    """Windows' own quoting of one command line (the rules CommandLineToArgvW reads): a word
    with a space or tab, or an empty one, is quoted; a quote is escaped with the backslashes
    before it doubled."""
    out = []
    for arg in argv:
        _no_line_ends(arg, "program path")
        quote = not arg or " " in arg or "\t" in arg
        text, slashes = "", 0
        for c in arg:
            if c == "\\":
                slashes += 1
                continue
            text += "\\" * (slashes * 2 + 1) + c if c == '"' else "\\" * slashes + c
            slashes = 0
        text += "\\" * (slashes * 2 if quote else slashes)
        out.append(f'"{text}"' if quote else text)
    return " ".join(out)
