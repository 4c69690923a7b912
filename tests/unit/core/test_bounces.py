"""Bounce classification: the corpus in fixtures/bounces/ (standard reports, the big providers'
own wording, a vacation reply, a read receipt, a bounce for a message we never sent, one that
quotes a patient's other message), and hostile input that must never make a bounce or a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import bounces

CORPUS = Path(__file__).resolve().parents[3] / "fixtures" / "bounces"
EXPECTED = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text()).items() if not k.startswith("_")}


def test_every_file_in_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bounce_in_the_corpus_is_classified(name: str) -> None:
    found = bounces.classify((CORPUS / name).read_bytes())
    want = EXPECTED[name]
    if want is None:
        assert found is None
        return
    assert found is not None, name
    got = {k: getattr(found, k) for k in want}
    assert got == want


def test_a_quoted_message_id_is_never_taken_for_the_returned_one() -> None:
    found = bounces.classify((CORPUS / "quoting-other-message.eml").read_bytes())
    assert found is not None and found.message_id.endswith("ours-quoting@practice.example>")


def test_a_vacation_reply_from_a_system_address_is_not_a_bounce() -> None:
    raw = (b"From: postmaster@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\n"
           b"Delivery to the following recipient failed permanently: I am away.\r\n")
    assert bounces.classify(raw) is None


def test_a_person_quoting_a_bounce_is_not_a_bounce() -> None:
    raw = (b"From: Ann Lee <ann.lee@example.org>\r\nSubject: Fwd: Delivery Status Notification (Failure)\r\n\r\n"
           b"Delivery to the following recipient failed permanently: 550 5.1.1 why did I get this?\r\n")
    assert bounces.classify(raw) is None


def test_a_success_report_is_not_a_bounce() -> None:
    raw = (CORPUS / "standard-user-unknown.eml").read_bytes().replace(b"Action: failed", b"Action: delivered")
    assert bounces.classify(raw) is None


@pytest.mark.parametrize(("text", "status", "reason"), [
    ("552 Mailbox full", "", "the mailbox is full"),
    ("550 user unknown", "", "the mailbox does not exist"),
    ("554 blocked by policy: listed on a block list", "", "rejected as spam"),
    ("", "5.2.2", "the mailbox is full"),
    ("", "5.1.1", "the mailbox does not exist"),
    ("", "5.7.1", "rejected as spam"),
    ("", "5.3.4", "the receiving server refused it"),
])
def test_reasons_in_words(text: str, status: str, reason: str) -> None:
    assert bounces.reason_for(text, status) == reason


def test_the_description_says_delayed_for_a_temporary_bounce() -> None:
    b = bounces.Bounce(False, "the mailbox is full", "4.2.2")
    assert b.description.startswith("delivery is delayed") and "mailbox is full" in b.description


hostile = st.sampled_from(["\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\u202e", "=?utf-8?q?=0D=0A?=",
                           "x" * 5000, "", "5.1.1", "<a@b>", "Action: failed", "Message-ID: <evil@x>"])


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile, max_size=8), st.sampled_from(list(EXPECTED)))
def test_hostile_text_in_a_bounce_never_crashes_and_stays_one_line(pieces: list[str], name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    evil = "".join(pieces).encode("utf-8", "surrogatepass")
    mutated = raw.replace(b"550", evil, 1).replace(b"Subject:", b"Subject: " + evil, 1)
    found = bounces.classify(mutated)
    if found is not None:
        for value in (found.reason, found.diagnostic, found.recipient, found.message_id, found.description):
            assert "\n" not in value and "\r" not in value and "\u2028" not in value and "\u202e" not in value
        assert len(found.diagnostic) <= 300


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_at_all(raw: bytes) -> None:
    bounces.classify(raw)
    bounces.classify(b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" + raw)


phrases = st.sampled_from(["Delivery to the following recipient failed permanently:", "550 5.1.1 user unknown",
                           "Undeliverable:", "Mail delivery failed", "Out of office", "mailbox full", "5.2.2",
                           "----- Original message -----", "Message-ID: <x@practice.example>", "Failure Notice",
                           "Delivery has failed to these recipients or groups", "\r\n", "Auto-Submitted: auto-replied"])
people = st.sampled_from(["ann.lee@example.org", "Mailer <ann@example.org>", "postmaster.fan@example.org",
                          "daemon@example.org", "Bob <mailerdaemon-fan@example.org>"])


@settings(max_examples=200, deadline=None)
@given(people, st.lists(phrases, max_size=4), st.lists(phrases, max_size=12), st.booleans())
def test_a_person_is_never_taken_for_a_bounce(sender: str, subject: list[str], body: list[str], auto: bool) -> None:
    """Whatever a patient writes (or their out-of-office says), only a mail system bounces:
    a message from a person that is not a delivery-status report is never a bounce."""
    head = f"From: {sender}\r\nSubject: {' '.join(subject).replace(chr(13), ' ').replace(chr(10), ' ')}\r\n"
    raw = (head + ("Auto-Submitted: auto-replied\r\n" if auto else "") + "\r\n" + "\r\n".join(body)).encode()
    assert bounces.classify(raw) is None


def test_a_patient_forwarding_a_bounce_is_not_a_bounce() -> None:
    dsn = (CORPUS / "standard-user-unknown.eml").read_bytes()
    raw = (b"From: Ann Lee <ann.lee@example.org>\r\nTo: reception@practice.example\r\nSubject: Fwd: this came back\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=fw\r\n\r\n--fw\r\nContent-Type: text/plain\r\n\r\n"
           b"Why did I get this?\r\n--fw\r\nContent-Type: message/rfc822\r\n\r\n" + dsn + b"\r\n--fw--\r\n")
    assert bounces.classify(raw) is None


def test_a_report_without_its_report_type_is_still_read_by_its_status_part() -> None:
    raw = (CORPUS / "standard-user-unknown.eml").read_bytes().replace(b" report-type=delivery-status;", b"")
    found = bounces.classify(raw)
    assert found is not None and found.status == "5.1.1"
    receipt = (CORPUS / "read-receipt.eml").read_bytes().replace(b" report-type=disposition-notification;", b"")
    assert bounces.classify(receipt) is None


def test_our_own_address_in_a_text_notice_is_not_taken_for_the_recipient() -> None:
    raw = (b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nTo: reception@practice.example\r\n"
           b"Subject: Delivery Status Notification (Failure)\r\n\r\n"
           b"Hello reception@practice.example,\r\n\r\nYour message wasn't delivered to nobody@example.com because "
           b"the address couldn't be found.\r\n\r\n550 5.1.1 The email account that you tried to reach does not exist.\r\n")
    found = bounces.classify(raw)
    assert found is not None and found.recipient == "nobody@example.com" and found.permanent
