"""Inbound throughput: 10,000 messages in the fake mailbox; our first sync against
bare imapclient (or poplib) fetching the same messages just before and just after it (the
faster of the two: see one_round); then 10
new messages, whose incremental sync must take <= 2 % of the first. Three rounds,
each with a fresh practice and three checks of 10 new; medians reported.
Targets: ratio >= 0.7; incremental <= 2 %. On each backend (`--backend tinydb|postgres|both`,
default both): PostgreSQL's ratio must reach 0.8 of TinyDB's in the same run (issue 21).

The fake server runs as its own process with its spool on tmpfs (see outbound.py).

`--parsing` measures instead, with no server, what the adapters' own readers of the server's
answers (engine/adapters/wire.py) save over the libraries' for 10,000 messages: the numbers
quoted where imap.py reaches into imapclient's connection.

    python tools/bench/inbound.py [--messages 10000] [--parsing] [--backend both] [--database URL]
"""

from __future__ import annotations

import argparse
import io
import poplib
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from imapclient import IMAPClient  # noqa: E402

from engine.service.engine import Engine  # noqa: E402
from engine.service.practice import Practice  # noqa: E402
from tools.bench import pg  # noqa: E402
from tools.bench.fake_server import fake_server  # noqa: E402
from tools.fakemail.mailstore import maildir_deliver  # noqa: E402


def message(i: int) -> bytes:
    body = b"".join(b"Line %d of a patient's reply about their appointment next week.\r\n" % n for n in range(25))
    return (b"From: Patient %d <patient%d@patientmail.example>\r\nTo: practice@example.test\r\n"
            b"Subject: Re: your appointment %d\r\nMessage-ID: <%d.in@patientmail.example>\r\n"
            b"Date: Tue, 24 Nov 2026 07:30:00 +0000\r\n\r\n" % (i % 500, i % 500, i, i)) + body


def bare_imap(info: dict, user: dict) -> float:  # type: ignore[type-arg]
    t0 = time.perf_counter()
    ctx = ssl.create_default_context(cafile=info["ca_file"])
    with IMAPClient("localhost", port=info["imap"]["imaps"], ssl_context=ctx, timeout=60) as c:
        c.login(user["username"], user["password"])
        c.select_folder("INBOX", readonly=True)
        uids = c.search(["UID", "1:*"])
        n = 0
        for start in range(0, len(uids), 200):
            n += len(c.fetch(uids[start:start + 200], ["BODY.PEEK[]"]))
    return time.perf_counter() - t0


def bare_pop3(info: dict, user: dict) -> float:  # type: ignore[type-arg]
    t0 = time.perf_counter()
    ctx = ssl.create_default_context(cafile=info["ca_file"])
    p = poplib.POP3_SSL("localhost", info["pop3"]["pop3s"], context=ctx, timeout=60)
    p.user(user["username"])
    p.pass_(user["password"])
    for line in p.uidl()[1]:
        p.retr(int(line.split()[0]))
    p.quit()
    return time.perf_counter() - t0


def one_round(protocol: str, n: int, k: int, folder: Path, info: dict, bare: Callable[..., float],  # type: ignore[type-arg]
              database: str = "") -> Round:
    """A fresh practice's first sync of the whole mailbox between two passes of the bare client
    on the same mailbox (its baseline: the faster of the two), then 10 new messages and our
    incremental sync (three times; the median). `database`: a PostgreSQL URL (a fresh schema
    each round), or '' for TinyDB in `folder`.

    Why two bare passes around ours: the bare POP3 client asks one RETR at a time, so its time
    is 10,000 round trips to the server process, each a wake-up of both processes. Its CPU
    stays ~1 s while its wall time went from 2.3 s to 10.4 s with the other work on the shared
    two cores at that moment (GC, PostgreSQL's own CPU, the idle pool threads: all measured at
    nil); our pipelined RETRs barely feel it. A baseline taken once, after ours, was a sample
    of the machine's load at another moment, not of the server: 953 against 1,887 msg/s
    between the two backends' passes. Bracketing ours and keeping the faster only makes the
    baseline harder to reach."""
    user = info["users"][0]
    box = Path(info["spool"]) / user["username"]
    with pg.store_url("postgres" if database else "tinydb", database) as url, \
            Practice(folder, writer=True, command="bench", database=url) as p:
        p.settings.set_many({
            "practice.email": user["address"], "account.username": user["username"],
            "account.password": user["password"], "incoming.enabled": "true", "incoming.protocol": protocol,
            "incoming.host": "localhost", "incoming.port": str(info[protocol]["imaps" if protocol == "imap" else "pop3s"]),
            "incoming.security": "implicit", "incoming.leave_on_server": "true", "tls.ca_file": info["ca_file"],
        })
        engine = Engine(p)
        before = bare(info, user)
        t0 = time.perf_counter()
        report = engine.receive()
        first = time.perf_counter() - t0
        assert report.received >= n and report.error is None, report
        after = bare(info, user)
        checks = []
        for c in range(INCREMENTALS):  # a few checks of 10 new each; their median (one can land on a GC pause)
            for i in range(10):
                maildir_deliver(box, message(n + 100 * k + 10 * c + i))  # new Message-IDs each time
            t0 = time.perf_counter()
            report = engine.receive()
            checks.append(time.perf_counter() - t0)
            assert report.received == 10, report
    return Round(first, min(before, after), statistics.median(checks), (before, after))


