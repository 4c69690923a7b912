"""Composing from templates and patient files, checked by the rules, sent through the fake server."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.store import RID
from engine.core.message import Attachment, Draft, Recipient
from engine.errors import RuleRefused, TemplateInvalid
from engine.service.compose import Composer
from engine.service.demo import load_demo
from engine.service.engine import Engine
from engine.service.practice import Practice
from engine.service.templates import Templates
from tests.conftest import ROOT
from tests.integration.helpers import open_practice
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice)
    yield e
    e.stop()


def test_html_plain_and_two_attachments_survive_the_fake_server(engine: Engine, fakemail: FakeMail) -> None:
    png = bytes(range(256)) * 40
    d = Draft("practice@example.test", "Bright Smile Dental", [Recipient("zoe@example.com", "Zoë D'Arcy")],
              "Your x-ray – Röntgen", "Plain text, with ümlauts.\n.A line starting with a dot\n",
              html="<p>HTML <b>body</b></p>",
              attachments=[Attachment("Röntgen 1.png", png, "image/png"), Attachment("notes.txt", b"plain notes\n")])
    engine.outbox.add_draft(d, NOW)
    assert engine.send_receive_now()["sent"] == 1
    raw = fakemail.wait_for_sent(1)[0]["data"]
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's canonical line ends
    assert text == "Plain text, with ümlauts.\n.A line starting with a dot\n"
    assert msg.get_body(("html",)).get_content().strip() == "<p>HTML <b>body</b></p>"
    atts = list(msg.iter_attachments())
    assert [(a.get_filename(), a.get_content()) for a in atts][0] == ("Röntgen 1.png", png)  # byte for byte
    assert atts[1].get_filename() == "notes.txt" and atts[1].get_content().replace("\r\n", "\n") == "plain notes\n"
    assert str(msg["Subject"]) == "Your x-ray – Röntgen" and msg["To"].addresses[0].display_name == "Zoë D'Arcy"


def test_compose_from_a_patients_file_with_template_specialist_and_history(practice: Practice, engine: Engine,
                                                                            fakemail: FakeMail) -> None:
    composer = Composer(practice, engine.outbox, engine.inbox)
    grace = next(p for p in practice.directory.list("patients") if p["first_name"] == "Grace")
    rid = composer.from_patient(grace["id"], NOW, template="RECALL", specialist_id="SP1", cc_specialist=True)
    item = engine.outbox.get(rid)
    assert item["to"] == [grace["email"]] and item["cc"] == ["lindqvist@ortho-referrals.example"]
    assert item["category"] == "Recalls" and item["description"] == "Check-up recall"
    engine.send_receive_now()
    raw = fakemail.wait_for_sent(1)[0]["data"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    provider = practice.directory.find("providers", grace["usual_provider_id"])
    assert provider["last_name"] in msg.get_body(("plain",)).get_content()  # usual provider by default
    assert sorted(fakemail.sent()[0]["rcpt_tos"]) == sorted([grace["email"], "lindqvist@ortho-referrals.example"])
    history = engine.inbox.contact_history(grace["id"])
    assert history[0]["type"] == "sent" and history[0]["category"] == "Recalls"


def test_rules_refuse_before_anything_is_queued(practice: Practice, engine: Engine, tmp_path: Path) -> None:
    composer = Composer(practice, engine.outbox, engine.inbox)
    xray = tmp_path / "xray.png"
    xray.write_bytes(b"\x89PNG fake")
    patel = next(p for p in practice.directory.list("patients") if p["id"] == "P001")
    stranger = next(p for p in practice.directory.list("patients") if p["family_id"] == "F12")
    with pytest.raises(RuleRefused) as exc:
        composer.from_patient(patel["id"], NOW, subject="x", extra_cc=[stranger["email"]])
    assert exc.value.rule == "copies only to family" and stranger["last_name"] in exc.value.message
    with pytest.raises(RuleRefused) as exc:
        composer.from_patient(patel["id"], NOW, subject="x-ray", extra_cc=["friend@elsewhere.example"],
                              attachments=[xray])
    assert exc.value.rule == "patient documents stay with the family and clinicians"
    composer.from_patient(patel["id"], NOW, subject="x-ray", specialist_id="SP2", cc_specialist=True,
                          attachments=[xray])  # a specialist may have it
    no_address = next(p for p in practice.directory.list("patients") if not p["email"])
    with pytest.raises(RuleRefused) as exc:
        composer.from_patient(no_address["id"], NOW, subject="hello")
    assert exc.value.rule == "recipient has no address"
    practice.directory.update("patients", no_address["id"], {"email": "dorothy@patientmail.example"})
    composer.from_patient(no_address["id"], NOW, subject="hello")  # the address given is on the record now
    assert len(engine.outbox.list()) == 2


def test_signature_is_appended_to_free_text(practice: Practice, engine: Engine) -> None:
    composer = Composer(practice, engine.outbox, engine.inbox)
    rid = composer.from_patient("P042", NOW, subject="Note", text="See you soon.", signature=True)
    raw = engine.outbox.blob(engine.outbox.get(rid))
    body = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("See you soon.\n\n--\nBright Smile Dental")


def test_saving_a_template_refuses_escapes_and_changes_nothing(practice: Practice, tmp_path: Path) -> None:
    templates = Templates(practice.store)
    before = templates.get("RECALL")
    bad = tmp_path / "bad.toml"
    bad.write_text('code = "RECALL"\nsubject = "Hi"\nbody = """line one\n{{ \'\'.__class__.__mro__ }}"""\n')
    with pytest.raises(TemplateInvalid) as exc:
        templates.add_file(bad)
    assert exc.value.problems[0].row == 2 and exc.value.problems[0].column == "body"
    assert templates.get("RECALL") == before


def test_mass_email_cli_one_per_patient_one_per_family_and_lists_no_address(practice: Practice,
                                                                          tmp_path: Path) -> None:
    folder = practice.folder
    patients = practice.directory.list("patients")
    practice.close()
    ids = tmp_path / "recall.txt"
    ids.write_text("P001\nP002\nP033\nP041\n# a comment\n")
    out = subprocess.run([sys.executable, "-m", "engine", "compose", "--template", "RECALL", "--patients-file", str(ids),
                          "--json", "--data", str(folder)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    doc = json.loads(out.stdout)
    assert doc["queued"] == 2 and doc["no_address"] == ["P041"]  # P001+P002 share one address
    listed = json.loads(subprocess.run([sys.executable, "-m", "engine", "outbox", "list", "--json", "--data",
                                        str(folder)], capture_output=True, text=True, cwd=ROOT).stdout)
    assert sorted(len(r["to"]) for r in listed) == [1, 1]  # never one email to several patients
    with Practice(folder, writer=True) as p:
        family_item = next(r for r in p.store.partitioned("outbox").all() if r.get("family_patients"))
        raw = p.store.blobs.get(family_item["blob"])
        assert b"The Patel family" in raw
        assert sorted(family_item["family_patients"]) == ["P001", "P002"]
        assert len(p.store.partitioned("outbox").all()) == 2
    assert len(patients) > 40


@pytest.mark.slow
def test_mass_email_of_5000_is_one_durable_step(data_dir: Path) -> None:
    with open_practice(data_dir) as p:
        load_demo(p)
        rows = [(i + 2, {"id": f"M{i:05d}", "first_name": "Pat", "last_name": f"N{i}",
                         "email": f"m{i}@patientmail.example"}) for i in range(5000)]
        p.directory.import_rows("patients", rows)
        from engine.service.inbox import Inbox
        from engine.service.outbox import Outbox

        outbox = Outbox(p.store)
        composer = Composer(p, outbox, Inbox.for_practice(p, outbox))
        result = composer.mass("RECALL", [f"M{i:05d}" for i in range(5000)], NOW)
        assert result.queued == 5000 and result.no_address == []
        assert len({r[RID] for r in p.store.partitioned("outbox").all()}) == 5000
