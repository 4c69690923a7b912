"""Text from outside that Python hands back with lone surrogates (undecodable bytes kept by
surrogateescape, or a `\\udc80` escape in a provider's JSON) is stored and listed on both
backends: no store can write a lone surrogate (TinyDB's JSON file and PostgreSQL's json refuse
it and the whole write fails), so each door reads such text with `engine.core.outside`.
Through the real paths: the fake servers over real sockets, real files with undecodable names."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.adapters.clock import FakeClock
from engine.adapters.store import RID
from engine.core import incoming
from engine.service.app import App
from engine.service.demo import load_demo
from engine.service.inbox_shelf import ReceiveReport
from tests.backends import Backend
from tests.integration.helpers import configure, configure_incoming
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

T0 = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)


@pytest.fixture
def app(backend: Backend, fakemail: FakeMail) -> Iterator[App]:
    with backend.practice() as p:
        load_demo(p)
        configure(p, fakemail)
        a = App(p, FakeClock(T0))
        yield a
        a.close()


def writable(record: object) -> None:
    """Every text in a stored record can be written as UTF-8 (a lone surrogate cannot)."""
    if isinstance(record, str):
        record.encode("utf-8")
    elif isinstance(record, dict):
        for k, v in record.items():
            writable(k)
            writable(v)
    elif isinstance(record, (list, tuple)):
        for v in record:
            writable(v)


def test_a_text_reply_whose_json_holds_lone_surrogates_is_stored_and_listed(app: App, fakemail: FakeMail) -> None:
    configure_sms(app.practice, fakemail)
    # the fake provider's JSON carries these as \udc80 and \ud83d escapes, which json.loads hands back as they are
    fakemail.sms.deliver_reply("+447700900041", "Late \udc80 sorry \ud83d")
    assert app.texts.fetch_replies(app.now()).fetched == 1
    [reply] = app.texts.list_replies()
    writable(reply)
    assert reply["body"] == "Late \x80 sorry \ufffd"
    [listed] = app.inbox.list(tags=["SMS"])
    writable(listed)
    assert "Late" in app.inbox.content(listed[RID]).text


HEADERS = ("Subject", "From", "To", "Cc", "Message-ID", "In-Reply-To", "References", "Date", "Reply-To",
           "Content-Type", "Content-Disposition")


def message(header: str, value: bytes, serial: str = "") -> bytes:
    base = {"X-Serial": serial.encode(), "From": b"Evan <evan@example.org>", "To": b"desk@practice.example", "Subject": b"Hello",
            "Message-ID": b"<m1@example.org>", "Date": b"Tue, 01 Dec 2026 08:00:00 +0000"}
    base[header] = value
    head = b"".join(k.encode() + b": " + v + b"\r\n" for k, v in base.items())
    return head + b"\r\nHello \xff\xfe body in no charset at all\r\n"


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_eight_bit_headers_over_imap_and_pop3_are_stored_and_listed(app: App, fakemail: FakeMail,
                                                                    protocol: str) -> None:
    configure_incoming(app.practice, fakemail, protocol)
    user = fakemail.user()
    fakemail.deliver(user.username, message("Subject", b"R\xf6ntgen \x80\xff results"))
    fakemail.deliver(user.username, message("From", b"Dr \xc3\xb6 \xff\xfe <dr@example.org>"))
    fakemail.deliver(user.username, b"From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
                     b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; "
                     b"charset=x-unknown\r\n\r\nhi \xff\r\n--b\r\nContent-Type: application/pdf\r\n"
                     b"Content-Disposition: attachment; filename=\"X\xffray\x80.pdf\"\r\n\r\n%PDF\r\n--b--\r\n")
    report = app.send_receive_now(timeout=60)
    assert not report.get("errors"), report
    listed = app.inbox.list(show_all=True)
    assert len(listed) == 3
    writable(listed)
    subjects = {r["subject"] for r in listed}
    assert "Röntgen \x80ÿ results" in subjects
    names = {r.get("from_name") for r in listed}
    assert "Dr Ã¶ ÿþ" in names, names  # a line that is not UTF-8 is read as Latin-1 (header_text)
    files = next(r for r in listed if r["subject"] == "files")
    [attachment] = app.inbox.content(files[RID]).attachments
    attachment.filename.encode("utf-8")
    assert attachment.filename.startswith("Xÿray")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(HEADERS), value=st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b))
def test_arbitrary_bytes_in_any_header_are_stored_and_listed(app: App, header: str, value: bytes) -> None:
    """What a pass commits, its network part aside: every message is stored, and listed."""
    before = len(app.inbox.list(show_all=True))
    origin = f"test {os.urandom(6).hex()}"
    raw = message(header, value, origin)  # unique bytes: the very same bytes again are a duplicate, by design
    app.inbox.shelf.commit([("test", origin, raw)], app.now(), ReceiveReport(), app.inbox.shelf.who())
    listed = app.inbox.list(show_all=True)
    assert len(listed) == before + 1
    writable(listed)
    [mine] = [r for r in listed if r["origin"] == origin]
    writable(app.inbox.content(mine[RID]).text)
    assert app.practice.store.blobs.get(mine["blob"]) == raw


def test_a_document_whose_file_name_is_not_utf8_is_listed_attached_and_stored(app: App) -> None:
    folder = app.practice.folder / "documents" / "P001"
    folder.mkdir(parents=True)
    raw_name = b"R\xf6ntgen \xff.txt"  # a Latin-1 name copied from an old machine: os.listdir says R\udcf6ntgen
    (Path(os.fsdecode(bytes(folder))) / os.fsdecode(raw_name)).write_bytes(b"x-ray notes")
    [doc] = app.documents("P001")
    doc.name.encode("utf-8")
    assert doc.name == "Röntgen ÿ.txt"
    rid = app.composer.from_patient("P001", app.now(), subject="Your x-ray", text="Attached.",
                                    attachments=[doc.path], as_draft=True)
    [item] = app.outbox_items(lambda i: i.id == rid)
    writable(dict(item.record))
    built = incoming.content(app.practice.store.blobs.get(item.record["blob"]))  # the email as it will be sent
    assert [(a.filename, a.data) for a in built.attachments] == [("Röntgen ÿ.txt", b"x-ray notes")]
