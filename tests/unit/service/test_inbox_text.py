"""The inbox search's text stage (engine/service/inbox_text.py, issue 19 finding 8): a word only in a
message's body is found, whatever the body's encoding (on both backends); a word in no message is not; the view's
filters hold; the walk is bounded (limit, should_stop, steps) and unreadable mail never ends it."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.adapters.storage import RID
from engine.service.app import App, InboxMessage
from engine.service.inbox import Inbox
from tests.backends import Backend

NOW = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
HEAD = b"From: Ann <ann@example.org>\r\nSubject: Hello\r\nMIME-Version: 1.0\r\n"

BODIES = {
    "plain": HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\nMy left molar aches.\r\n",
    "quoted-printable": HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
    b"quoted-printable\r\n\r\nSee you at the caf=C3=A9 after the crown=\r\n-fitting.\r\n",
    "base64": HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes("Periodontal review on Tuesday".encode()) + b"\r\n",
    "html": HEAD + b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html; "
    b"charset=utf-8\r\n\r\n<html><style>.hidden{}</style><p>Bring your <b>x-ray</b> &amp; "
    b"r&eacute;sum&eacute;</p></html>\r\n--XX--\r\n",
    "koi8-r": HEAD + "Content-Type: text/plain; charset=koi8-r\r\n\r\nЗдравствуйте, пломба выпала\r\n"
    .encode("koi8-r"),
}
WORDS = {"plain": "MOLAR", "quoted-printable": "café crown-fitting", "base64": "periodontal",
         "html": "x-ray résumé", "koi8-r": "ПЛОМБА"}


def store(inbox: Inbox, raw: bytes | None, subject: str = "Hello", **fields: Any) -> int:
    sha = inbox.store.blobs.put(raw) if raw is not None else "f" * 64  # None: a blob that is not there
    m = InboxMessage(from_address="ann@example.org", from_name="Ann", subject=subject, received=NOW.isoformat(),
                     blob=sha, size=len(raw or b""), source="test", origin="test", **fields)
    return inbox.messages.insert_many([m.record()])[0]


@pytest.fixture
def inbox(backend: Backend) -> Any:
    with backend.practice() as p:  # TinyDB and PostgreSQL: iter_newest walks both in steps
        yield Inbox.for_practice(p)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_a_word_only_in_the_body_is_found(inbox: Inbox, kind: str) -> None:
    rid = store(inbox, BODIES[kind])
    store(inbox, HEAD + b"Content-Type: text/plain\r\n\r\nnothing here\r\n")
    assert inbox.list(search=WORDS[kind], show_all=True) == []  # the fast search: headers only
    assert [r[RID] for r in inbox.text_search(WORDS[kind], show_all=True).results()] == [rid]


def test_a_word_in_no_message_is_not_found_and_every_message_is_looked_in(inbox: Inbox) -> None:
    for raw in BODIES.values():
        store(inbox, raw)
    walk = inbox.text_search("amalgam", show_all=True)
    assert list(walk.results()) == []
    assert (walk.searched, walk.done) == (len(BODIES), True)


def test_words_may_be_split_between_the_headers_and_the_text(inbox: Inbox) -> None:
    rid = store(inbox, BODIES["plain"], subject="Toothache")
    store(inbox, BODIES["plain"], subject="Other")
    assert [r[RID] for r in inbox.text_search("toothache molar", show_all=True).results()] == [rid]


def test_unreadable_mail_never_stops_the_walk(inbox: Inbox) -> None:
    older = store(inbox, BODIES["plain"])
    store(inbox, None)  # its blob is missing
    store(inbox, b"\xff\xfe\x00" * 5000 + b"\r\n\r\n\x00molar?")  # no headers, NULs, not UTF-8
    store(inbox, HEAD + b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
          b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xff\r\n")
    store(inbox, HEAD + b"Content-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\n")
    walk = inbox.text_search("molar", show_all=True)
    found = [r[RID] for r in walk.results()]
    assert found[-1] == older and walk.searched == 5 and walk.done


def test_the_views_filters_hold(inbox: Inbox) -> None:
    kept = store(inbox, BODIES["plain"], tags=("Patient",))
    store(inbox, BODIES["plain"], deleted=True)
    store(inbox, BODIES["plain"], tags=("Bounce",))
    assert [r[RID] for r in inbox.text_search("molar", tags=["Patient"]).results()] == [kept]
    assert len(list(inbox.text_search("molar", deleted=True).results())) == 1
    assert len(list(inbox.text_search("molar", show_all=True).results())) == 2  # not the deleted one


def test_bounded_by_limit_stop_and_steps(inbox: Inbox) -> None:
    rids = [store(inbox, BODIES["plain"]) for _ in range(7)]
    assert [r[RID] for r in inbox.text_search("molar", limit=2, show_all=True).results()] == rids[::-1][:2]
    walk = inbox.text_search("molar", show_all=True)
    stopped = list(walk.results(lambda: walk.searched >= 3))
    assert len(stopped) == 3 and not walk.done
    step = walk.step(2)
    assert ([r[RID] for r in step.found], step.searched, step.done) == ([rids[3], rids[2]], 5, False)
    last = walk.step(100)
    assert (len(last.found), last.searched, last.done) == (2, 7, True)
    assert walk.step(5).found == ()
    again = inbox.text_search("molar", show_all=True)
    again.stop()
    assert list(again.results()) == [] and again.searched == 0


def test_the_door_gives_inbox_messages(tmp_path: Path) -> None:
    with App.open(tmp_path / "data", command="test") as app:
        rid = store(app.inbox, BODIES["koi8-r"])
        step = app.inbox_text_search("пломба", show_all=True).step(10)
        assert [(type(m), m.id) for m in step.found] == [(InboxMessage, rid)] and step.done
