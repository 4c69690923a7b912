"""Why the GUI thread stalled (tools/bench/kiosk_receive.py --why): what its time went to, and
where every thread was while it waited.

A stall's time is the GUI thread's own CPU (thread time), its wait for a CPU (the run queue,
Linux schedstat: the machine's other work, the fake server included) and the rest, asleep: for
the GIL or a lock.

The stacks come from a watcher thread (sys._current_frames), taken once per stall as soon as it
gets the GIL after the GUI thread is AFTER seconds late. A Python watcher cannot run while
another thread holds the GIL, so it sees the holder just after it let go (the line after a long
C call), not inside; faulthandler's watchdog, which needs no GIL, would see inside, but its dumps
of running threads crashed the bench (a segmentation fault in half the runs).

A full garbage collection (generation 2) is one such hold that no stack names: it runs in the
thread whose allocation tripped it, from whatever line that was, and visits every tracked
object of the process. Each is timed here (gc.callbacks) with its thread.
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

SCHEDSTAT = Path("/proc/thread-self/schedstat")


_open = threading.local()  # each thread's schedstat, kept open


def run_queue_wait() -> float | None:
    """Seconds the calling thread has waited for a CPU so far (None where Linux does not say).

    One pread of a file each thread keeps open: the probe calls this at every tick on the GUI
    thread, and each system call lets go of the GIL, a chance for a busy thread to take it
    (up to a switch interval to get it back). Read with Path.read_text it was five calls (open,
    fstat, ioctl, read, close): perf put them among the GUI thread's GIL waits in the bench."""
    try:
        fd = getattr(_open, "fd", None)
        if fd is None:
            fd = _open.fd = os.open(SCHEDSTAT, os.O_RDONLY)
        return int(os.pread(fd, 128, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class Why:
    """Watches the GUI thread's ticks; `report` prints the most frequent places."""

    AFTER = 0.03

    def __init__(self) -> None:
        self.gui = threading.get_ident()
        self.last = time.perf_counter()  # the GUI thread's last tick
        self.dumps: list[dict[int, list[str]]] = []  # per stall: each thread's frames, innermost first
        self.collections: list[tuple[float, str]] = []  # full collections: seconds, thread
        self._began = 0.0
        gc.callbacks.append(self._collected)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="why-watcher", daemon=True)
        self.thread.start()

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.collections.append((time.perf_counter() - self._began, threading.current_thread().name))

    def _watch(self) -> None:
        me, seen = threading.get_ident(), -1.0
        while not self.done.wait(0.002):
            last = self.last
            if time.perf_counter() - last <= self.AFTER or last == seen:
                continue
            seen = last  # one sample per stall: the first the watcher could take
            dump = {}
            for ident, frame in sys._current_frames().items():  # noqa: SLF001 - a bench's stack sampler
                if ident != me:
                    dump[ident] = [f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                   for f in reversed(traceback.extract_stack(frame)[-6:])]
            self.dumps.append(dump)

    def tick(self) -> None:
        self.last = time.perf_counter()

    def stop(self) -> None:
        self.done.set()

    def report(self) -> None:
        self.stop()
        self.thread.join()
        gc.callbacks.remove(self._collected)
        dumps = self.dumps
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
        print("    the other threads then (where the holder of the GIL or a lock got to once "
              "it let go; or none held one and the GUI thread waited for a CPU):")
        for place, n in others.most_common(10):
            print(f"    {n:5d}  {place}")
        longest = max(self.collections, default=(0.0, ""))
        print(f"    full garbage collections: {len(self.collections)}"
              + (f", the longest {longest[0] * 1000:.0f} ms on [{longest[1]}] (the GIL held throughout)"
                 if self.collections else ""))