INCREMENTALS = 3


@dataclass
class Round:
    first: float
    bare: float  # the faster of the bare client's two passes, just before and just after ours
    incremental: float
    bares: tuple[float, float]


def _best(fn: Callable[[], object], times: int) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(times):
            fn()
        best = min(best, (time.perf_counter() - t0) / times)
    return best


def parsing(n: int) -> None:
    """Reading 200 messages' FETCH answer and 200 RETR answers, ours against the library's; scaled to `n`."""
    from imapclient.response_parser import parse_fetch_response

    from engine.adapters import wire

    msgs = [message(i) for i in range(200)]
    answer: list[object] = []
    for i, m in enumerate(msgs, 1):
        answer += [(b"%d (UID %d BODY[] {%d}" % (i, i + 100, len(m)), m), b")"]
    assert wire.fetch_bodies(answer) == {u: v[b"BODY[]"] for u, v in parse_fetch_response(answer).items()}
    ours = _best(lambda: wire.fetch_bodies(answer), 50) * n / 200
    theirs = _best(lambda: parse_fetch_response(answer), 10) * n / 200
    print(f"  IMAP  FETCH answers of {n:,}: wire.fetch_bodies {ours * 1000:.0f} ms, imapclient's parser "
          f"{theirs * 1000:.0f} ms")
    stream = b"".join(b"+OK\r\n" + m.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n" for m in msgs)

    class Reader(poplib.POP3):
        def __init__(self, f: io.BufferedReader) -> None:  # noqa: D107 - no socket: poplib's reader alone
            self.file, self._debugging = f, 0

    def by_poplib() -> None:
        pop = Reader(io.BufferedReader(io.BytesIO(stream)))
        for _ in msgs:
            pop._getlongresp()  # noqa: SLF001 - what its retr() reads with

    def by_wire() -> None:
        f = io.BufferedReader(io.BytesIO(stream))
        for _ in msgs:
            wire.read_long_answer(f)

    ours, theirs = _best(by_wire, 10) * n / 200, _best(by_poplib, 10) * n / 200
    print(f"  POP3  RETR answers of {n:,}: wire.read_long_answer {ours * 1000:.0f} ms, poplib's line reader "
          f"{theirs * 1000:.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parsing", action="store_true", help="measure the readers of answers alone, no server")
    pg.add_arguments(ap)
    args = ap.parse_args()
    n = args.messages
    if args.parsing:
        parsing(n)
        return 0
    ok = True
    print(f"inbound bench, {n:,} messages of {len(message(0)):,} bytes, TLS on loopback, "
          f"{args.rounds} rounds (medians; two shared cores swing single runs by a third)")
    for protocol in ("imap", "pop3"):
        def fill(spool: Path) -> None:
            for i in range(n):
                maildir_deliver(spool / "practice", message(i))

        bare = bare_imap if protocol == "imap" else bare_pop3
        ratios: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp, fake_server(fill) as info:
            bare(info, info["users"][0])  # warm the server up (and let it give every message its UID)
            for b, backend in enumerate(pg.chosen(args.backend)):
                database = args.database if backend == "postgres" else ""
                rounds = [one_round(protocol, n, 10 * b + k, Path(tmp) / f"data-{backend}-{k}", info, bare, database)
                          for k in range(args.rounds)]
                ratios[backend], share_ok = _report(protocol, backend, n, rounds)
                ok = ok and ratios[backend] >= 0.7 and share_ok
        ok = pg.compare(ratios) and ok
    return 0 if ok else 1


def _report(protocol: str, backend: str, n: int, rounds: list[Round]) -> tuple[float, bool]:
    """Print one backend's figures; its median ratio, and whether 10 new took <= 2 % of the first."""
    first = statistics.median(r.first for r in rounds)
    bare_s = statistics.median(r.bare for r in rounds)
    incremental = statistics.median(r.incremental for r in rounds)
    ratio = statistics.median(r.bare / r.first for r in rounds)
    share = statistics.median(r.incremental / r.first for r in rounds)
    print(f"  {protocol.upper():5} on {backend:8} first sync {first:6.2f} s ({n / first:6.0f} msg/s); bare client "
          f"{bare_s:6.2f} s ({n / bare_s:6.0f} msg/s); ratio {ratio:.2f} (>= 0.7: {'yes' if ratio >= 0.7 else 'NO'}); "
          f"10 new: {incremental * 1000:.0f} ms = {share:.1%} of first (<= 2 %: {'yes' if share <= 0.02 else 'NO'})")
    print("        rounds: " + "; ".join(f"ratio {r.bare / r.first:.2f} (ours {r.first:.2f} s, bare "
                                              f"{r.bares[0]:.2f}/{r.bares[1]:.2f} s), 10 new {r.incremental * 1000:.0f} ms"
                                              for r in rounds))
    return ratio, share <= 0.02


if __name__ == "__main__":
    sys.exit(main())
