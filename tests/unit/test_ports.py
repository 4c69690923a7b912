"""The tests' "nothing listens there" port (tests/ports.py) stays that way while a test uses it:
under -n 2 the other worker's fake servers bind port 0 all the time, and one that took the port
made a proxy test reach a plain-text server ("wrong version number" instead of "not reached")."""

from __future__ import annotations

import socket

import pytest

from tests.ports import closed_port


def test_nobody_can_listen_on_a_closed_port_while_it_is_held() -> None:
    with closed_port() as port:
        with socket.socket() as other, pytest.raises(OSError):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers do
            other.bind(("127.0.0.1", port))
            other.listen()
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
