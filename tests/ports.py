"""A local port where nothing answers, for the tests of "the server (or proxy) is not there".

Binding port 0, reading the number and closing the socket again leaves a port anyone may take
before the test connects: under `-n 2` the other worker's fake servers bind port 0 all the time,
and a proxy told to reach such a port then reached a plain-text server, the client's TLS read
"* OK ..." ("wrong version number", not "could not be reached"). So the port stays bound to a
socket of ours that never listens: a connection to it is refused, and nobody else can bind it
(without SO_REUSEADDR on ours, not even a listener that sets it) until the block ends."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def closed_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])
