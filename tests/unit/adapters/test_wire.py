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


# -- everything a server can send, read without a socket (engine/adapters/wire.py) ----------
import poplib  # noqa: E402

import pytest  # noqa: E402
from hypothesis import example  # noqa: E402

from engine.adapters import wire  # noqa: E402
from engine.errors import AuthenticationRefused, MailServerError, ServerRejected  # noqa: E402

_uids = st.lists(st.integers(min_value=1, max_value=2**32 - 1), unique=True, max_size=12)
_bodies = st.binary(max_size=200)


@given(_uids, st.data())
def test_a_fetch_answer_of_the_usual_shape_reads_back_every_body(uids: list[int], data: st.DataObject) -> None:
    bodies = {uid: data.draw(_bodies) for uid in uids}
    answer: list[object] = []
    for seq, (uid, body) in enumerate(bodies.items(), 1):
        answer += [(b"%d (UID %d BODY[] {%d}" % (seq, uid, len(body)), body), b")"]
    assert wire.fetch_bodies(answer) == bodies


@given(_uids, st.data())
def test_a_fetch_answer_of_another_shape_reads_back_the_same_through_imapclients_parser(
        uids: list[int], data: st.DataObject) -> None:
    bodies = {uid: data.draw(_bodies) for uid in uids}
    answer: list[object] = []
    for seq, (uid, body) in enumerate(bodies.items(), 1):  # FLAGS first, UID after the literal
        answer += [(b"%d (FLAGS (\\Seen) BODY[] {%d}" % (seq, len(body)), body), b" UID %d)" % uid]
    assert wire.fetch_bodies(answer) == bodies


def test_a_body_without_its_uid_is_not_taken_for_the_uid_of_its_sequence_number() -> None:
    # imapclient keys such an answer by the sequence number, which may well be another
    # message's UID: that message would be stored with this one's bytes
    assert wire.fetch_bodies([(b"1 (FLAGS () BODY[] {5}", b"hello"), b")"]) == {}
    assert wire.fetch_bodies([b"1 (FLAGS () BODY[] NIL UID 7)"]) == {}


def test_a_body_that_is_a_number_is_not_read_as_that_many_zero_bytes() -> None:
    assert wire.fetch_bodies([b"1 (FLAGS () UID 4 BODY[] 3)"]) == {}  # bytes(3) was b"\0\0\0"


_fetch_words = st.sampled_from([b"1", b"2 ", b"(", b")", b"UID", b" UID 5", b"BODY[]", b" {3}", b"{x}", b"NIL",
                                b'"q', b"\\Seen", b"FLAGS (", b"RFC822.SIZE 9", b"ENVELOPE (", b"INTERNALDATE \"x\"",
                                b"BODYSTRUCTURE (", b" ", b"\x00", b"\xff"])
_fetch_line = st.lists(_fetch_words, max_size=8).map(b"".join) | st.binary(max_size=40)
_fetch_item = _fetch_line | st.tuples(_fetch_line, st.binary(max_size=10)) | st.none()


@given(st.lists(_fetch_item, max_size=6))
@example([(b"1 (UID 5 BODY[] {3}", b"abc"), b" ENVELOPE (x)"])
@example([b"1 (INTERNALDATE \"not a date\" UID 3)"])
def test_any_fetch_answer_gives_bodies_or_an_engine_error(answer: list[object]) -> None:
    try:
        out = wire.fetch_bodies(answer)
    except MailServerError:
        return
    assert all(isinstance(k, int) and isinstance(v, bytes) for k, v in out.items())


_pop_line = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")) | st.sampled_from(
    [b".", b"..", b".x", b""])


@given(st.lists(_pop_line, max_size=30), st.sampled_from([b"\r\n", b"\n"]), st.integers(1, 64), st.binary(max_size=20))
def test_a_multiline_answer_reads_back_its_lines_with_either_line_ending(
        lines: list[bytes], ending: bytes, buffer: int, following: bytes) -> None:
    stuffed = b"".join((b"." + ln if ln.startswith(b".") else ln) + ending for ln in lines)
    raw = b"+OK here" + ending + stuffed + b"." + ending + b"+OK next\r\n" + following
    f = io.BufferedReader(io.BytesIO(raw), buffer_size=buffer)
    assert wire.read_long_answer(f) == b"".join(ln + b"\r\n" for ln in lines)
    assert f.read() == b"+OK next\r\n" + following


