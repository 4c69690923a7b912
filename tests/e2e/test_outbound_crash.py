"""The engine process killed with SIGKILL mid-batch: on restart every item is
sent, none is lost, and only the item in flight can go twice."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.adapters.store import RID
from engine.service.outbox import Outbox
from tests.conftest import ROOT
from tests.integration.helpers import configure, draft, open_practice
from tools.fakemail import FakeMail

N = 500


def message_ids(fm: FakeMail) -> Counter[str]:
    return Counter(email.message_from_bytes(m["data"])["Message-ID"] for m in fm.sent())


@pytest.mark.slow
def test_sigkill_during_a_batch_of_500(data_dir: Path, fakemail: FakeMail) -> None:
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        outbox = Outbox(p.store)
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc)
        for i in range(N):
            outbox.add_draft(draft(to=f"patient{i}@example.com", subject=f"Reminder {i}"), now)
    cmd = [sys.executable, "-m", "engine", "send-receive", "--json", "--data", str(data_dir)]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fakemail.wait_for_sent(150, timeout=120)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = len(fakemail.sent())
    assert killed_at < N, "the batch finished before the kill; the test proved nothing"
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = message_ids(fakemail)
    with open_practice(data_dir) as p:
        items = Outbox(p.store).list()
    assert len(items) == N and all(r["status"] == "sent" for r in items)
    assert set(ids) == {r["message_id"] for r in items}  # nothing lost
    twice = [mid for mid, n in ids.items() if n > 1]
    assert len(twice) <= 1 and all(n <= 2 for n in ids.values())
    flagged = [r for r in items if r.get("resent_after_crash")]
    assert {r["message_id"] for r in flagged} >= set(twice)  # a duplicate is always the flagged one
    assert len(flagged) <= 1, [r[RID] for r in flagged]
