"""What recognising bounces and calendar answers adds to intake: the two readers
(engine/service/bounces.py, calendar_answers.py) asked about 10,000 ordinary patient
messages, against reading those messages' headers (incoming.facts), the work intake
already does for each, in the same run. Median of three rounds.
Target: the readers cost at most a third of facts() (measured 0.10-0.28 on a shared 2-core machine).

    python tools/bench/intake_answers.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.core import incoming  # noqa: E402
from engine.service.bounces import Bounces  # noqa: E402
from engine.service.calendar_answers import CalendarAnswers  # noqa: E402
from engine.service.outbox import Outbox  # noqa: E402
from engine.service.practice import Practice  # noqa: E402


def message(i: int, multipart: bool) -> bytes:
    body = b"".join(b"Line %d of a patient's reply about their appointment next week.\r\n" % n for n in range(25))
    kind = b'multipart/alternative; boundary="b"' if multipart else b"text/plain; charset=utf-8"
    return (b"From: Patient %d <patient%d@patientmail.example>\r\nTo: practice@example.test\r\n"
            b"Subject: Re: your appointment %d\r\nMessage-ID: <%d.in@patientmail.example>\r\n"
            b"Content-Type: %s\r\nDate: Tue, 24 Nov 2026 07:30:00 +0000\r\n\r\n" % (i, i, i, i, kind)) + body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10000)
    n = parser.parse_args().messages
    msgs = [message(i, multipart=i % 2 == 0) for i in range(n)]  # half of phones' mail is multipart
    facts = [incoming.facts(m) for m in msgs]
    now = datetime.now(timezone.utc)
    readers_s, facts_s = [], []
    with tempfile.TemporaryDirectory() as folder, Practice(Path(folder), writer=True, command="bench") as p:
        readers = [Bounces(Outbox(p.store), p.directory), CalendarAnswers(p.store, lambda: "practice@example.test")]
        for _ in range(3):
            t = time.perf_counter()
            for m, f in zip(msgs, facts):
                for r in readers:
                    r.take(m, f, now)
            readers_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            for m in msgs:
                incoming.facts(m)
            facts_s.append(time.perf_counter() - t)
    took, base = statistics.median(readers_s), statistics.median(facts_s)
    print(f"bounce and calendar readers, {n} ordinary messages: {took:.3f} s ({took / n * 1e6:.1f} us each); "
          f"facts(): {base:.3f} s; ratio {took / base:.2f} (target <= 0.35)")
    if took / base > 0.35:
        sys.exit(1)


if __name__ == "__main__":
    main()
