"""An httpx transport whose connections another thread can cut: the service's stop (and the
SMS provider's call waiting up to its 20 s timeout for an answer that never comes).

Closing a socket from another thread does not wake a read blocked on it (Linux); shutting it
down does (engine/adapters/connection.py `cut`, as the SMTP session's abort). httpx does not hand
out its sockets, so the transport's connection pool gets a network backend that keeps a handle on
each connection it makes (a duplicate of the socket, owned here until the connection closes: a
shutdown through it ends the connection itself, also mid-TLS-handshake or through a proxy, and
its number is never another file's). `cut()` shuts down every open one; the call blocked on it
fails at once with a transport error, which the caller turns into its own engine error.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpcore
import httpx

from engine.adapters.connection import cut


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, owner: Cuttable, handle: socket.socket | None) -> None:
        self._inner, self._owner, self._handle = inner, owner, handle
        owner.opened(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._owner.closed(self)
        try:
            self._inner.close()
        finally:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, timeout)
        except BaseException:
            self.close()
            raise
        handle, self._handle = self._handle, None  # the same connection: its handle moves on
        self._owner.closed(self)
        return _Stream(inner, self._owner, handle)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def cut(self) -> None:
        cut(self._handle)


class Cuttable(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner
        self._open: set[_Stream] = set()
        self._lock = threading.Lock()
        self.cuts = 0  # how often cut() ran: a caller tells a cut from a server's failure by it

    def _wrap(self, stream: httpcore.NetworkStream) -> _Stream:
        sock = stream.get_extra_info("socket")
        return _Stream(stream, self, sock.dup() if isinstance(sock, socket.socket) else None)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return self._wrap(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return self._wrap(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def opened(self, stream: _Stream) -> None:
        with self._lock:
            self._open.add(stream)

    def closed(self, stream: _Stream) -> None:
        with self._lock:
            self._open.discard(stream)

    def cut(self) -> None:
        """From any thread: every open connection shut down (a call blocked on one fails now)."""
        with self._lock:
            self.cuts += 1
            streams = list(self._open)
        for stream in streams:
            stream.cut()


def cuttable_transport(**kw: Any) -> tuple[httpx.HTTPTransport, Cuttable | None]:
    """httpx's own transport (`kw` as HTTPTransport takes them) with a cuttable backend under its
    pool; None as the backend if this httpcore keeps it elsewhere (then nothing is cut, and the
    call ends at its timeout: tests/integration/test_stop_cuts_sms.py fails on such a version)."""
    transport = httpx.HTTPTransport(**kw)
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if not isinstance(inner, httpcore.NetworkBackend):
        return transport, None
    backend = Cuttable(inner)
    pool._network_backend = backend  # type: ignore[union-attr]  # read at each new connection
    return transport, backend
