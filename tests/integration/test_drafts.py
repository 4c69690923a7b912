"""Drafts saved from the compose window, opened again, edited and sent; outbox items forwarded."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from engine.core.message import Attachment
from engine.errors import InputInvalid, RuleRefused
from engine.service.compose import Composer
from engine.service.engine import Engine
from engine.service.practice import Practice
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def composer(practice: Practice) -> Iterator[Composer]:
    e = Engine(practice)
    yield Composer(practice, e.outbox, e.inbox)
    e.stop()


def test_a_draft_reopens_with_its_files_and_goes_with_the_same_message_id(composer: Composer,
                                                                         fakemail: FakeMail) -> None:
    xray = Attachment("xray.png", b"\x89PNG fake image", "image/png")
    rid = composer.from_patient("P001", NOW, subject="Your x-ray", text="First words", as_draft=True,
                                attached=[xray])
    first = composer.outbox.get(rid)
    assert first["status"] == "draft" and composer.outbox.due(NOW, manual=True) == []
    opened = composer.draft_contents(rid)
    assert (opened["subject"], opened["text"].strip(), opened["patient_id"]) == ("Your x-ray", "First words", "P001")
    assert [(a.filename, a.data) for a in opened["attachments"]] == [("xray.png", b"\x89PNG fake image")]

    saved = composer.revise_draft(rid, NOW, "Your x-ray, as promised", "Here it is.", ["patel.family@mailhome.example"],
                                  ["a.okafor@brightsmile.example"], opened["attachments"], send=False)
    assert saved["status"] == "draft" and saved["message_id"] == first["message_id"]
    sent = composer.revise_draft(rid, NOW, "Your x-ray, as promised", "Here it is, final.", [],
                                 ["a.okafor@brightsmile.example"], opened["attachments"], send=True)
    assert sent["status"] == "ready" and [h["event"] for h in sent["history"]][-3:] == ["edited", "edited", "queue"]
    engine = Engine(composer.practice)
    try:
        assert engine.send_receive_now()["sent"] == 1
    finally:
        engine.stop()
    (got,) = fakemail.sent()
    msg = email.message_from_bytes(got["data"], policy=email.policy.default)
    assert msg["Subject"] == "Your x-ray, as promised" and msg["Message-ID"] == first["message_id"]
    assert "Bcc" not in msg and "a.okafor@brightsmile.example" in got["rcpt_tos"]  # hidden, but delivered
    assert "Here it is, final." in msg.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in msg.iter_attachments()] == ["xray.png"]

    with pytest.raises(InputInvalid, match="not a draft"):
        composer.revise_draft(rid, NOW, "again", "", [], [], [], send=True)


def test_a_draft_may_not_be_copied_outside_the_family(composer: Composer) -> None:
    rid = composer.from_patient("P001", NOW, subject="Results", text="x", as_draft=True)
    with pytest.raises(RuleRefused):
        composer.revise_draft(rid, NOW, "Results", "x", [], ["obriens@mailhome.example"], [], send=True)
    assert composer.outbox.get(rid)["status"] == "draft"


def test_an_outbox_item_forwards_within_the_family_only(composer: Composer) -> None:
    rid = composer.from_patient("P005", NOW, subject="Your appointment", text="Tuesday at 10")
    fwd = composer.forward_sent(rid, "a.okafor@brightsmile.example", NOW)
    item = composer.outbox.get(fwd)
    assert item["subject"] == "Fwd: Your appointment" and item["patient_id"] == "P005"
    with pytest.raises(RuleRefused):
        composer.forward_sent(rid, "patel.family@mailhome.example", NOW)
