"""Outbound throughput: 2,000 ready items through a manual send-receive to the fake
SMTP server over loopback, against the same 2,000 prepared messages sent with
bare smtplib over one connection, in the same run. Target: ratio >= 0.8. On each backend
(`--backend tinydb|postgres|both`, default both): PostgreSQL's ratio must reach 0.8 of TinyDB's
in the same run (issue 21).

The fake server runs as its own process (`practicemail fakemail`), as a real
mail server would, so it does not share a GIL with the engine being measured.

    python tools/bench/outbound.py [--items 2000] [--backend both] [--database URL]
"""

from __future__ import annotations

import argparse
import smtplib
import ssl
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.core.message import Draft, Recipient  # noqa: E402
from engine.service.engine import Engine  # noqa: E402
from engine.service.outbox import Outbox  # noqa: E402
from engine.service.practice import Practice  # noqa: E402
from tools.bench import pg  # noqa: E402
from tools.bench.fake_server import fake_server  # noqa: E402
from tools.fakemail import User  # noqa: E402

BODY = "\n".join(f"Line {n}: a reminder of your appointment, with the practice's details." for n in range(30))


def bare(u: User, port: int, ca_file: str, raws: list[tuple[list[str], bytes]]) -> float:
    """The same messages with plain smtplib over one connection: seconds taken."""
    t0 = time.perf_counter()  # like the engine's pass, this includes connecting and logging in
    ctx = ssl.create_default_context(cafile=ca_file)
    with smtplib.SMTP("localhost", port, timeout=30) as s:
        s.starttls(context=ctx)
        s.login(u.username, u.password)
        for to, raw in raws:
            s.sendmail(u.address, to, raw)
        return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=2000)
    pg.add_arguments(ap)
    args = ap.parse_args()
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, fake_server() as info:
        for backend in pg.chosen(args.backend):
            with pg.store_url(backend, args.database) as url:
                ratios[backend] = run(args.items, Path(tmp) / backend, info, database=url)
    ok = all(r >= 0.8 for r in ratios.values())
    return 0 if pg.compare(ratios) and ok else 1


def run(n: int, tmp: Path, info: dict, rounds: int = 3, database: str = "") -> float:  # type: ignore[type-arg]
    """`rounds` times: queue n items, time the engine's pass, then time bare smtplib on the same
    messages. One run on a shared 2-core machine swings by +-0.07; the medians do not.
    `database`: a PostgreSQL URL, or '' for TinyDB in `tmp`. Returns the median ratio."""
    user = info["users"][0]
    u = User(user["address"], user["username"], user["password"])
    port = info["smtp"]["submission"]
    ca_file = info["ca_file"]
    engine_times: list[float] = []
    bare_times: list[float] = []
    with Practice(tmp / "data", writer=True, command="bench", database=database) as p:
        p.settings.set_many({
            "practice.name": "Bench Dental", "practice.email": u.address, "account.username": u.username,
            "account.password": u.password, "outgoing.host": "localhost",
            "outgoing.port": str(port), "outgoing.security": "starttls",
            "tls.ca_file": ca_file, "incoming.enabled": "false",
        })
        outbox = Outbox(p.store)
        engine = Engine(p)
        queue_rates = []
        for r in range(rounds):
            now = datetime.now(timezone.utc)
            t0 = time.perf_counter()
            ids = outbox.add_drafts([(Draft(u.address, "Bench Dental", [Recipient(f"patient{i}@example.com")],
                                            f"Reminder {r}-{i}", BODY), {}) for i in range(n)], now)
            queue_rates.append(n / (time.perf_counter() - t0))
            raws = [(rec["envelope_to"], outbox.blob(rec)) for rec in (outbox.get(i) for i in ids)]
            if r == 0:
                bare(u, port, ca_file, raws[: n // 10])  # warm the server up before anything is timed
            t0 = time.perf_counter()
            report = engine.send_receive_now()
            engine_times.append(time.perf_counter() - t0)
            assert report["sent"] == n, report
            bare_times.append(bare(u, port, ca_file, raws))
    engine_s, bare_s = statistics.median(engine_times), statistics.median(bare_times)
    ratios = [b / e for e, b in zip(engine_times, bare_times)]
    ratio = statistics.median(ratios)
    print(f"outbound bench on {'PostgreSQL' if database else 'TinyDB'}, {n:,} items of {len(raws[0][1]):,} bytes "
          f"over STARTTLS + AUTH on loopback, {rounds} rounds (medians)")
    print(f"  queueing {n:,} in one durable step  {statistics.median(queue_rates):8.0f} items/s")
    print(f"  engine send-receive                 {n / engine_s:8.0f} msg/s  ({engine_s:.2f} s)")
    print(f"  bare smtplib, one connection        {n / bare_s:8.0f} msg/s  ({bare_s:.2f} s)")
    print(f"  ratio engine/bare per round         {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"  median ratio                        {ratio:8.2f}   target >= 0.8: {'yes' if ratio >= 0.8 else 'NO'}")
    return ratio


if __name__ == "__main__":
    sys.exit(main())
