"""The engine process killed with SIGKILL mid-way through a batch of texts: on restart every
text is sent, none is lost, and only the text in flight can go twice (flagged). The fake
provider's own records are the witness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from engine.adapters.store import RID
from engine.service.outbox import Outbox
from tests.conftest import ROOT
from tests.integration.helpers import configure, open_practice
from tools.fakemail import FakeMail

N = 500


@pytest.mark.slow
def test_sigkill_during_a_batch_of_500_texts(data_dir: Path, fakemail: FakeMail) -> None:
    fakemail.sms.balance = Decimal("1000.00")  # 500 texts at 0.04 each
    info = fakemail.info()["sms"]
    with open_practice(data_dir) as p:
        configure(p, fakemail)
        p.settings.set_many({"sms.provider": "twilio", "sms.account": info["account_sid"],
                             "sms.secret": info["auth_token"], "sms.sender": info["number"],
                             "sms.api_url": info["base_url"]})
        outbox = Outbox(p.store)
        now = datetime.now(timezone.utc)
        for i in range(N):
            outbox.add_sms(f"+447700900{i % 1000:03d}", f"Reminder {i}: your check-up is due", now,
                           sender=info["number"], parts=1)
    cmd = [sys.executable, "-m", "engine", "send-receive", "--json", "--data", str(data_dir)]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fakemail.sms.wait_for_sent(150, timeout=120)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = len(fakemail.sms.messages("outbound"))
    assert killed_at < N, "the batch finished before the kill; the test proved nothing"
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    bodies = Counter(m["body"] for m in fakemail.sms.messages("outbound"))
    with open_practice(data_dir) as p:
        items = Outbox(p.store).list()
    assert len(items) == N and all(r["status"] == "sent" for r in items), Counter(r["status"] for r in items)
    assert set(bodies) == {r["text"] for r in items}  # nothing lost
    twice = [body for body, n in bodies.items() if n > 1]
    assert len(twice) <= 1 and all(n <= 2 for n in bodies.values()), twice
    flagged = [r for r in items if r.get("resent_after_crash")]
    assert {r["text"] for r in flagged} >= set(twice)  # a duplicate is always the flagged one
    assert len(flagged) <= 1, [r[RID] for r in flagged]
    sids = {m["sid"] for m in fakemail.sms.messages("outbound")}
    assert all(r["provider_sid"] in sids for r in items)  # each record names a text the provider took
