"""Reception's changes to a received message from another desk (issue 21): read, unread, tags,
actioned, filed, deleted and restored are done by the desk's own Inbox in one row-locked
transaction (not asked of the service), so they work while the service runs and while it is
stopped, lose nothing against the service's own changes to the same message, and the desk still
cannot add or remove a message. Real PostgreSQL, real fake servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.adapters.storage import ReadOnlyStore
from engine.errors import ReadOnly
from engine.service.app import App
from tests.integration.test_desk_commands import desk_folder, set_up
from tests.integration.test_several_desks import wait_for
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def received(tmp_path: Path, pg_url: str, fakemail: FakeMail) -> Iterator[tuple[App, App, int]]:
    """The service (started, one message received) and another desk; the message's id."""
    set_up(tmp_path / "server", pg_url, fakemail)
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: Moving my visit\r\n"
                                 b"Message-ID: <m1@p.example>\r\n\r\nCan we move it?\r\n")
    with App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url) as service:
        service.start()
        service.send_receive_now()
        (message,) = service.inbox_messages(show_all=True)
        assert message.id is not None
        with App.open_desk(desk_folder(tmp_path / "server", tmp_path / "desk"), database=pg_url) as desk:
            assert desk.on_another_desk
            yield service, desk, message.id


def test_a_desk_reads_tags_files_actions_deletes_and_restores_a_message_while_the_service_runs(
        received: tuple[App, App, int]) -> None:
    service, desk, rid = received
    desk.mark_read(rid)
    assert service.inbox_message(rid).read
    desk.mark_read(rid, False)
    assert not service.inbox_message(rid).read
    desk.set_tags(rid, ["Insurance", "Urgent"])
    assert service.inbox_message(rid).tags == ("Insurance", "Urgent")
    filed = desk.file_message(rid, patient_id="P001")
    assert filed.patient_id == "P001" and service.inbox_message(rid).patient_id == "P001"
    desk.set_actioned(rid)
    assert service.inbox_message(rid).actioned
    desk.delete_message(rid)
    assert service.inbox_message(rid).deleted and [m.id for m in service.inbox_messages(deleted=True)] == [rid]
    desk.restore_message(rid)
    assert not service.inbox_message(rid).deleted
    events = [e["event"] for e in service.inbox_message(rid).timeline]
    assert events[-7:] == ["read", "unread", "tagged", "filed", "actioned", "deleted", "restored"], events


def test_a_desk_s_changes_and_the_service_s_to_one_message_at_once_lose_nothing(
        received: tuple[App, App, int]) -> None:
    """Each change writes the whole record back: without the row lock one side's change (and its
    timeline line) would be overwritten by the other's. The timeline keeps every line."""
    service, desk, rid = received
    before = len(service.inbox_message(rid).timeline)
    rounds = 40
    failures: list[BaseException] = []

    def run(fn) -> None:  # noqa: ANN001 - one side's change
        try:
            for i in range(rounds):
                fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    sides = [threading.Thread(target=run, args=(lambda i: desk.mark_read(rid, i % 2 == 0),)),
             threading.Thread(target=run, args=(lambda i: service.set_actioned(rid, i % 2 == 0),))]
    for t in sides:
        t.start()
    for t in sides:
        t.join(timeout=60)
    assert not failures, failures
    timeline = service.inbox_message(rid).timeline
    assert len(timeline) - before == 2 * rounds
    assert sum(e["event"] in ("read", "unread") for e in timeline[before:]) == rounds


def test_a_desk_changes_a_message_while_no_service_runs(tmp_path: Path, pg_url: str, fakemail: FakeMail) -> None:
    set_up(tmp_path / "server", pg_url, fakemail)
    fakemail.deliver("practice", b"From: pat@example.com\r\nSubject: Hello\r\nMessage-ID: <m2@p.example>\r\n\r\nx\r\n")
    with App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url) as service:
        service.send_receive_now()
        (message,) = service.inbox_messages(show_all=True)
    with App.open(desk_folder(tmp_path / "server", tmp_path / "desk"), writer=False, command="desk",
                  database=pg_url) as desk:
        assert desk.on_another_desk and not desk.practice.store.commands().service_runs()
        assert message.id is not None
        desk.set_tags(message.id, ["Later"])
        assert desk.inbox_message(message.id).tags == ("Later",)


def test_a_desk_may_change_a_message_but_never_add_or_remove_one(received: tuple[App, App, int]) -> None:
    service, desk, rid = received
    with pytest.raises(ReadOnlyStore):
        desk.inbox.messages.insert({"subject": "forged"})
    with pytest.raises(ReadOnlyStore):
        desk.inbox.messages.remove(rid)
    with pytest.raises(ReadOnlyStore):
        desk.outbox.store.collection("outbox").update(1, {"status": "sent"})
    with pytest.raises(ReadOnly):  # a reply queues an outbox item: still the service's
        desk.reply(rid, "Yes")
    assert [m.id for m in service.inbox_messages(show_all=True)] == [rid]


def test_the_desk_that_runs_the_service_hears_another_desk_s_change_at_once(received: tuple[App, App, int]) -> None:
    service, desk, rid = received
    heard: list[tuple[str, dict]] = []
    service.watch_poll = 3600.0  # no poll in this test's life: only the notice can tell it
    service.subscribe(lambda name, detail: heard.append((name, detail)))
    assert service.hearing(10.0)
    desk.mark_read(rid)
    wait_for(lambda: ("new_mail", {"notice": "messages"}) in heard, "the desk's change heard by the service's desk",
             timeout=30)


@pytest.mark.parametrize("who", ["another desk", "the service's desk"])
def test_a_desk_does_not_hear_its_own_change_back_but_hears_the_other_desk_s(received: tuple[App, App, int],
                                                                             who: str) -> None:
    """A desk's own change to a message came back to it as the database's notice, and its kiosk
    read the inbox again for what it had just done itself (#21). The desk changes the message,
    then the other desk does: notices reach a listener in the order their transactions committed,
    so once the other's is heard, the desk's own would have been heard before it. Exactly one
    messages notice: the other's."""
    service, desk, rid = received
    me, other = (desk, service) if who == "another desk" else (service, desk)
    heard: list[str | None] = []
    me.watch_poll = 3600.0  # no poll in this test's life: only notices
    me.subscribe(lambda name, detail: heard.append(detail["notice"]) if "notice" in detail else None)
    assert me.hearing(10.0)
    me.mark_read(rid)
    me.set_tags(rid, ["Mine"])
    other.set_tags(rid, ["Theirs"])
    wait_for(lambda: "messages" in heard, "the other desk's change heard", timeout=30)
    assert [n for n in heard if n != "outbox" and n != "heartbeat"] == ["messages"]
    assert me.inbox_message(rid).tags == ("Theirs",)
