"""Reply and forward, the address book, a patient's documents and image scaling."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from engine.adapters.documents import list_documents, patient_folder, scale_down
from engine.adapters.store import RID
from engine.errors import RuleRefused
from engine.service.compose import Composer
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(practice: Practice, fakemail: FakeMail) -> Iterator[tuple[Practice, Engine, Composer]]:
    configure_incoming(practice, fakemail, "imap")
    e = Engine(practice)
    yield practice, e, Composer(practice, e.outbox, e.inbox)
    e.stop()


def test_reply_is_threaded_and_quotes_the_original(setup: tuple, fakemail: FakeMail) -> None:
    practice, engine, composer = setup
    fakemail.deliver("practice", b"From: Grace Holloway <grace.holloway@patientmail.example>\r\nSubject: Question\r\n"
                                 b"Message-ID: <q1@patientmail.example>\r\nReferences: <older@x>\r\n\r\nCan I bring my son?\r\n")
    engine.send_receive_now()
    (msg,) = engine.inbox.list(show_all=True)
    rid = composer.reply(msg[RID], NOW, "Of course.")
    engine.send_receive_now()
    sent = email.message_from_bytes(fakemail.sent()[0]["data"], policy=email.policy.default)
    assert sent["In-Reply-To"] == "<q1@patientmail.example>" and sent["References"] == "<older@x> <q1@patientmail.example>"
    assert sent["Subject"] == "Re: Question" and sent["To"].addresses[0].addr_spec == "grace.holloway@patientmail.example"
    body = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Of course.\n\nOn ") and "> Can I bring my son?" in body
    assert engine.outbox.get(rid)["patient_id"] == msg["patient_id"] != ""
    assert [e["event"] for e in engine.inbox.get(msg[RID])["timeline"]][-1] == "replied"
    # and the patient's answer to our reply is filed by the thread
    fakemail.deliver("practice", b"From: grace.holloway@patientmail.example\r\nSubject: Re: Re: Question\r\n"
                                 b"Message-ID: <q2@p>\r\nIn-Reply-To: " + engine.outbox.get(rid)["message_id"].encode()
                     + b"\r\n\r\nThanks\r\n")
    engine.send_receive_now()


def test_forward_refused_outside_the_family_allowed_to_a_specialist(setup: tuple, fakemail: FakeMail) -> None:
    practice, engine, composer = setup
    fakemail.deliver("practice", b"From: Grace Holloway <grace.holloway@patientmail.example>\r\nSubject: My x-ray\r\n"
                                 b"Message-ID: <f1@p>\r\n\r\nattached\r\n")
    engine.send_receive_now()
    (msg,) = engine.inbox.list(show_all=True)
    with pytest.raises(RuleRefused) as exc:
        composer.forward(msg[RID], "angus.macleod@patientmail.example", NOW)
    assert exc.value.rule == "no forwarding to another patient"
    composer.forward(msg[RID], "lindqvist@ortho-referrals.example", NOW)
    engine.send_receive_now()
    sent = email.message_from_bytes(fakemail.sent()[0]["data"], policy=email.policy.default)
    (inner,) = list(sent.iter_attachments())
    assert inner.get_content_type() == "message/rfc822" and inner["Content-Transfer-Encoding"] in ("7bit", "8bit")
    assert inner.get_content()["Subject"] == "My x-ray"


def test_address_book_search(setup: tuple) -> None:
    _, _, composer = setup
    found = composer.address_book("patel")
    assert {e["id"] for e in found if e["kind"] == "patient"} == {"P001", "P002", "P003", "P004"}
    assert composer.address_book("lindqvist")[0]["kind"] == "specialist"
    assert composer.address_book("someone@new.example")[0]["kind"] == "other"
    assert all(e["kind"] == "provider" for e in composer.address_book("okafor"))


def test_documents_folder_and_images_scaled_down_never_up(setup: tuple, data_dir: Path) -> None:
    practice, engine, composer = setup
    folder = patient_folder(practice.folder, "P033")
    folder.mkdir(parents=True)
    big = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 30, 30)).save(big, "JPEG")
    (folder / "xray.jpg").write_bytes(big.getvalue())
    (folder / "letter.pdf").write_bytes(b"%PDF-1.4 tiny")
    docs = list_documents(practice.folder, "P033")
    assert [(d.name, d.size > 0) for d in docs] == [("letter.pdf", True), ("xray.jpg", True)]
    small = scale_down(big.getvalue(), "image/jpeg", 1600)
    assert Image.open(io.BytesIO(small)).size == (1600, 1200) and len(small) < len(big.getvalue())
    tiny = io.BytesIO()
    Image.new("RGB", (300, 200)).save(tiny, "PNG")
    assert scale_down(tiny.getvalue(), "image/png", 1600) == tiny.getvalue()  # never enlarged
    assert scale_down(b"%PDF", "application/pdf", 100) == b"%PDF"
    rid = composer.from_patient("P033", NOW, subject="Your x-ray", specialist_id="SP1", cc_specialist=True,
                                attachments=[folder / "xray.jpg"], scale_images_to=1600)
    raw = engine.outbox.blob(engine.outbox.get(rid))
    (att,) = list(email.message_from_bytes(raw, policy=email.policy.default).iter_attachments())
    assert Image.open(io.BytesIO(att.get_content())).size == (1600, 1200)
    with pytest.raises(Exception):
        patient_folder(practice.folder, "../../etc")
