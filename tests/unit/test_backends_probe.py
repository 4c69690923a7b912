"""`make test-postgres` without a PostgreSQL server (issue 21): in CI (CI=true) it fails loudly,
on a developer's machine it says so in one line and skips the PostgreSQL half."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.ports import closed_port


def _make(ci: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PRACTICEMAIL_TEST_BACKEND", "MAKEFLAGS")}
    with closed_port() as nothing:  # held: no other test's server can take it meanwhile
        env.update(CI=ci, PRACTICEMAIL_TEST_DATABASE=f"postgresql://127.0.0.1:{nothing}/test")
        return subprocess.run(["make", "-s", "test-postgres"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_ci_fails_loudly_without_the_server() -> None:
    out = _make("true")
    assert out.returncode != 0, out.stdout + out.stderr
    assert "FAILED: PostgreSQL at" in out.stderr and "unreachable" in out.stderr, out.stderr
    assert "again on PostgreSQL" not in out.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_laptop_without_the_server_is_told_in_one_line_and_skips_it() -> None:
    out = _make("")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr.strip().startswith("skipped: PostgreSQL at") and len(out.stderr.strip().splitlines()) == 1
    assert "again on PostgreSQL" not in out.stdout
