"""The kiosk's longest GUI-thread stall while Send/Receive brings mail in (issue 15, "No lock
across I/O"): reception keeps opening messages (each opening marks it read, on the GUI
thread) while the worker sends 500 and receives 500 from the fake IMAP server; then again with
the server delaying every reply by `--delay` seconds (fewer messages by default: `--slow`).

The stall is the largest gap between ticks of a 5 ms QTimer on the offscreen kiosk. Baseline in
the same run: the same clicking with no pass running (what the GUI costs by itself); the figure
that matters is the stall during each pass. Target: <= 50 ms for both passes (printed, met or
not; the exit status says whether both were met).

    QT_QPA_PLATFORM=offscreen python tools/bench/kiosk_receive.py [--messages 500] [--slow 500] [--delay 1]
        [--click-every 0.05] [--why]

`--click-every 0`: no clicks (what the pass alone costs the GUI); `--why`: where the GUI thread
and every other thread were during its stalls (tools/bench/stall_why.py). At 500 per second-delayed reply the slow pass takes ~500 s (one FETCH
answer per message); `--slow 50` is the usual run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.core.message import Draft, Recipient  # noqa: E402
from engine.service.demo import load_demo  # noqa: E402
from engine.service.app import App  # noqa: E402
from engine.service.practice import Practice  # noqa: E402
from kiosk.app import settle_heap, share_the_gil  # noqa: E402
from kiosk.main_window import MainWindow  # noqa: E402
from kiosk.stall_probe import Probe, application, process_events  # noqa: E402
from tools.bench.fake_server import fake_server  # noqa: E402
from tools.bench.inbound import message  # noqa: E402
from tools.bench.stall_why import Why, run_queue_wait  # noqa: E402
from tools.fakemail.mailstore import maildir_deliver  # noqa: E402

TARGET = 0.050
CLICK_EVERY = 0.05  # seconds between two messages opened by "reception"


def settings(info: dict[str, Any]) -> dict[str, str]:
    user = info["users"][0]
    return {"practice.email": user["address"], "account.username": user["username"],
            "account.password": user["password"], "outgoing.host": "localhost",
            "outgoing.port": str(info["smtp"]["submission"]), "outgoing.security": "starttls",
            "tls.ca_file": info["ca_file"], "incoming.enabled": "true", "incoming.protocol": "imap",
            "incoming.host": "localhost", "incoming.port": str(info["imap"]["imaps"]),
            "incoming.security": "implicit", "incoming.leave_on_server": "true"}


def control(info: dict[str, Any], method: str, body: dict[str, Any] | None = None) -> None:
    """Faults switched on the fake server's control endpoint (it runs as its own process)."""
    req = urllib.request.Request(f"http://localhost:{info['http']}/faults", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


class Reception:
    """Opens the next unread message every CLICK_EVERY seconds, as a receptionist reading
    through new mail: the selection change calls Inbox.mark_read on the GUI thread."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.opened = 0
        self.next_at = 0.0

    def maybe_click(self) -> None:
        if not CLICK_EVERY:
            return
        now = time.perf_counter()
        if now < self.next_at:
            return
        self.next_at = now + CLICK_EVERY
        table = self.window.inbox
        for row, (_rid, values) in enumerate(table.model_.rows):
            if values[0] == "new":
                table.selectRow(row)
                self.opened += 1
                return


WHY = "--why" in sys.argv


class CpuProbe(Probe):
    """The probe, and what the GUI thread's longest gap went to: its own CPU (thread time), a
    wait for a CPU (the run queue; None where Linux does not say) and the rest, asleep (the GIL
    or a lock). `why`: arm its watchdog at every tick."""

    def __init__(self, why: Why | None = None) -> None:
        super().__init__()
        self.why = why

    def start(self) -> None:
        super().start()
        self.cpu, self.queued = time.thread_time(), run_queue_wait()
        self.longest_cpu, self.longest_queued, self.over = 0.0, None, 0

    def tick(self) -> None:
        now, cpu, queued = time.perf_counter(), time.thread_time(), run_queue_wait()
        gap, ran = now - self.last, cpu - self.cpu
        if gap > self.longest:
            self.longest_cpu = ran
            self.longest_queued = None if queued is None or self.queued is None else queued - self.queued
        self.over += gap > TARGET
        self.cpu, self.queued = cpu, queued
        super().tick()
        if self.why is not None:
            self.why.tick()

    def stop(self) -> None:
        super().stop()
        if self.why is not None:
            self.why.stop()


# per measure: the GUI thread's CPU and run-queue wait in its longest gap, gaps over TARGET, the process's CPU share
RAN: list[tuple[float, float | None, int, float]] = []


def measure(window: MainWindow, reception: Reception, until: Callable[[], bool], limit: float = 3600) -> float:
    why = Why() if WHY else None
    probe = CpuProbe(why)
    probe.start()
    end, t0, cpu0 = time.perf_counter() + limit, time.perf_counter(), time.process_time()
    while not until() and time.perf_counter() < end:
        reception.maybe_click()
        process_events()
        time.sleep(0.001)
    process_events()
    probe.stop()
    if why is not None:
        why.report()
    RAN.append((probe.longest_cpu, probe.longest_queued, probe.over, (time.process_time() - cpu0) / (time.perf_counter() - t0)))
    return probe.longest


def one_pass(window: MainWindow, engine: App, reception: Reception, info: dict[str, Any],
             arriving: int, sending: int, first: int) -> tuple[float, dict[str, Any], float]:
    user = info["users"][0]
    box = Path(info["spool"]) / user["username"]
    for i in range(arriving):
        maildir_deliver(box, message(first + i))
    engine.outbox.add_drafts([(Draft(user["address"], "Bench", [Recipient(f"x{i}@example.com")], f"m{i}", "body"), {})
                              for i in range(sending)], datetime.now(timezone.utc))
    window.last_pass = None
    t0 = time.perf_counter()
    window.start_send_receive()
    stall = measure(window, reception, lambda: window.last_pass is not None)
    assert window.last_pass is not None
    return stall, window.last_pass, time.perf_counter() - t0


def main() -> int:
    global CLICK_EVERY
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500, help="received (and as many sent) in the fast pass")
    ap.add_argument("--slow", type=int, default=500, help="received in the pass against the slow server")
    ap.add_argument("--delay", type=float, default=1.0, help="seconds the slow server waits before each reply")
    ap.add_argument("--stored", type=int, default=300, help="messages already in the inbox (unread), to open")
    ap.add_argument("--why", action="store_true", help="print where every thread was during the GUI thread's stalls")
    ap.add_argument("--click-every", type=float, default=CLICK_EVERY,
                    help="seconds between messages opened (0: none; what the pass alone costs the GUI)")
    args = ap.parse_args()
    CLICK_EVERY = args.click_every
    app = application()  # noqa: F841 - the QApplication must live for the whole run

    def fill(spool: Path) -> None:
        for i in range(args.stored):
            maildir_deliver(spool / "practice", message(i))

    with tempfile.TemporaryDirectory() as tmp, fake_server(fill) as info:
        with Practice(Path(tmp) / "data", writer=True, command="bench") as p:
            load_demo(p)
            p.settings.set_many(settings(info))
            engine = App(p)  # the door the kiosk takes
            assert engine.engine.receive().received == args.stored  # the mail reception reads during the passes
            engine.start()
            window = MainWindow(engine)
            window.show()
            settle_heap()  # as run_kiosk does once the window shows
            share_the_gil()
            process_events()
            reception = Reception(window)
            idle_until = time.perf_counter() + 3
            baseline = measure(window, reception, lambda: time.perf_counter() >= idle_until)
            fast, fast_report, fast_s = one_pass(window, engine, reception, info, args.messages, args.messages,
                                                 args.stored)
            control(info, "POST", {"protocol": "imap", "step": "any", "action": "delay", "seconds": args.delay})
            slow, slow_report, slow_s = one_pass(window, engine, reception, info, args.slow, 0,
                                                 args.stored + args.messages)
            control(info, "DELETE")
            window.timer.stop()
            engine.stop()
    met = lambda v: "met" if v <= TARGET else "NOT met"  # noqa: E731
    print(f"kiosk receive bench: reception opens a message every {CLICK_EVERY * 1000:.0f} ms "
          f"({reception.opened} opened in all)")
    print(f"  baseline, no pass running:   longest GUI stall {baseline * 1000:6.0f} ms")
    print(f"  Send/Receive, sent {fast_report['sent']}, received {fast_report['received']} in {fast_s:5.1f} s: "
          f"longest GUI stall {fast * 1000:6.0f} ms ({fast / max(baseline, 1e-6):.1f}x baseline; "
          f"target {TARGET * 1000:.0f} ms: {met(fast)})")
    print(f"  the same, server {args.delay:g} s per reply, received {slow_report['received']} in {slow_s:5.1f} s: "
          f"longest GUI stall {slow * 1000:6.0f} ms ({slow / max(baseline, 1e-6):.1f}x baseline; "
          f"target {TARGET * 1000:.0f} ms: {met(slow)})")
    for name, (ran, queued, over, share) in zip(("baseline", "Send/Receive", "slow server"), RAN):
        waited = "" if queued is None else f", waited {queued * 1000:.0f} ms for a CPU (run queue)"
        print(f"  {name}: the GUI thread ran {ran * 1000:.0f} ms of its longest stall{waited} (the rest it slept: "
              f"for the GIL or a lock); {over} gaps over {TARGET * 1000:.0f} ms; this process used {share:.2f} CPUs")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if fast <= TARGET and slow <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
