"""POP3 multi-line answers read in blocks: the same bytes poplib's line reader gives, and
never a byte of the answer after it."""

from __future__ import annotations

import io

from hypothesis import given, strategies as st

from engine.adapters.wire import read_multiline

_line = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")) | st.sampled_from(
    [b".", b"..", b"...", b".x", b"", b" ."])


def _stuffed(lines: list[bytes]) -> bytes:
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


@given(st.lists(_line, max_size=40), st.integers(min_value=1, max_value=64), st.binary(max_size=20))
def test_block_reading_undoes_dot_stuffing_and_stops_at_the_end(lines: list[bytes], buffer: int,
                                                                following: bytes) -> None:
    f = io.BufferedReader(io.BytesIO(_stuffed(lines) + b"+OK next\r\n" + following), buffer_size=buffer)
    assert read_multiline(f) == b"".join(ln + b"\r\n" for ln in lines)
    assert f.read() == b"+OK next\r\n" + following  # the pipelined answer after it is untouched


def test_an_answer_cut_off_gives_none() -> None:
    f = io.BufferedReader(io.BytesIO(b"Subject: half\r\nand then noth"), buffer_size=8)
    assert read_multiline(f) is None


@given(st.lists(st.integers(min_value=0, max_value=100), max_size=60), st.integers(1, 10), st.integers(1, 300))
def test_fetches_are_cut_by_count_and_bytes_and_keep_every_uid_in_order(sizes: list[int], most: int,
                                                                        most_bytes: int) -> None:
    from engine.adapters.imap import plan_fetches

    uids = list(range(1, len(sizes) + 1))
    runs = plan_fetches(uids, dict(zip(uids, sizes)), most, most_bytes)
    assert [u for run in runs for u in run] == uids
    for run in runs:
        assert 1 <= len(run) <= most
        assert len(run) == 1 or sum(sizes[u - 1] for u in run) <= most_bytes
