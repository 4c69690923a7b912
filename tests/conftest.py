"""Shared test set-up: every test gets its own data folder; Qt runs offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def _no_ambient_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may touch the developer's real data folder or key file."""
    monkeypatch.setenv("PRACTICEMAIL_DATA", str(tmp_path / "default-data"))
    monkeypatch.delenv("PRACTICEMAIL_KEY_FILE", raising=False)
