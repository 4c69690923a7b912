"""The Outbox is the only door to outbox records (issue 15, item 2).

Two kinds of witness: the source itself (nothing outside the Outbox's modules reaches its
collection or compares an outbox status to a raw string), and the records after real journeys
(a prompt answered, a text held past quiet hours, a booking link requested, a draft edited, a
text's delivery status reported): every change of a field left an event of the core table in
the item's history, as the table's own events do.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.clock import FakeClock
from engine.core.message import Draft, Recipient
from engine.core.outbox import Event, State
from engine.core.outbox_item import OutboxItem
from engine.service.engine import Engine
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.reminders import Reminders
from engine.service.sms import Texts
from tests.integration.test_sms import configure_sms
from tools.fakemail import FakeMail

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # Tuesday morning
OWNERS = {"engine/service/outbox.py", "engine/service/outbox_queries.py", "engine/service/outbox_send.py",
          "engine/service/outbox_journal.py"}
STATES = {s.value for s in State}


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for folder in ("engine", "kiosk"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in OWNERS:
                yield name, ast.parse(path.read_text("utf-8"))


def _names_outbox(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "outbox") or \
        (isinstance(node, ast.Attribute) and node.attr == "outbox")


def test_no_code_outside_the_outbox_reaches_its_records() -> None:
    """`outbox.items.update(...)` (reminders, texts), `.find` (recalls, engine, diagnostics, kiosk)
    and the like were all doors of their own; now only named Outbox methods are."""
    found = [f"{name}:{node.lineno}" for name, tree in _sources() for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr in ("items", "_items") and _names_outbox(node.value)]
    assert found == []
    assert not hasattr(Outbox, "items")


def test_outbox_states_are_the_enum_outside_the_core() -> None:
    """`r["status"] == "pending_link"` compared an outbox record to a raw string (engine.py)."""
    room = ["engine/service/engine.py", "engine/service/reminders.py", "engine/service/sms.py",
            "engine/service/recalls.py", "engine/service/bounces.py", "engine/admin/diagnostics.py",
            "engine/admin/facade.py"]
    found = []
    for name in room:
        for node in ast.walk(ast.parse((ROOT / name).read_text("utf-8"))):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Subscript) and \
                    isinstance(node.left.slice, ast.Constant) and node.left.slice.value == "status":
                consts = [c for c in node.comparators if isinstance(c, ast.Constant) and c.value in STATES]
                found += [f"{name}:{node.lineno}"] * len(consts)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "list" \
                    and _names_outbox(node.func.value) and any(isinstance(a, ast.Constant) for a in node.args):
                found.append(f"{name}:{node.lineno}")
    assert found == []


def _check_history(item: OutboxItem) -> list[str]:
    """The item's history: it begins with `created`, and every line that moves it is a table event."""
    lines = list(item["history"])
    assert lines[0]["event"] == Event.CREATED.value and lines[0]["to"] in {s.value for s in (State.DRAFT,
                                                                                              State.READY,
                                                                                              State.PENDING_LINK)}
    assert all(Event(line["event"]) for line in lines if "to" in line)
    return [line["event"] for line in lines]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(practice: Practice, clock: FakeClock, fakemail: FakeMail) -> Iterator[Engine]:
    configure_sms(practice, fakemail)
    e = Engine(practice, clock)
    yield e
    e.stop()


def test_a_prompt_answer_is_an_event_of_the_item(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    """Reminders wrote `prompt` and `deliver_after` into the record directly: no history, no table."""
    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0", "reminders.prompt_before_send": "true",
                                "reminders.confirmation_template": "APPTCONF"})
    rem = Reminders(practice, engine.outbox)
    rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    rem.book("P036", "2026-11-25T16:00", 30, clock.now())
    no, yes = rem.awaiting_prompt()
    assert isinstance(no, OutboxItem) and no.status is State.READY
    rem.answer_prompt(no.id, send=False, now=clock.now())
    rem.answer_prompt(yes.id, send=True, now=clock.now())
    assert _check_history(engine.outbox.item(no.id))[-2:] == ["prompt_answered", "cancel"]
    assert _check_history(engine.outbox.item(yes.id))[-1] == "prompt_answered"
    assert not engine.outbox.item(yes.id)["prompt"] and engine.outbox.item(no.id).status is State.CANCELLED
    assert rem.awaiting_prompt() == []


