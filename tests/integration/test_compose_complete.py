"""Compose as the reference manual has it (#20 item 5), through the App: the signature on a
templated email, an email's category and description, a compose file opened or saved, and a
sent item forwarded with reception's own words."""

from __future__ import annotations

import email
import email.policy
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.message import Attachment
from engine.core.templates import Template
from engine.errors import InputInvalid
from engine.service.app import App, NewEmail
from engine.service.practice import Practice
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail


@pytest.fixture
def app(practice: Practice) -> Iterator[App]:
    a = App(practice)
    yield a
    a.close()


def parts(app: App, rid: int) -> tuple[str, str | None]:
    msg = email.message_from_bytes(app.outbox.blob(app.outbox.get(rid)), policy=email.policy.default)
    html = msg.get_body(("html",))
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n"), html.get_content() if html else None


def test_the_signature_goes_under_a_templated_email_in_both_parts_once(app: App) -> None:
    plain, html = parts(app, app.compose(NewEmail("P043", template="RECALL", signature=True)))
    assert plain.rstrip().endswith("--\nBright Smile Dental\n14 River Street, Bathwick, BA2 4QR\n01225 555 010")
    assert plain.count("14 River Street") == 1 and plain.startswith("Dear Ms Holloway")
    assert html is not None and html.count("14 River Street") == 1 and "<br>" in html
    unsigned, _ = parts(app, app.compose(NewEmail("P043", template="RECALL")))
    assert "14 River Street" not in unsigned  # the box not ticked: none

    # a template that already ends with the practice's details gets no second copy
    sig = app.templates.get("SIGNATURE")
    app.save_template(Template("SIGNED", "Signed note", "Notes", "Note", "Hello.\n\n" + sig.body))
    signed, _ = parts(app, app.compose(NewEmail("P043", template="SIGNED", signature=True)))
    assert signed.count("Bright Smile Dental") == 1 and signed.count("14 River Street") == 1


def test_a_signature_with_its_own_html_is_used_in_the_html_part(app: App) -> None:
    sig = app.templates.get("SIGNATURE")
    app.save_template(Template(sig.code, sig.description, sig.category, "", sig.body,
                               html="<p><i>{{ practice.name }}</i></p>"))
    plain, html = parts(app, app.compose(NewEmail("P043", template="RECALL", signature=True)))
    assert html is not None and "<i>Bright Smile Dental</i>" in html and html.count("River Street") == 0
    assert "14 River Street" in plain


def test_a_reply_is_signed_above_the_quote_even_when_it_quotes_our_signature(app: App, practice: Practice,
                                                                             fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "imap")
    fakemail.deliver("practice", b"From: Grace Holloway <grace.holloway@patientmail.example>\r\n"
                                 b"Subject: Re: Recall\r\nMessage-ID: <r1@p>\r\n\r\nYes please.\r\n"
                                 b"> --\r\n> Bright Smile Dental\r\n> 14 River Street, Bathwick, BA2 4QR\r\n"
                                 b"> 01225 555 010\r\n")
    app.send_receive_now()
    (msg,) = app.inbox_messages(show_all=True)
    plain, _ = parts(app, app.reply(msg.id, "Booked for Tuesday.", signature=True))
    mine, quote = plain.split(" wrote:\n")
    assert mine.startswith("Booked for Tuesday.\n\n--\nBright Smile Dental\n14 River Street")
    assert "> Bright Smile Dental" in quote


def test_category_and_description_default_from_the_template_and_are_reception_s_to_change(app: App) -> None:
    rid = app.compose(NewEmail("P043", template="RECALL"))
    item = app.outbox_item(rid)
    recall = app.templates.get("RECALL")
    assert (item["category"], item["description"]) == (recall.category, recall.description)
    rid = app.compose(NewEmail("P043", template="RECALL", category="Dentures",
                               description="Dentures reminder\r\n15th\u2028November\u202e"))
    item = app.outbox_item(rid)
    assert (item["category"], item["description"]) == ("Dentures", "Dentures reminder 15th November")
    assert "Dentures" in app.categories() and recall.category in app.categories()
    free = app.outbox_item(app.compose(NewEmail("P043", subject="Hi", text="x", category="Results")))
    assert free["category"] == "Results" and free["description"] == ""

    # named again later, a sent one too: an event of the outbox, in the item's history
    app.outbox.apply(rid, app_event("claim"), app.now())
    with pytest.raises(InputInvalid):  # on its way to the server: not now
        app.describe_email(rid, "Recalls", "x")
    app.outbox.apply(rid, app_event("delivered"), app.now())
    changed = app.describe_email(rid, " Recalls\n", "Six-month recall")
    assert (changed["category"], changed["description"], changed.status.value) == ("Recalls", "Six-month recall", "sent")
    assert changed["history"][-1]["event"] == "described"
    history = {h["id"]: h for h in app.inbox.contact_history("P043")}
    assert history[rid]["category"] == "Recalls" and history[rid]["description"] == "Six-month recall"


