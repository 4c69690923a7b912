"""Patient search at the desk over 20,000 patients (issue 19: <= 50 ms): the engine's query
(Directory.search) for a name, a surname and first name, a date of birth as typed, a mobile
and an email fragment; and the kiosk's Patients view filled from it as reception types. Mobiles are
stored as the import stores them (E.164), so the index works out their national forms as it must
on a real practice. Each query is run 7 times; the median is the figure (the machine may be busy).

Then the moments the steady figures hide (issue 19: 178 ms for 200 results): the window shown
(the Patients view filled before anything is typed), the first letter typed (the index built, on
the GUI thread unless the jobs thread has built it since start), the box cleared again (the first
ROWS by name), and a letter typed after one patient changed (the index rebuilt): medians of 7
where they repeat. Run it on an older tree for the figures before (same bench file).

    QT_QPA_PLATFORM=offscreen python tools/bench/patient_search.py [--patients 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.service.demo import load_demo  # noqa: E402
from engine.service.app import App  # noqa: E402
from engine.service.practice import Practice  # noqa: E402
from kiosk.main_window import MainWindow  # noqa: E402
from kiosk.stall_probe import application, process_events, wait_for  # noqa: E402
from kiosk.tables import ROWS  # noqa: E402

FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Ivy", "Arthur", "Priya", "Wei"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Chen", "Okafor",
        "Kowalski", "Macleod", "Nowak", "Murphy", "Evans", "Thomas", "Roberts", "Walker", "Wright"]
QUERIES = ("walker", "amelia smith", "13/06/1983", "07700 912", "+447700912", "mail1234", "zz no such patient")


def patients(n: int) -> list[dict]:  # type: ignore[type-arg]
    return [{"id": f"B{i:05d}", "title": "", "first_name": FIRST[i % len(FIRST)],
             "last_name": LAST[(i // len(FIRST)) % len(LAST)], "email": f"mail{i}@patientmail.example",
             "mobile": f"+447700 9{i % 100000:05d}".replace(" ", ""), "family_id": f"BF{i // 3}", "usual_provider_id": "DR1",
             "preferred_location": "Riverside Surgery",
             "date_of_birth": f"{1940 + i % 70}-{1 + i % 12:02d}-{1 + i % 28:02d}", "source": "bench"}
            for i in range(n)]


def shown(window: MainWindow) -> None:
    """Until the view shows what was typed. Since issue 19's read-only desk the view is read on
    the jobs thread and filled from its answer: wait for it in an event loop as the kiosk does
    (idle, no GIL held; polling from Python here took the GIL from the jobs thread and doubled
    the figure). Before, setText filled it at once and nothing is left to wait for."""
    process_events()
    if not window.jobs.idle():
        wait_for(window.patients.model_.modelReset, window.jobs.idle)
    process_events()


def median_ms(run: object, times: int = 7) -> float:
    took = []
    for _ in range(times):
        t0 = time.perf_counter()
        run()  # type: ignore[operator]
        took.append(time.perf_counter() - t0)
    return statistics.median(took) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=20_000)
    args = ap.parse_args()
    app = application()  # noqa: F841 - the QApplication must live for the whole run
    with tempfile.TemporaryDirectory() as tmp, Practice(Path(tmp) / "data", writer=True, command="bench") as p:
        load_demo(p)
        p.store.collection("patients").insert_many(patients(args.patients))
        d = p.directory
        engine_ms = {q: median_ms(lambda q=q: d.search(q)) for q in QUERIES}
        hits = {q: len(d.search(q)) for q in QUERIES}
        engine = App(p)  # the door the kiosk takes (outbox, send_receive_now, start, stop)
        t0 = time.perf_counter()
        window = MainWindow(engine)
        window.show()
        process_events()
        shown_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        while not window.jobs.idle():  # what the jobs thread was asked at start (the index, where built there)
            process_events()
            time.sleep(0.001)
        warm_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        window.patient_search.setText("walker")
        shown(window)
        first_ms = (time.perf_counter() - t0) * 1000

        def cleared() -> None:
            window.patient_search.setText("walker")
            shown(window)
            t0 = time.perf_counter()
            window.patient_search.setText("")
            shown(window)
            took.append(time.perf_counter() - t0)

        took: list[float] = []
        for _ in range(7):
            cleared()
        cleared_ms, took = statistics.median(took) * 1000, []
        n = [0]

        def after_change() -> None:
            n[0] += 1
            d.update("patients", "B00007", {"email": f"changed{n[0]}@patientmail.example"})
            t0 = time.perf_counter()
            window.patient_search.setText("walker" if window.patient_search.text() != "walker" else "walker ")
            shown(window)
            took.append(time.perf_counter() - t0)

        for _ in range(7):
            after_change()
        changed_ms = statistics.median(took) * 1000

        def typed(q: str) -> None:  # the same words, a different text: the view refreshes every time
            window.patient_search.setText(q if window.patient_search.text() != q else q + " ")
            shown(window)

        kiosk_ms = {q: median_ms(lambda q=q: typed(q)) for q in QUERIES}
        window.timer.stop()
    worst = max(engine_ms.values())
    print(f"patient search bench, {args.patients:,} patients (median of 7)")
    for q in QUERIES:
        print(f"  {q!r:24} {hits[q]:4} found   engine {engine_ms[q]:6.1f} ms   kiosk view {kiosk_ms[q]:6.1f} ms")
    ok = worst <= 50
    print(f"  window shown (Patients view filled) {shown_ms:6.0f} ms; jobs thread idle {warm_ms:.0f} ms later")
    print(f"  first letters typed ('walker')    {first_ms:6.1f} ms   box cleared (first {ROWS} by name) {cleared_ms:6.1f} ms")
    print(f"  typed after a patient changed     {changed_ms:6.1f} ms   (each target 50 ms, information)")
    print(f"  gate: slowest engine query {worst:.1f} ms <= 50 ms: {'yes' if ok else 'NO'}; "
          f"slowest kiosk view {max(kiosk_ms.values()):.1f} ms (information)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
