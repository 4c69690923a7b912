"""Why the GUI thread stalled (tools/bench/kiosk_receive.py --why): what its time went to, and
where every thread was while it waited.

A stall's time is the GUI thread's own CPU (thread time), its wait for a CPU (the run queue,
Linux schedstat: the machine's other work, the fake server included) and the rest, asleep: for
the GIL or a lock.

The stacks come from faulthandler's watchdog, a C thread that needs no GIL: whenever the GUI
thread has not ticked for AFTER seconds it writes every Python thread's stack to a file. A
sampler written in Python cannot do this: while another thread holds the GIL it cannot run
either, and once it can, the holder has let go (the watcher this replaced printed nothing for
the other threads during the stalls it was meant to explain).

A full garbage collection (generation 2) is one such hold that no stack names: it runs in the
thread whose allocation tripped it, from whatever line that was, and visits every tracked
object of the process. Each is timed here (gc.callbacks) with its thread.
"""

from __future__ import annotations

import collections
import faulthandler
import gc
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SCHEDSTAT = Path("/proc/thread-self/schedstat")


def run_queue_wait() -> float | None:
    """Seconds the calling thread has waited for a CPU so far (None where Linux does not say)."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def parse(text: str) -> list[dict[int, list[str]]]:
    """faulthandler's dumps: per dump, each thread's frames, innermost first ("file:line name")."""
    dumps: list[dict[int, list[str]]] = []
    frames: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("Timeout ("):
            dumps.append({})
            frames = None
        elif (head := re.match(r"(?:Current thread|Thread) (0x[0-9a-f]+)", line)) and dumps:
            frames = dumps[-1].setdefault(int(head.group(1), 16), [])
        elif (where := re.match(r'\s+File "(.*)", line (\d+) in (.*)', line)) and frames is not None:
            frames.append(f"{Path(where.group(1)).name}:{where.group(2)} {where.group(3)}")
    return dumps


class Why:
    """Arms the watchdog from the GUI thread's tick; `report` prints the most frequent places."""

    AFTER = 0.03

    def __init__(self) -> None:
        self.gui = threading.get_ident()
        self.file = tempfile.TemporaryFile("w+")
        self.collections: list[tuple[float, str]] = []  # full collections: seconds, thread
        self._began = 0.0
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.collections.append((time.perf_counter() - self._began, threading.current_thread().name))

    def tick(self) -> None:
        faulthandler.dump_traceback_later(self.AFTER, file=self.file)

    def stop(self) -> None:
        faulthandler.cancel_dump_traceback_later()

    def report(self) -> None:
        self.stop()
        gc.callbacks.remove(self._collected)
        self.file.seek(0)
        dumps = parse(self.file.read())
        self.file.close()
        names = {t.ident: t.name for t in threading.enumerate()}
        gui: collections.Counter[str] = collections.Counter()
        others: collections.Counter[str] = collections.Counter()
        for dump in dumps:
            for ident, frames in dump.items():
                if ident == self.gui:
                    gui[" <- ".join(frames[:5])] += 1
                else:
                    others[f"[{names.get(ident, hex(ident))}] " + (" <- ".join(frames[:4]) or "(no Python frame)")] += 1
        print(f"    {len(dumps)} stalls over {self.AFTER * 1000:.0f} ms; where the GUI thread was, in how many:")
        for place, n in gui.most_common(6):
            print(f"    {n:5d}  {place}")
        print("    the other threads at that moment (one of them holds the GIL or the lock, or none does and "
              "the GUI thread waits for a CPU):")
        for place, n in others.most_common(10):
            print(f"    {n:5d}  {place}")
        longest = max(self.collections, default=(0.0, ""))
        print(f"    full garbage collections: {len(self.collections)}"
              + (f", the longest {longest[0] * 1000:.0f} ms on [{longest[1]}] (the GIL held throughout)"
                 if self.collections else ""))
