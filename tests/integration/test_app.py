"""The App (engine/service/app.py): one object graph per process, a reader that only reads,
and the compose command as one frozen value. Real data folders, the demo practice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.admin.diagnostics import run_runbook
from engine.admin.facade import Admin
from engine.errors import ReadOnly, RuleRefused
from engine.service.app import App, NewEmail, OutboxItem
from engine.service.demo import load_demo
from engine.service.practice import Practice

PATIENT = "P001"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A data folder with the demo practice in it, closed again (nobody holds it)."""
    folder = tmp_path / "data"
    with Practice(folder, writer=True, command="test") as p:
        load_demo(p)
    return folder


@pytest.fixture
def app(folder: Path) -> Iterator[App]:
    with App.open(folder, writer=True, command="test") as app:
        yield app


def test_each_part_is_built_once_and_shared(app: App) -> None:
    """Was: the kiosk built its own Composer, Reminders, Templates and Roles beside the engine's
    outbox; a template saved through one Templates was read through another."""
    assert app.outbox is app.engine.outbox and app.inbox is app.engine.inbox
    assert app.composer.outbox is app.outbox and app.reminders.outbox is app.outbox
    assert app.composer.templates is app.templates and app.reminders.templates is app.templates
    assert Admin(app).engine is app.engine  # the admin reads through the App, with no engine of its own


def test_the_command_lines_parts_are_the_graphs_own(app: App) -> None:
    """Was: the worker's booking-link pass built a second Reminders, recalls and reminder rules
    their own Templates, and the command line a Recalls, Texts and ReminderRules per command."""
    assert app.engine.reminders is app.reminders and app.engine.templates is app.templates
    assert app.reminder_rules is app.reminders.rules and app.reminder_rules.templates is app.templates
    assert "recalls" not in vars(app) and "texts" not in vars(app)  # built on first use only
    assert app.recalls is app.recalls and app.recalls.outbox is app.outbox
    assert app.recalls.templates is app.templates
    assert app.texts is app.texts and app.texts.outbox is app.outbox


def test_compose_takes_one_frozen_value_and_queues_what_from_patient_queued(app: App) -> None:
    email = NewEmail(PATIENT, subject="Your x-ray", text="All clear.", extra_cc=("mum@example.com",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.subject = "changed"  # type: ignore[misc]
    rid = app.compose(email)
    old = app.composer.from_patient(PATIENT, app.now(), subject="Your x-ray", text="All clear.",
                                    extra_cc=["mum@example.com"])
    new, before = app.outbox.get(rid), app.outbox.get(old)
    keys = ("to", "cc", "subject", "patient_id", "status", "kind")
    assert {k: new.get(k) for k in keys} == {k: before.get(k) for k in keys}
    item = app.outbox_item(rid)
    assert isinstance(item, OutboxItem) and item.id == rid and item.subject == "Your x-ray"
    assert item.to == tuple(new["to"]) and new["to"] and item.patient_id == PATIENT
    assert [i.id for i in app.outbox_items(lambda i: i.patient_id == PATIENT, limit=2)] == [old, rid]


def test_compose_is_refused_by_the_rules_and_queues_nothing(app: App) -> None:
    count = len(app.outbox.list())
    other = next(p for p in app.directory.list("patients")
                 if p.get("email") and p.get("family_id") != app.directory.require("patients", PATIENT).get("family_id"))
    with pytest.raises(RuleRefused):
        app.compose(NewEmail(PATIENT, subject="Results", text="Attached", extra_cc=(other["email"],),
                             attached=(_attachment(),)))
    assert len(app.outbox.list()) == count


def _attachment():  # noqa: ANN202 - engine.core.message.Attachment
    from engine.core.message import Attachment

    return Attachment("results.txt", b"numbers", "text/plain")


@pytest.mark.tinydb_only(reason="on PostgreSQL a reader is another desk, whose commands go through the "
                                "database (tests/integration/test_desk_commands.py)")
def test_a_reader_never_starts_and_refuses_every_command_before_trying(folder: Path) -> None:
    with App.open(folder, writer=True, command="kiosk") as writer:
        writer.compose(NewEmail(PATIENT, subject="Held", text="x", as_draft=True))
        with App.open(folder, writer=False, command="runbook") as reader:  # the writer holds the folder
            commands = [reader.start, reader.restart, lambda: reader.send_receive_now(),
                        lambda: reader.compose(NewEmail(PATIENT, subject="No", text="no")),
                        lambda: reader.reset_failed([]), lambda: reader.answer_prompt(1, True),
                        lambda: reader.set_settings({"practice.name": "Other"}), lambda: reader.mark_read(1),
                        lambda: reader.set_tags(1, ["x"]), lambda: reader.set_actioned(1),
                        lambda: reader.file_message(1, PATIENT), lambda: reader.delete_message(1),
                        lambda: reader.restore_message(1), lambda: reader.reply(1, "hi"),
                        lambda: reader.forward(1, "a@example.com"), lambda: reader.forward_sent(1, "a@example.com"),
                        lambda: reader.sign_in(print, None), reader.begin_device_sign_in]
            for command in commands:
                with pytest.raises(ReadOnly, match="only to read"):
                    command()
            assert not reader.running
            assert [i.subject for i in reader.outbox_items()] == ["Held"]  # queries answer
            assert reader.patient(PATIENT).id == PATIENT
            with pytest.raises(ReadOnly):
                Admin(reader).reset_failed()
            page, _results = run_runbook(reader, "outbox_health", role="reception")  # a runbook reads on
            assert "Outbox" in page or "outbox" in page
        assert [i.subject for i in writer.outbox_items()] == ["Held"]
        assert writer.settings.get("practice.name") != "Other"


def test_patients_answer_as_frozen_values_by_name(app: App) -> None:
    everyone = app.patients()
    assert len(everyone) == len(app.directory.list("patients")) > 3
    assert [(p.last_name.lower(), p.first_name.lower()) for p in everyone] == \
        sorted((p.last_name.lower(), p.first_name.lower()) for p in everyone)
    first = app.directory.require("patients", PATIENT)
    found = app.patients(first["last_name"], limit=5)
    assert PATIENT in [p.id for p in found] and len(found) <= 5
    mine = app.patient(PATIENT)
    assert mine.name.endswith(f"{first['first_name']} {first['last_name']}") and mine.email == first.get("email", "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.email = "someone@else.example"  # type: ignore[misc]
