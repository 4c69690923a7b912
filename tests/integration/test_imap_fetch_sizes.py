"""Large messages are fetched a few at a time, by size, and arrive whole."""

from __future__ import annotations

from engine.adapters.incoming import IMPLICIT, SMALL, ImapMailbox, IncomingSettings
from engine.adapters.smtp import Password
from tools.fakemail import FakeMail


def test_fetches_are_bounded_by_bytes_and_every_message_arrives_whole(fakemail: FakeMail) -> None:
    user = fakemail.user()
    sent = []
    for i in range(12):
        size = SMALL * 3 if i % 3 == 0 else 500  # four large (300 KB) among small ones
        raw = (f"From: p{i}@example.com\r\nSubject: m{i}\r\n\r\n".encode() + b"x" * size + b"\r\n")
        fakemail.deliver("practice", raw)
        sent.append(raw)
    settings = IncomingSettings("imap", "localhost", fakemail.ports["imap"]["imaps"], IMPLICIT,
                                Password(user.username, user.password), str(fakemail.ca_file), 10)
    with ImapMailbox(settings) as box:
        box.fetch_bytes = SMALL * 4  # so that two large ones never share a FETCH
        uids = box.uids_after(0)
        sizes = box.sizes(uids)
        runs = list(box.fetch_chunks(uids))
    assert sorted(u for u, s in sizes.items() if s > SMALL) == [uids[i] for i in (0, 3, 6, 9)]
    assert [raw for run in runs for _, raw in run] == sent
    for run in runs:
        assert sum(1 for _, raw in run if len(raw) > SMALL) <= 1
