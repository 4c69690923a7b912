"""The service files say exactly what we meant, read back by the managers' own readers."""

from __future__ import annotations

import plistlib
import subprocess
from pathlib import PurePath

import pytest
from hypothesis import given, strategies as st

from engine.core import service_unit
from engine.core.service_unit import ServiceSpec
from engine.errors import InputInvalid

LINE_ENDS = "\r\n\x00\x0b\x0c\x85\u2028\u2029"
words = st.text(st.characters(blacklist_characters=LINE_ENDS, blacklist_categories=("Cs",)), max_size=40)


def spec(folder: str = "/srv/practice data", **kw: object) -> ServiceSpec:
    return ServiceSpec(PurePath("/usr/bin/python3"), PurePath(folder), PurePath(folder) / "out.log", **kw)  # type: ignore[arg-type]


@given(st.lists(words, max_size=6))
def test_windows_command_line_is_quoted_as_the_standard_library_quotes_it(argv: list[str]) -> None:
    assert service_unit.subprocess_line(argv) == subprocess.list2cmdline(argv)


@given(words)
def test_the_launchd_agent_reads_back_with_plistlib(folder: str) -> None:
    folder = "/" + folder.replace("\x00", "")
    try:
        doc = plistlib.loads(service_unit.launchd_plist(spec(folder)))
    except ValueError:  # plistlib refuses XML-invalid control characters: nothing half-written
        return
    assert doc["ProgramArguments"] == ["/usr/bin/python3", "-m", "engine", "--data", str(PurePath(folder)), "serve"]
    assert doc["KeepAlive"] == {"SuccessfulExit": False} and doc["Label"] == service_unit.LABEL


@pytest.mark.parametrize("end", list(LINE_ENDS))
def test_a_folder_with_a_line_end_is_refused_not_written(end: str) -> None:
    for render in (service_unit.systemd_unit, service_unit.launchd_plist, service_unit.windows_task):
        with pytest.raises(InputInvalid, match="line break"):
            render(spec(f"/srv/a{end}ExecStartPre=/bin/rm -rf /"))


def test_systemd_specifiers_and_variables_are_taken_literally() -> None:
    unit = service_unit.systemd_unit(spec("/srv/100% $HOME \"q\" \\x"))
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert '"/srv/100%% $$HOME \\"q\\" \\\\x"' in start
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit


def test_a_system_unit_runs_as_the_named_account_and_reads_the_private_settings_file() -> None:
    unit = service_unit.systemd_unit(spec(system=True, user_name="practice",
                                          environment_file=PurePath("/srv/practice data/service.env")))
    assert "User=practice" in unit and "WantedBy=multi-user.target" in unit
    assert "EnvironmentFile=/srv/practice data/service.env" in unit
