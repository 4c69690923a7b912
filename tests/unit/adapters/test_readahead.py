"""Reading ahead on a helper thread: same items, same order, errors where they happened."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from engine.adapters.readahead import ReadAhead


def test_items_arrive_in_order_and_the_reader_stays_within_its_depth() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(50):
            produced.append(i)
            yield i

    got = []
    with ReadAhead(source(), depth=3) as ahead:
        for item in ahead:
            got.append(item)
            # the reader may hold `depth` in the queue plus the one it is putting
            assert len(produced) - len(got) <= 4
    assert got == list(range(50))


def test_a_source_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionResetError("dropped mid-fetch")

    got = []
    with pytest.raises(ConnectionResetError, match="mid-fetch"):
        with ReadAhead(source()) as ahead:
            for item in ahead:
                got.append(item)
    assert got == [1, 2]


def test_a_consumer_error_abandons_the_reader_and_waits_for_it() -> None:
    blocked = threading.Event()
    release = threading.Event()
    abandoned: list[bool] = []

    def source() -> Iterator[int]:
        yield 1
        blocked.set()
        release.wait(10)  # a server that does not answer, until the connection is cut
        raise ConnectionAbortedError("cut")

    def abandon() -> None:
        abandoned.append(True)
        release.set()

    reader: ReadAhead[int] = ReadAhead(source(), abandon=abandon)
    with pytest.raises(OSError, match="disk full"):
        with reader as ahead:
            for _ in ahead:
                blocked.wait(10)
                raise OSError("disk full")
    assert abandoned == [True] and not reader._thread.is_alive()
