"""A click never waits for the mail server (issue 15, "No lock across I/O").

Opening a message in the kiosk marks it read on the GUI thread. A Send/Receive pass runs
against a server that has stopped answering quickly: every reply of the fake server is
delayed (a fault switched on once the pass has logged in, so it bites mid-pass). While the
server is in the middle of such a delay, marking another message read must return, and the
pass must still be going when it does: the order of events is asserted, never a duration.
(The `join` bound below only stops a failing test from hanging; it is not a speed target.)
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timezone
from typing import Any

import pytest

from engine.adapters.store import RID
from engine.service.engine import Engine
from engine.service.inbox import Inbox, ReceiveReport
from engine.service.practice import Practice
from tests.integration.helpers import configure_incoming
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
SLOW = 600.0  # each reply's delay once the fault is on: the pass cannot end by itself during the test
CLIENT_TIMEOUT = 900.0  # nor may the client give up first (that would end the pass, and the lock with it)
STUCK = 60.0  # a mark_read still waiting after this long waits for the server: the finding


def mail(subject: str, mid: str) -> bytes:
    return (f"From: stranger@example.com\r\nTo: practice@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{mid}@p.example>\r\nDate: Tue, 24 Nov 2026 07:30:00 +0000\r\n\r\nHello\r\n").encode()


def _server_mid_delay(fakemail: FakeMail, protocol: str) -> bool:
    """The server has taken a delay fault for a reply and not yet written any reply after it."""
    events = [e for e in list(fakemail.faults.transcript) if e.protocol == protocol]
    fired = [i for i, e in enumerate(events) if e.direction == "fault" and e.text == "any:delay"]
    return bool(fired) and not any(e.direction == "out" for e in events[fired[0] + 1:])


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_mark_read_returns_while_a_pass_waits_for_a_slow_server(practice: Practice, fakemail: FakeMail,
                                                                protocol: str) -> None:
    configure_incoming(practice, fakemail, protocol, leave_on_server=True)
    settings = dataclasses.replace(Engine(practice).incoming_settings(), timeout=CLIENT_TIMEOUT)
    inbox = Inbox.for_practice(practice)

    def receive(on_session: Any = None) -> ReceiveReport:
        if protocol == "imap":
            return inbox.receive_imap(settings, T0, on_session)
        return inbox.receive_pop3(settings, T0, True, on_session)

    fakemail.deliver("practice", mail("Already here", "m1"))
    assert receive().received == 1
    (first,) = inbox.list()
    for n in range(2, 6):
        fakemail.deliver("practice", mail(f"New {n}", f"m{n}"))

    in_session = threading.Event()
    boxes: list[Any] = []

    def slow_from_now(box: Any) -> None:  # the pass has logged in: from here on every reply is late
        boxes.append(box)
        fakemail.faults.add(protocol, "any", "delay", seconds=SLOW)
        in_session.set()

    outcome: dict[str, Any] = {}
    passing = threading.Thread(target=lambda: outcome.update(report=receive(slow_from_now)), daemon=True)
    passing.start()
    try:
        assert in_session.wait(STUCK), "the pass never logged in"
        while not _server_mid_delay(fakemail, protocol):  # a condition, polled: the next reply is being held
            assert passing.is_alive(), "the pass ended before the server held a reply"
            in_session.wait(0.01)

        order: list[str] = []

        def click() -> None:
            inbox.mark_read(first[RID], T0)
            order.append("read" if passing.is_alive() and _server_mid_delay(fakemail, protocol) else "read late")

        clicking = threading.Thread(target=click, daemon=True)
        clicking.start()
        clicking.join(STUCK)
        stuck = clicking.is_alive()
    finally:
        fakemail.faults.clear()
        for box in boxes:
            box.abort()  # end the held pass now (it fails, which is the server's fault, not ours)
        passing.join(STUCK)
    assert not stuck, "mark_read waited for the mail server (the inbox's lock is held across the network)"
    assert order == ["read"], "mark_read returned only after the pass had finished"
    assert inbox.get(first[RID])["read"] is True
    assert not passing.is_alive()
