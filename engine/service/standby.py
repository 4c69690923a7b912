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
from typing import TextIO

POLL_SECONDS = 5.0


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
