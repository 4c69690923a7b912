"""The fake servers' bounce: a standard report an independent reader (the standard library) can read."""

from __future__ import annotations

import email
import email.policy

from tools.fakemail import dsn
from tools.fakemail.faults import Faults

SENT = b"From: practice@example.test\r\nTo: a@example.com\r\nMessage-ID: <m1@example.test>\r\n\r\nHello\r\n"


def test_a_permanent_bounce_is_a_delivery_status_report_returning_the_headers_only() -> None:
    msg = email.message_from_bytes(dsn.build("practice@example.test", "a@example.com", 550, SENT))
    assert msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "delivery-status"
    status = next(p for p in msg.walk() if p.get_content_type() == "message/delivery-status").get_payload()[1]
    assert status["Action"] == "failed" and status["Status"] == "5.1.1"
    headers = next(p for p in msg.walk() if p.get_content_type() == "text/rfc822-headers").get_payload()
    assert "Message-ID: <m1@example.test>" in headers and "Hello" not in headers


def test_a_4xx_bounce_says_delayed() -> None:
    msg = email.message_from_bytes(dsn.build("practice@example.test", "a@example.com", 451, SENT))
    status = next(p for p in msg.walk() if p.get_content_type() == "message/delivery-status").get_payload()[1]
    assert status["Action"] == "delayed" and status["Status"].startswith("4.")


def test_a_bounce_fault_names_its_recipient_and_counts_down() -> None:
    faults = Faults()
    faults.add("smtp", "bounce", "bounce", text="B@example.com", code=552, times=1)
    assert faults.bounces(["a@example.com"]) == []
    ((rcpt, fault),) = faults.bounces(["a@example.com", "b@example.com"])
    assert rcpt == "b@example.com" and fault.code == 552
    assert faults.bounces(["b@example.com"]) == []  # used up
    faults.add("smtp", "bounce", "bounce")
    assert [r for r, _ in faults.bounces(["x@y.z", "p@q.r"])] == ["x@y.z", "p@q.r"]  # no text: everyone
