"""A practice opened on a database URL runs on the PostgreSQL store (the data folder keeps only
keys, logs and local files); the same walk on both backends: queue through the Outbox, read it
back from another process's view, send it to the fake server and receive a reply."""

from __future__ import annotations

from datetime import datetime, timezone

from engine.adapters.clock import FakeClock
from engine.adapters.storage import RID
from engine.service.demo import load_demo
from engine.service.engine import Engine
from engine.service.outbox import Outbox
from tests.backends import Backend
from tests.integration.helpers import configure, configure_incoming, draft
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def test_queue_through_the_outbox_and_read_it_back(backend: Backend) -> None:
    with backend.practice() as p:
        load_demo(p)
        who = p.directory.list("patients")[0]
        rid = Outbox(p.store).add_draft(draft(to=who["email"], subject="Your check-up"), T0, patient_id=who["id"])
        with backend.practice(writer=False) as reader:
            item = Outbox(reader.store).get(rid)
            assert (item["status"], item["subject"], item["patient_id"], item[RID]) == \
                ("ready", "Your check-up", who["id"], rid)
            assert b"Subject: Your check-up" in Outbox(reader.store).blob(item)
    if backend.url is not None:
        assert type(p.store).__name__ == "PgStore"
        assert not (backend.folder / "db").exists()  # no TinyDB files: the records are in the database
        assert (backend.folder / "postgres" / "db").is_dir()  # the outbox's local crash journal lives here


def test_send_and_receive_on_each_backend(backend: Backend, fakemail: FakeMail) -> None:
    with backend.practice() as p:
        load_demo(p)
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        e = Engine(p, FakeClock(T0))
        e.smtp_timeout = 5
        try:
            patients = p.directory.list("patients")
            emails = [r["email"] for r in patients]
            who = next(r for r in patients if r["email"] and emails.count(r["email"]) == 1)  # files by address
            rid = e.outbox.add_draft(draft(to=who["email"], subject="Your check-up"), T0, patient_id=who["id"])
            fakemail.deliver("practice", (f"From: {who['email']}\r\nTo: practice@example.test\r\nSubject: Thanks\r\n"
                                          "Message-ID: <t1@p.example>\r\n\r\nSee you\r\n").encode())
            report = e.send_receive_now()
            assert (report["sent"], report["received"]) == (1, 1)
            assert e.outbox.get(rid)["status"] == "sent"
            sent = fakemail.wait_for_sent(1)
            assert len(sent) == 1 and b"Subject: Your check-up" in sent[0]["data"]
            got = e.inbox.list(show_all=True)
            assert [(m["subject"], m["patient_id"]) for m in got] == [("Thanks", who["id"])]
        finally:
            e.stop()
