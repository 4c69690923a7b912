"""A writer killed with SIGKILL at random moments never leaves a torn store.

The child inserts records 0, 1, 2, ... and prints each number only after the
insert returned (acknowledged). After the kill, the store must open and hold
exactly records 0..k-1 where k is the number acknowledged, or k+1 (the write
in flight may have landed before the kill).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.adapters.store import Store

CHILD = """
import sys
from pathlib import Path
from engine.adapters.store import Store
s = Store.open(Path(sys.argv[1]), writer=True)
part = s.partitioned("messages", partition_size=int(sys.argv[2]))
small = s.collection("settings")
start = len(part)
i = start
while True:
    part.insert({"seq": i, "pad": "x" * 200})
    rec = small.get(1)
    if rec is None:
        small.insert({"last": i}, 1)
    else:
        small.update(1, {"last": i})
    print(i, flush=True)
    i += 1
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_prefix(data_dir: Path) -> None:
    rng = random.Random(20261126)
    acknowledged = previous_last = -1
    for round_no in range(25):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), "7"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # started and writing (on a loaded machine start-up alone took 0.7 s)
        time.sleep(0.35 + rng.random() * 0.4)  # let it write; the kill moment is random
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        out = first + out
        acks = [int(x) for x in out.split()]
        if acks:
            acknowledged = acks[-1]
        with Store.open(data_dir, writer=True) as s:
            seqs = [r["seq"] for r in s.partitioned("messages", partition_size=7).all()]
            last = s.collection("settings").get(1)
        assert seqs == list(range(len(seqs))), f"round {round_no}: not a prefix"
        assert len(seqs) - 1 in (acknowledged, acknowledged + 1), f"round {round_no}: lost acknowledged writes"
        if last is not None:
            # Never ahead of the messages, never behind what was acknowledged (a child prints after
            # both writes). It may lag further: children killed between the two writes in several
            # rounds running each leave it one more behind (seen on a loaded machine).
            assert last["last"] <= len(seqs) - 1, f"round {round_no}: settings ahead of the messages"
            assert not acks or last["last"] >= acks[-1], f"round {round_no}: an acknowledged update lost"
            assert last["last"] >= previous_last, f"round {round_no}: settings went back"
            previous_last = last["last"]
        # The next child starts after what is stored, including a write that landed unacknowledged:
        # without this, a child killed (on a loaded machine) before it printed anything, after its
        # first insert landed, made a correct store look two ahead of the acknowledgements.
        acknowledged = len(seqs) - 1
    assert acknowledged > 50  # the test really exercised writes
    assert not list(data_dir.rglob("*.tmp-*"))
