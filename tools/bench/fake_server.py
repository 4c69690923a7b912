"""The fake mail servers as their own process, for the benchmarks.

A real mail server is another machine: in the same process the bench client would share a
GIL with the server it measures, and on one disk our fsyncs would also flush its files. So
the server runs as `practicemail fakemail` with its spool on tmpfs where there is one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def fake_server(before_start: Callable[[Path], None] | None = None) -> Iterator[dict[str, Any]]:
    """Yields the server's JSON (ports, CA file, users, spool). `before_start(spool)` may fill
    mailboxes first (a Maildir the server then finds as it is)."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        spool = Path(tmp) / "spool"
        if before_start is not None:
            before_start(spool)
        server = subprocess.Popen([sys.executable, "-m", "engine", "fakemail", "--json", "--spool", str(spool)],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            assert server.stdout is not None
            yield {**json.loads(server.stdout.readline()), "pid": server.pid}
        finally:
            server.terminate()
            server.wait(10)
