"""Prompt-before-send at every desk (#19 item 4 with issue 21): a headless service (an App in this
process on connections of its own, its worker on the fake clock) and desks on other "computers"
(reader Apps on the same PostgreSQL schema). The worker marks a confirmation asked as it falls
due; each desk that answers prompts hears it by the database's notice and is asked; an answer
(or Undo) goes to the service as a desk command; the first answer wins. The fake SMTP server's
records are the witness of what went. Before: other desks were never asked ("the desk that runs
the email service is asked, not this one") and their answer was refused as read-only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.adapters.clock import FakeClock
from engine.errors import PracticeMailError, ServiceCommandFailed, ServiceUnavailable
from engine.service.app import App
from tests.integration.test_desk_commands import desk_folder, set_up
from tests.integration.test_several_desks import wait_for
from tools.fakemail import FakeMail

pytestmark = pytest.mark.timeout(120)
START = datetime(2026, 12, 1, 10, 37, tzinfo=timezone.utc)  # a Tuesday morning
PROMPT = {"reminders.prompt_before_send": "true", "reminders.confirmation_delay_minutes": "10",
          "incoming.enabled": "false"}


class Heard:
    """What a desk's prompt listener heard: ("prompt_due" | "prompt_withdrawn", item id, words)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str]] = []

    def __call__(self, name: str, details: dict[str, Any]) -> None:
        if name in ("prompt_due", "prompt_withdrawn"):
            self.events.append((name, details["item"].id, str(details.get("answered", ""))))

    def asked(self) -> list[int]:
        return [rid for name, rid, _w in self.events if name == "prompt_due"]

    def withdrawn(self) -> list[tuple[int, str]]:
        return [(rid, words) for name, rid, words in self.events if name == "prompt_withdrawn"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def open_service(tmp_path: Path, pg_url: str, clock: FakeClock) -> App:
    app = App.open(tmp_path / "server", writer=True, command="test serve", database=pg_url, clock=clock)
    app.start()
    return app


@pytest.fixture
def service(tmp_path: Path, pg_url: str, fakemail: FakeMail, clock: FakeClock) -> Iterator[App]:
    """A headless service: nobody subscribes to its engine."""
    set_up(tmp_path / "server", pg_url, fakemail)
    app = open_service(tmp_path, pg_url, clock)
    app.set_settings(PROMPT)
    yield app
    app.close()


def open_desk(tmp_path: Path, pg_url: str, name: str) -> tuple[App, Heard]:
    """A kiosk's App on another desk, subscribed as the kiosk's bridge is (answers prompts)."""
    app = App.open_desk(desk_folder(tmp_path / "server", tmp_path / name), database=pg_url)
    app.watch_poll = 3600.0  # only notices wake the desk
    assert app.on_another_desk
    heard = Heard()
    app.subscribe(heard, answers_prompts=True)
    assert app.hearing(30)
    return app, heard


@pytest.fixture
def desks(service: App, tmp_path: Path, pg_url: str) -> Iterator[list[tuple[App, Heard]]]:
    opened = [open_desk(tmp_path, pg_url, f"desk{n}") for n in (1, 2)]
    yield opened
    for app, _heard in opened:
        app.close()


def book(service: App, hour: int = 16) -> int:
    service.reminders.book("P036", f"2026-12-02T{hour}:00", 30, service.now())
    return max(i.id for i in service.outbox_items())


def sent_ids(fakemail: FakeMail, service: App, rid: int) -> int:
    """How many times the server received this confirmation (by its Message-ID)."""
    message_id = service.outbox.get(rid)["message_id"].encode()
    return sum(message_id in m["data"] for m in fakemail.sent())


def test_every_desk_is_asked_when_the_confirmation_falls_due_not_before(
        service: App, desks: list[tuple[App, Heard]], clock: FakeClock, fakemail: FakeMail) -> None:
    (one, heard_one), (two, heard_two) = desks
    rid = book(service)
    clock.advance(timedelta(minutes=9, seconds=59))
    service.send_receive_now()  # the worker looked: not due yet, nobody asked
    assert heard_one.asked() == heard_two.asked() == []
    assert one.waiting_words(one.outbox_item(rid)) == "waits for your answer: send this confirmation?"
    clock.advance(timedelta(seconds=1))
    wait_for(lambda: heard_one.asked() == [rid] and heard_two.asked() == [rid], "both desks asked")
    assert "waiting for a desk to confirm: every open desk is asked" == service.waiting_words(service.outbox_item(rid))
    clock.advance(timedelta(minutes=5))
    service.send_receive_now()
    assert heard_one.asked() == heard_two.asked() == [rid]  # once, however often the worker looks
    assert fakemail.sent() == []  # never sent unasked
    assert [h["event"] for h in service.outbox_item(rid).record["history"]][-1] == "prompt_asked"


@pytest.mark.parametrize("answers, here", [((True, True), False), ((True, False), False), ((False, False), False),
                                           ((True, True), True)], ids=["yes-yes", "yes-no", "no-no", "service-desk-too"])
def test_two_desks_answering_at_once_have_exactly_one_effect_and_the_item_goes_at_most_once(
        service: App, desks: list[tuple[App, Heard]], clock: FakeClock, fakemail: FakeMail,
        answers: tuple[bool, bool], here: bool) -> None:
    """`here`: Tess answers at the desk that runs the service (its App, not a desk command)."""
    (one, heard_one), (two, heard_two) = desks
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    wait_for(lambda: heard_one.asked() == [rid] and heard_two.asked() == [rid], "both desks asked")
    start = threading.Barrier(2)
    outcome: dict[str, Exception | None] = {}

    def answer(app: App, who: str, send: bool) -> None:
        start.wait()
        try:
            app.answer_prompt(rid, send, who)
            outcome[who] = None
        except Exception as exc:  # noqa: BLE001 - the refusal is what is looked at
            outcome[who] = exc

    threads = [threading.Thread(target=answer, args=(a, who, send))
               for a, who, send in ((service if here else one, "Tess", answers[0]), (two, "Omar", answers[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    winners = [who for who, exc in outcome.items() if exc is None]
    assert len(winners) == 1, outcome
    (loser,) = [exc for exc in outcome.values() if exc is not None]
    assert isinstance(loser, PracticeMailError) and "already answered" in loser.message
    assert f"{winners[0]} at " in loser.message  # the second desk is told who answered
    said_yes = answers[0] if winners == ["Tess"] else answers[1]
    for heard in (heard_one, heard_two):
        wait_for(lambda heard=heard: [r for r, _w in heard.withdrawn()] == [rid], "the question withdrawn")
        (_r, words), = heard.withdrawn()
        assert words.startswith(f"{winners[0]} at ") and ("answered Yes" in words) == said_yes
    for _ in range(2):
        service.send_receive_now()
    assert sent_ids(fakemail, service, rid) == (1 if said_yes else 0)  # the witness: once at most
    assert service.outbox_item(rid).status.value == ("sent" if said_yes else "cancelled")
    events = [h["event"] for h in service.outbox_item(rid).record["history"]]
    assert events.count("prompt_answered") == 1, events


def test_a_desk_opened_after_the_item_fell_due_is_asked_at_once(
        service: App, tmp_path: Path, pg_url: str, clock: FakeClock, fakemail: FakeMail) -> None:
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    wait_for(lambda: service.outbox_item(rid).record.get("asked"), "the question out (no desk open)")
    late, heard = open_desk(tmp_path, pg_url, "late")
    try:
        wait_for(lambda: heard.asked() == [rid], "the late desk asked")
        late.answer_prompt(rid, True)
        service.send_receive_now()
        assert sent_ids(fakemail, service, rid) == 1
        assert service.outbox.get(rid)["answered_by"].startswith("reception at ")
    finally:
        late.close()


def test_the_question_outlives_a_service_restart_and_an_answer_while_it_is_down_is_asked_again(
        tmp_path: Path, pg_url: str, clock: FakeClock, fakemail: FakeMail) -> None:
    set_up(tmp_path / "server", pg_url, fakemail)
    first = open_service(tmp_path, pg_url, clock)
    first.set_settings(PROMPT)
    one, heard = open_desk(tmp_path, pg_url, "desk1")
    again = None
    try:
        rid = book(first)
        clock.advance(timedelta(minutes=10))
        wait_for(lambda: heard.asked() == [rid], "the desk asked")
        first.close()  # the service goes away, its writer's lock with it
        with pytest.raises(ServiceUnavailable):
            one.answer_prompt(rid, True)
        assert one.outbox_item(rid).record["prompt"] and fakemail.sent() == []
        again = open_service(tmp_path, pg_url, clock)  # the service back, as a new process would be
        wait_for(lambda: heard.asked() == [rid, rid], "asked again once the service is back")
        one.answer_prompt(rid, True)
        again.send_receive_now()
        again.send_receive_now()
        assert sent_ids(fakemail, again, rid) == 1
        assert [h["event"] for h in again.outbox_item(rid).record["history"]].count("prompt_asked") == 1  # marked once
    finally:
        one.close()
        if again is not None:
            again.close()


def test_no_from_a_desk_then_undo_asks_every_desk_again(
        service: App, desks: list[tuple[App, Heard]], clock: FakeClock, fakemail: FakeMail) -> None:
    (one, heard_one), (two, heard_two) = desks
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    wait_for(lambda: heard_one.asked() == [rid] and heard_two.asked() == [rid], "both desks asked")
    one.answer_prompt(rid, False, "Tess")
    wait_for(lambda: heard_two.withdrawn() != [], "withdrawn at the other desk")
    assert heard_two.withdrawn()[0][1].startswith("Tess at ") and "answered No" in heard_two.withdrawn()[0][1]
    assert service.outbox_item(rid).status.value == "cancelled"
    assert one.undo_prompt(rid).status.value == "ready"
    wait_for(lambda: heard_one.asked() == [rid, rid] and heard_two.asked() == [rid, rid], "asked again everywhere")
    two.answer_prompt(rid, True, "Omar")
    service.send_receive_now()
    assert sent_ids(fakemail, service, rid) == 1


def test_a_desk_s_answer_not_of_the_command_s_shape_is_refused(
        service: App, desks: list[tuple[App, Heard]], clock: FakeClock, fakemail: FakeMail) -> None:
    (one, heard), _two = desks
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    wait_for(lambda: heard.asked() == [rid], "the desk asked")
    for args in ({"rid": str(rid), "send": True, "by": "x"}, {"rid": rid, "send": "yes", "by": "x"},
                 {"rid": rid, "send": True}, {"rid": True, "send": True, "by": "x"}):
        with pytest.raises(ServiceCommandFailed, match="answer was not understood"):
            one.ask_service("answer_prompt", args)
    assert service.outbox_item(rid).record["prompt"] and fakemail.sent() == []
    with pytest.raises(PracticeMailError):
        service.answer_prompt(10_000, True)


def test_a_forged_answer_row_neither_forges_a_log_line_nor_a_name_at_the_desks(
        service: App, desks: list[tuple[App, Heard]], clock: FakeClock, fakemail: FakeMail, pg_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """Anyone who can write the commands table chooses asked_by, kind and the answer's `by`: a line
    break there wrote a line of their own into the service's log ("... INFO patient P001 ..."),
    and `by` reached every desk's words as who answered, line break and bidi override kept. An
    item code past PostgreSQL's bigint is refused in one line, no traceback."""
    import psycopg

    (one, heard), _two = desks
    rid = book(service)
    clock.advance(timedelta(minutes=10))
    wait_for(lambda: heard.asked() == [rid], "the desk asked")
    forged = "desk\n2026-12-01 10:00:00 INFO practicemail.service patient P001 deleted\u2028x"
    rows = [("answer_prompt", {"rid": rid, "send": False, "by": "Tess\nat the\u202e desk"}, forged),
            ("answer_prompt", {"rid": 2 ** 70, "send": True, "by": "x"}, "rogue"),
            ("answer_prompt\r\nforged", {"rid": rid, "send": True, "by": "x"}, "rogue")]
    caplog.set_level("INFO", logger="practicemail")
    with psycopg.connect(pg_url, autocommit=True) as c:
        for kind, args, asked_by in rows:
            c.execute("INSERT INTO desk_commands (kind, args, asked_by) VALUES (%s, %s, %s)",
                      (kind, psycopg.types.json.Json(args), asked_by))
        wait_for(lambda: c.execute("SELECT count(*) FROM desk_commands WHERE done_at IS NULL").fetchone()[0] == 0,
                 "every row answered")
        answers = c.execute("SELECT ok, result FROM desk_commands ORDER BY id").fetchall()
    assert [ok for ok, _r in answers] == [False, False, False], answers
    assert "not understood" in answers[0][1]["error"] and "\n" not in answers[1][1]["error"], answers
    assert service.outbox_item(rid).record["prompt"] and fakemail.sent() == []  # still asked, nothing answered
    for record in caplog.records:
        said = record.getMessage()
        assert not any(ch in said for ch in "\r\n\u2028\u2029\u0085\u202e"), said
        assert record.exc_info is None, said
