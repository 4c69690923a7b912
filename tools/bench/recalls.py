"""A recall run for 10,000 patients, planned and queued (rendered, built, stored durably,
recalls marked sent), against queueing the same number of plain drafts with
Outbox.add_drafts in the same run. Target (issue 18): the run <= 5 s; the ratio shows what
planning, rendering and marking cost on top of the outbox's own batch step.

    python tools/bench/recalls.py [--patients 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.core import recalls as rc  # noqa: E402
from engine.core.message import Draft, Recipient  # noqa: E402
from engine.service.outbox import Outbox  # noqa: E402
from engine.service.practice import Practice  # noqa: E402
from engine.service.recalls import Recalls  # noqa: E402
from engine.service.templates import Templates  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def setup(folder: Path, n: int) -> None:
    with Practice(folder, writer=True, command="bench") as p:
        p.settings.set_many({"practice.email": "practice@example.test", "practice.name": "Bright Smile Dental",
                             "recalls.template": "RECALL", "recalls.per_hour": "120"})
        Templates(p.store).add_file(ROOT / "fixtures" / "demo" / "templates" / "RECALL.toml")
        p.directory.import_rows("patients", [(i + 2, {"id": f"P{i:05d}", "first_name": "Pat", "last_name": f"N{i}",
                                                      "email": f"p{i}@example.com",
                                                      "family_id": f"F{i // 3}" if i % 7 == 0 else ""})
                                             for i in range(n)])
        Recalls(p, Outbox(p.store)).import_rows([(i + 2, {"patient_id": f"P{i:05d}", "type": "checkup",
                                                          "interval_months": "6", "due_date": "2026-12-01"})
                                                 for i in range(n)])


def baseline(folder: Path, n: int) -> tuple[float, float]:
    """The same number of messages of the same shape (text and HTML, rendered once beforehand)."""
    from engine.core import templates as tpl

    with Practice(folder, writer=True, command="bench") as p:
        t = Templates(p.store)
        t.add_file(ROOT / "fixtures" / "demo" / "templates" / "RECALL.toml")
        r = tpl.render(t.get("RECALL"), tpl.sample_context())
        drafts = [(Draft("practice@example.test", "Bright Smile Dental", [Recipient(f"p{i}@example.com", "Pat N")],
                         r.subject, r.body, html=r.html), {"patient_id": f"P{i:05d}"}) for i in range(n)]
        t0, c0 = time.perf_counter(), time.process_time()
        Outbox(p.store).add_drafts(drafts, NOW)
        return time.perf_counter() - t0, time.process_time() - c0


def run(folder: Path) -> tuple[float, float, int, int]:
    with Practice(folder, writer=True, command="bench") as p:
        recalls = Recalls(p, Outbox(p.store))
        t0, c0 = time.perf_counter(), time.process_time()
        result = recalls.run(date(2027, 1, 1), NOW)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        times = [datetime.fromisoformat(i["deliver_after"]) for i in recalls.outbox.list()]
    return took, cpu, len(result.queued), rc.busiest_hour(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    n = ap.parse_args().patients
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp) / "run", n)
        base, base_cpu = baseline(Path(tmp) / "base", n)
        took, cpu, queued, busiest = run(Path(tmp) / "run")
    # the CPU seconds beside the wall clock: on a shared, loaded machine the wall clock also
    # counts the time other processes had the CPU
    print(f"recall run: {n} patients -> {queued} messages planned and queued in {took:.2f} s ({cpu:.2f} s of CPU) "
          f"(busiest hour {busiest}, limit 120)")
    print(f"baseline: {n} drafts of the same shape, pre-rendered, queued with Outbox.add_drafts in {base:.2f} s "
          f"({base_cpu:.2f} s of CPU)")
    print(f"ratio run/baseline: {took / base:.2f}x; target run <= 5 s: {'met' if took <= 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
