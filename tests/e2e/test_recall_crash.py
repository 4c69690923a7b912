"""A recall run killed with SIGKILL after its first chunk: the rerun queues every patient
that was left, and nobody twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.service.outbox import Outbox
from engine.service.recalls import CHUNK
from engine.service.templates import Templates
from tests.conftest import ROOT
from tests.integration.helpers import open_practice

N = 3000


def make_practice(data: Path, tmp: Path) -> None:
    patients = tmp / "patients.csv"
    patients.write_text("id,first_name,last_name,email\n" + "".join(
        f"P{i:05d},Pat,Number{i},p{i}@example.com\n" for i in range(N)), "utf-8")
    recalls = tmp / "recalls.csv"
    recalls.write_text("patient_id,type,interval_months,due_date\n" + "".join(
        f"P{i:05d},checkup,6,2026-12-01\n" for i in range(N)), "utf-8")
    with open_practice(data) as p:
        p.settings.set_many({"practice.email": "practice@example.test", "recalls.template": "RECALL",
                             "recalls.per_hour": "600"})
        Templates(p.store).add_file(ROOT / "fixtures" / "demo" / "templates" / "RECALL.toml")
        p.directory.import_csv("patients", patients)
    done = subprocess.run([sys.executable, "-m", "engine", "recalls", "import", str(recalls), "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def recall_keys(data: Path) -> Counter[str]:
    with open_practice(data) as p:
        items = [i for i in Outbox(p.store).list() if i.get("kind") == "recall"]
    return Counter(k for i in items for k in i["recall_keys"])


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_sends_each_patient_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_practice(data, tmp_path)
    cmd = [sys.executable, "-m", "engine", "recalls", "run", "--due-before", "2027-01-01", "--data", str(data)]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    line = child.stderr.readline()  # blocks until the first chunk is durable: no sleeping
    assert line.startswith(f"queued {CHUNK} of"), line
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = sum(recall_keys(data).values())
    assert killed_at < N, "the run finished before the kill; the test proved nothing"
    done = subprocess.run(cmd + ["--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    keys = recall_keys(data)
    assert len(keys) == N and set(keys.values()) == {1}  # everyone, once
