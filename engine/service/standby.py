"""A standby `serve`: waits while another machine's service holds the writer's lock, and takes
over when that service stops or dies.

Why a poll every few seconds and not a blocking pg_advisory_lock: a blocked call cannot be told to
stop by SIGTERM (systemd's stop), a poll can, between two tries. The holder's session ends when
its process dies (the kernel closes the socket) or, for a machine that vanished, after the
server's keepalive probes (engine/adapters/postgres/store.py): the standby's next try then wins,
well within a minute.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

POLL_SECONDS = 5.0
WATCH_SECONDS = 2.0  # how often the active service checks that it still holds the lock


WAKE_SECONDS = 0.5  # the longest the main thread sleeps while the service runs (its signal handlers run then)


class Standby:
    """The `wait` a writer's Practice is opened with (see PgStore.open): says once, on `say`, who
    holds the lock, then waits POLL_SECONDS per try until `stop` is set."""

    def __init__(self, poll: float = POLL_SECONDS, say: TextIO | None = None) -> None:
        self.poll = poll
        self.stop = threading.Event()
        self.waited = False
        self._say = say

    def __call__(self, holder: str) -> bool:
        if not self.waited:
            self.waited = True
            print(f"standby: the service runs on {holder}; taking over when it stops",
                  file=self._say or sys.stderr, flush=True)
        return not self.stop.wait(self.poll)

    def watch(self, store: Any, every: float = WATCH_SECONDS) -> bool:
        """While the service runs: True when told to stop; False as soon as the store says its
        writer's lock is gone (PgStore.lock_held), so the service stops before a standby that now
        holds the lock sends the same items. A store without the method (TinyDB: a lock of the
        kernel's, lost only with the process) is simply waited on."""
        held = getattr(store, "lock_held", None)
        # never an endless wait: SIGTERM may be taken by another of the process's threads (the
        # engine's, the journal's syncer), and then only a main thread that wakes runs its handler
        while not self.stop.wait(every if held is not None else WAKE_SECONDS):
            if held is not None and not held():
                return False
        return True