def test_a_text_held_past_quiet_hours_says_so(practice: Practice, engine: Engine, clock: FakeClock,
                                              fakemail: FakeMail) -> None:
    """The texts' pass moved `deliver_after` by writing the record: the item's time changed with no
    word in its history. Then its delivery status arrives: that is in the history too."""
    clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc))
    texts = Texts(practice, engine.outbox)
    rid = texts.queue("P040", "Hello", clock.now(), even_in_quiet_hours=True)
    texts.send_due(clock.now, manual=False)
    item = engine.outbox.item(rid)
    assert item.status is State.READY and item.deliver_after == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
    assert _check_history(item)[-1] == "deferred" and item["history"][-1]["detail"] == "quiet hours"
    assert fakemail.sms.messages("outbound") == []
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc))
    assert texts.send_due(clock.now, manual=False).sent == 1
    assert texts.poll_statuses(clock.now()) == 1
    events = _check_history(engine.outbox.item(rid))
    assert events[-3:] == ["claim", "delivered", "status_reported"]
    assert engine.outbox.item(rid)["provider_status"] == "delivered"


def test_a_booking_link_token_and_an_edited_draft_are_events(practice: Practice, engine: Engine, clock: FakeClock,
                                                              fakemail: FakeMail) -> None:
    from engine.service.templates import Templates

    t = Templates(practice.store).get("APPTCONF")
    t.body += "\nManage your booking: {{ booking.link }}\n"
    Templates(practice.store).save(t)
    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0", "reminders.prompt_before_send": "false",
                                "reminders.confirmation_template": "APPTCONF",
                                "booking.provider_url": f"http://127.0.0.1:{fakemail.ports['http']['control']}"})
    Reminders(practice, engine.outbox).book("P033", "2026-11-25T15:00", 30, clock.now())
    (waiting,) = engine.outbox.in_state(State.PENDING_LINK)
    engine.send_receive_now()  # asks the booking system: it takes the request and gives a token
    item = engine.outbox.item(waiting.id)
    assert item.status is State.PENDING_LINK and item["link_token"]
    assert _check_history(item)[-1] == "link_requested"

    sender = practice.settings.get("practice.email")
    rid = engine.outbox.add_draft(Draft(sender, "", [Recipient("pat@example.com")], "Draft", "x"), clock.now(),
                                  as_draft=True)
    engine.outbox.revise_draft(rid, Draft(sender, "", [Recipient("pat@example.com")], "Edited", "y"), clock.now())
    edited = engine.outbox.item(rid)
    assert edited.subject == "Edited" and _check_history(edited) == ["created", "edited"]


def test_every_way_in_makes_the_same_shape(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    """An email, a batch, a text and an item waiting for a link are one record shape."""
    sender = practice.settings.get("practice.email")
    one = engine.outbox.add_draft(Draft(sender, "", [Recipient("a@example.com")], "One", "x"), clock.now())
    (batch,) = engine.outbox.add_drafts([(Draft(sender, "", [Recipient("b@example.com")], "Two", "x"), {})],
                                        clock.now())
    text = Texts(practice, engine.outbox).queue("P040", "Three", clock.now())
    link = engine.outbox.add_pending_link({"from": sender, "to": ["c@example.com"],
                                           "envelope_to": ["c@example.com"]}, clock.now())
    shapes = [set(engine.outbox.get(rid)) - {"_rid", "text", "parts", "provider_sid", "provider_status"}
              for rid in (one, batch, text, link)]
    assert shapes[0] == shapes[1] == shapes[2] == shapes[3]
    assert [len(_check_history(engine.outbox.item(rid))) for rid in (one, batch, text, link)] == [1, 1, 1, 1]


def test_a_no_at_the_prompt_can_be_taken_back_once(practice: Practice, engine: Engine, clock: FakeClock) -> None:
    """#19: No says the confirmation will not be sent and offers Undo; Undo makes it ready and
    asked again, an event of the item; nothing else can be brought back that way."""
    from engine.errors import InputInvalid

    practice.settings.set_many({"reminders.confirmation_delay_minutes": "0", "reminders.prompt_before_send": "true",
                                "reminders.confirmation_template": "APPTCONF"})
    rem = Reminders(practice, engine.outbox)
    rem.book("P033", "2026-11-25T15:00", 30, clock.now())
    (asked,) = rem.awaiting_prompt()
    with pytest.raises(InputInvalid, match="not declined"):
        engine.outbox.undo_prompt_answer(asked.id, clock.now())  # nothing to take back yet
    rem.answer_prompt(asked.id, send=False, now=clock.now())
    engine.outbox.undo_prompt_answer(asked.id, clock.now())
    back = engine.outbox.item(asked.id)
    assert back.status is State.READY and back["prompt"] and _check_history(back)[-3:] == [
        "prompt_answered", "cancel", "prompt_undone"]
    assert [i.id for i in rem.awaiting_prompt()] == [asked.id]
    with pytest.raises(InputInvalid, match="not declined"):
        engine.outbox.undo_prompt_answer(asked.id, clock.now())  # once
    engine.outbox.apply(asked.id, Event.CANCEL, clock.now())  # cancelled some other way: stays cancelled
    with pytest.raises(InputInvalid, match="not declined"):
        engine.outbox.undo_prompt_answer(asked.id, clock.now())
    assert engine.outbox.item(asked.id).status is State.CANCELLED