@given(st.binary(max_size=200), st.integers(1, 64))
@example(b"+OK\n" + b"x" * 50 + b"\n.\n", 8)
@example(b"-ERR [IN-USE] busy\r\n", 64)
def test_any_pop3_bytes_give_an_answer_or_an_engine_error(raw: bytes, buffer: int) -> None:
    f = io.BufferedReader(io.BytesIO(raw), buffer_size=buffer)
    try:
        assert isinstance(wire.read_long_answer(f, limit=40), bytes)
    except MailServerError:
        pass
    f = io.BufferedReader(io.BytesIO(raw), buffer_size=buffer)
    try:
        wire.uidl_one(wire.read_status(f))
    except MailServerError:
        pass


def test_a_line_or_answer_over_the_bound_is_refused_not_read_without_end() -> None:
    with pytest.raises(ServerRejected):
        wire.read_long_answer(io.BufferedReader(io.BytesIO(b"+OK\r\n" + b"x" * 100 + b"\r\n.\r\n")), limit=50)
    with pytest.raises(ServerRejected):
        wire.read_long_answer(io.BufferedReader(io.BytesIO(b"+OK\n" + b"x\n" * 100 + b".\n")), limit=50)


@pytest.mark.parametrize("status, kind, words", [
    (b"-ERR [AUTH] bad password\r\n", AuthenticationRefused, "refused the login"),
    (b"-ERR [IN-USE] another session\r\n", ServerRejected, "in use by another program"),
    (b"-ERR no such message\r\n", ServerRejected, "said: -ERR no such message"),
    (b"", ServerRejected, "-ERR EOF"),
])
def test_a_refusal_is_the_error_a_person_can_act_on(status: bytes, kind: type, words: str) -> None:
    for read in (wire.read_status, wire.read_long_answer):
        with pytest.raises(kind, match=words):
            read(io.BufferedReader(io.BytesIO(status)))


_uidl = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=70)


@given(st.lists(st.tuples(st.integers(1, 10**6), _uidl), max_size=30))
def test_a_uidl_listing_reads_back(pairs: list[tuple[int, str]]) -> None:
    text = b"".join(b"%d %s\r\n" % (n, u.encode()) for n, u in pairs)
    assert wire.uidl_listing(text) == pairs
    for n, u in pairs:
        assert wire.uidl_one(b"+OK %d %s" % (n, u.encode())) == (n, u)


@given(st.binary(max_size=300))
@example(b"1 a\r\nx y\r\n2 b\r\n")
def test_any_uidl_listing_gives_pairs_and_skips_what_is_not_one(text: bytes) -> None:
    out = wire.uidl_listing(text)
    assert all(isinstance(n, int) and isinstance(u, str) for n, u in out)
    assert len(out) <= text.count(b"\r\n")


_value = st.none() | st.booleans() | st.integers(-5, 2**40) | st.binary(max_size=8) | st.text(max_size=8)


@given(st.dictionaries(st.sampled_from([b"UIDVALIDITY", b"UIDNEXT", b"EXISTS", b"FLAGS"]), _value))
def test_a_select_answer_gives_its_uidvalidity_or_is_refused(info: dict[bytes, object]) -> None:
    try:
        validity, uidnext = wire.select_state(info)
    except ServerRejected:
        assert not isinstance(info.get(b"UIDVALIDITY"), int) or isinstance(info.get(b"UIDVALIDITY"), bool)
        return
    assert isinstance(validity, int) and isinstance(uidnext, int)
    if isinstance(info.get(b"UIDVALIDITY"), int) and not isinstance(info[b"UIDVALIDITY"], bool):
        assert validity == info[b"UIDVALIDITY"]


def test_a_select_answer_without_uidvalidity_is_an_engine_error_not_a_key_error() -> None:
    with pytest.raises(ServerRejected, match="UIDVALIDITY"):
        wire.select_state({b"EXISTS": 3, b"UIDNEXT": 4})
    assert wire.select_state({b"UIDVALIDITY": 9, b"EXISTS": 3}) == (9, 0)


@given(st.dictionaries(st.integers(1, 100), st.dictionaries(st.sampled_from([b"RFC822.SIZE", b"SEQ"]), _value)))
def test_sizes_are_numbers_whatever_the_server_said(data: dict[int, dict[bytes, object]]) -> None:
    sizes = wire.sizes_of(data, 7)
    assert set(sizes) == set(data) and all(isinstance(s, int) for s in sizes.values())


def test_reading_pop3_leaves_poplibs_own_line_bound_alone_for_other_users() -> None:
    import engine.adapters.incoming  # noqa: F401 - importing the adapters used to raise it for the process

    assert poplib._MAXLINE == 2048  # noqa: SLF001
