"""Several desks on PostgreSQL (issue 21): how soon another desk hears of a change, and what a
command through the database costs next to the same command at the service.

1. A new outbox item committed by the service (an App on connections of its own), heard by a
   desk's App through LISTEN/NOTIFY: the time from the commit to the desk's listener, median of
   20. Target: <= 1 s (issue 21). Baseline in the same run: the poll it replaces would hear it
   after half its interval on average (printed as a ratio).
2. A new email queued from the desk (a command row the service takes, carries out and answers)
   against the same email queued at the service itself: medians of `--emails` each, and their ratio.

    python tools/bench/desk_commands.py [--database postgresql://127.0.0.1:5432/test] [--emails 50]

A schema of its own is made in the database and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.service.app import App, NewEmail  # noqa: E402
from engine.service.demo import load_demo  # noqa: E402
from engine.service.practice import Practice  # noqa: E402

TARGET = 1.0
POLL = 30.0  # the desks' fallback poll (engine/service/desks.py WATCH_SECONDS)


def notice_latency(service: App, desk: App, rounds: int = 20) -> list[float]:
    heard = threading.Event()
    desk.subscribe(lambda name, d: heard.set() if name == "outbox_changed" and d.get("notice") == "outbox" else None)
    assert desk.hearing(30), "the desk is not listening"
    out = []
    for k in range(rounds):
        heard.clear()
        service.compose(NewEmail("P001", subject=f"Notice {k}", text="x", as_draft=True))
        committed = time.perf_counter()
        assert heard.wait(10), "no notice within 10 s"
        out.append(time.perf_counter() - committed)
    return out


def timed(fn, n: int) -> list[float]:  # noqa: ANN001 - a command
    out = []
    for k in range(n):
        t = time.perf_counter()
        fn(k)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=os.environ.get("PRACTICEMAIL_BENCH_DATABASE", "postgresql://127.0.0.1:5432/test"))
    ap.add_argument("--emails", type=int, default=50)
    a = ap.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(a.database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{a.database}{'&' if '?' in a.database else '?'}options={quote(f'-csearch_path={schema}')}"
    tmp = Path(tempfile.mkdtemp())
    try:
        with Practice(tmp / "server", writer=True, command="bench", database=url) as p:
            load_demo(p)
        (tmp / "desk").mkdir(mode=0o700)  # no stored passwords here: no key file to copy
        with App.open(tmp / "server", writer=True, command="bench serve", database=url) as service:
            service.start()
            with App.open_desk(tmp / "desk", database=url, command="bench desk") as desk:
                assert desk.on_another_desk
                latency = statistics.median(notice_latency(service, desk))
                email = lambda k: NewEmail("P001", subject=f"Bench {k}", text="x", as_draft=True)  # noqa: E731
                at_service = statistics.median(timed(lambda k: service.compose(email(k)), a.emails))
                from_desk = statistics.median(timed(lambda k: desk.compose(email(k)), a.emails))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with psycopg.connect(a.database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(f"notice to another desk: median {latency * 1000:.1f} ms (target <= {TARGET * 1000:.0f} ms: "
          f"{'met' if latency <= TARGET else 'NOT met'}); the {POLL:.0f} s poll alone: ~{POLL / 2:.0f} s, "
          f"ratio {POLL / 2 / latency:.0f}x")
    print(f"new email: at the service {at_service * 1000:.1f} ms, from another desk {from_desk * 1000:.1f} ms "
          f"(ratio {from_desk / at_service:.2f})")
    return 0 if latency <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
