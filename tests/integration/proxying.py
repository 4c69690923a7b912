"""A real proxy from the package index (pproxy: HTTP CONNECT and SOCKS5, with or without a
login), run as its own process on a free local port, for the tests that go through one. Its
own log is the witness that a connection went through it."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.ports import closed_port

__all__ = ["RunningProxy", "closed_port", "pproxy", "serving_port"]


def serving_port(first: str) -> int:
    """The port pproxy says it bound ("Serving on ipv4 127.0.0.1:40123 by socks5"). It is asked
    for port 0, so the kernel picks one nobody holds; a failed start says "Serving on" too, with
    the asked address, and "Start server failed." on the next line: that has no port here."""
    found = re.search(r"Serving on \S* ?127\.0\.0\.1:([1-9][0-9]*) by", first)
    assert found, f"pproxy did not start: {first!r}"
    return int(found.group(1))


@dataclass
class RunningProxy:
    port: int
    lines: "queue.Queue[str]"
    seen: list[str]

    def went_to(self, target_port: int) -> bool:
        """Whether the proxy's log names a connection onwards to `target_port` (waits for the
        line that says so, for at most 10 s: a guard against a hang, not a wait for the engine)."""
        while not any(f":{target_port}" in line for line in self.seen):
            try:
                self.seen.append(self.lines.get(timeout=10))
            except queue.Empty:
                return False
        return True


# pproxy run with a hosts table of its own: its process's name lookups see `hosts` first (as a
# proxy host's /etc/hosts or its DNS would), ours never do. Only the proxy can then reach a
# server by such a name, so a client that looks the name up itself fails.
_WITH_HOSTS = """
import json, runpy, socket, sys
hosts = json.loads(sys.argv.pop(1))
lookup = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    return lookup(hosts.get(name, host), *args, **kwargs)
socket.getaddrinfo = getaddrinfo
sys.argv[0] = "pproxy"
runpy.run_module("pproxy", run_name="__main__", alter_sys=True)
"""


@contextmanager
def pproxy(scheme: str, auth: str = "", hosts: dict[str, str] | None = None) -> Iterator[RunningProxy]:
    """pproxy listening on 127.0.0.1 (scheme http or socks5; auth "user:password" or none;
    `hosts`: names only the proxy can look up, each to its address).
    The login goes to it on its command line: a test's throwaway password, never the engine's."""
    listen = f"{scheme}://127.0.0.1:0" + (f"#{auth}" if auth else "")  # never a port chosen beforehand
    start = ["-c", _WITH_HOSTS, json.dumps(hosts)] if hosts else ["-m", "pproxy"]
    # --auth 0: ask every connection for the login (by default pproxy trusts an address that
    # logged in once for 30 days, and a wrong password would then pass)
    proc = subprocess.Popen([sys.executable, *start, "-l", listen, "-v", "--auth", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    try:
        assert proc.stdout is not None
        port = serving_port(proc.stdout.readline())  # "Serving on ...": ready, no sleeping
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        yield RunningProxy(port, lines, [])
    finally:
        proc.terminate()
        proc.wait(10)