def app_event(name: str):  # noqa: ANN201 - Event
    from engine.service.app import Event

    return Event(name)


def test_a_draft_keeps_its_category_and_description_when_edited(app: App) -> None:
    rid = app.compose(NewEmail("P043", subject="Hi", text="x", as_draft=True, category="Notes", description="one"))
    opened = app.composer.draft_contents(rid)
    assert (opened["category"], opened["description"]) == ("Notes", "one")
    app.composer.revise_draft(rid, app.now(), "Hi", "y", [], [], [], send=False, description="two")
    assert (app.outbox_item(rid)["category"], app.outbox_item(rid)["description"]) == ("Notes", "two")


def test_a_file_opened_is_a_private_copy_in_the_data_folder_cleaned_later(app: App) -> None:
    xray = Attachment("../../x-ray\u202egpj.exe", b"\xff\xd8 not really a jpeg", "image/jpeg")
    path = app.open_copy(xray)
    assert path.read_bytes() == xray.data and path.name == "x-raygpj.exe"
    assert app.folder / "opened" in path.parents  # the practice's own folder, not the shared /tmp
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    again = app.open_copy(xray)  # the same name twice: two copies, neither replaced
    assert again != path and path.exists()
    day_old = time.time() - 2 * 24 * 3600
    os.utime(path.parent, (day_old, day_old))
    app.open_copy(Attachment("b.txt", b"b", "text/plain"))  # the next open cleans what is a day old
    assert not path.exists() and again.exists()
    os.utime(again.parent, (day_old, day_old))
    app.start()  # and so does the service's start, if nothing is opened again
    app.stop()
    assert not again.exists()


def test_save_as_refuses_to_replace_a_file_unless_told(app: App, tmp_path: Path) -> None:
    letter = Attachment("letter.pdf", b"%PDF-1.4 new", "application/pdf")
    there = tmp_path / "letter.pdf"
    there.write_bytes(b"%PDF-1.4 kept")
    with pytest.raises(InputInvalid) as exc:
        app.save_attachment(letter, there)
    assert "already" in exc.value.message and there.read_bytes() == b"%PDF-1.4 kept"
    assert app.save_attachment(letter, there, replace=True).read_bytes() == b"%PDF-1.4 new"
    assert app.save_attachment(letter, tmp_path / "CON\u202e.pdf") == tmp_path / "_CON.pdf"
    with pytest.raises(InputInvalid):
        app.save_attachment(letter, tmp_path / "no such folder" / "a.pdf")


def test_a_sent_item_is_forwarded_with_reception_s_words_and_its_files_inside(app: App) -> None:
    pdf = Attachment("results.pdf", b"%PDF-1.4 results", "application/pdf")
    rid = app.compose(NewEmail("P043", subject="Your results", text="Attached.", attached=(pdf,)))
    fwd = app.forward_sent(rid, "a.okafor@brightsmile.example", subject="Fwd: results for Ms Holloway",
                           text="For your files.\n\n---- Forwarded message ----\nAttached.")
    item = app.outbox_item(fwd)
    assert item.subject == "Fwd: results for Ms Holloway"
    msg = email.message_from_bytes(app.outbox.blob(app.outbox.get(fwd)), policy=email.policy.default)
    assert msg.get_body(("plain",)).get_content().startswith("For your files.")
    (original,) = [p for p in msg.iter_attachments() if p.get_content_type() == "message/rfc822"]
    inner = original.get_content()
    assert [p.get_filename() for p in inner.iter_attachments()] == ["results.pdf"]
