"""Read the next items from a mail server while the last ones are being stored.

Intake alternates network waits (the server preparing a FETCH or RETR, TLS
reads) with our own work (parsing headers, fsyncing blobs, writing records).
Run in sequence they add up; with the reading on a helper thread they overlap,
because socket reads and fsync release the GIL. The queue is short (`depth`
items), so at most that much is held in memory beyond what is being stored,
and acknowledge-after-commit is untouched: the caller still acknowledges only
what it has committed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class ReadAhead(Generic[T]):
    """Iterate `source` on a helper thread, `depth` items ahead of the consumer.

    Use as a context manager: leaving it (normally or by an exception) tells the
    reader to stop and waits for it, so the connection it uses is free again.
    An exception raised by the source is raised again in the consumer, in order.
    """

    def __init__(self, source: Iterator[T], depth: int = 2, name: str = "read-ahead",
                 abandon: Callable[[], None] | None = None) -> None:
        """`abandon` is called when the consumer leaves on an exception, before waiting for the
        reader: it should cut the connection (a reader blocked on a slow server would otherwise
        hold the consumer's error back until the socket timeout)."""
        self._source = source
        self._abandon = abandon
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(_Failed(exc))
            return
        self._put(_DONE)

    def __enter__(self) -> "ReadAhead[T]":
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._stop.set()
        if exc_type is not None and self._abandon is not None and self._thread.is_alive():
            self._abandon()
        self._thread.join()
