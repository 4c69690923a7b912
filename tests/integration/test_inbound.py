"""Inbound against the fake IMAP and POP3 servers with TLS: mail arrives once,
lands on the right patient, and nothing a patient wrote is ever lost."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from imapclient import IMAPClient

from engine.adapters.clock import FakeClock
from engine.adapters.store import RID
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.conftest import ROOT
from tests.integration.helpers import configure_incoming, draft
from tools.fakemail import FakeMail

HOSTILE = ROOT / "fixtures" / "hostile"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def mail(sender: str, subject: str, mid: str, extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: practice@example.test\r\nSubject: {subject}\r\nMessage-ID: <{mid}@p.example>\r\n"
            f"Date: Tue, 24 Nov 2026 07:30:00 +0000\r\n{extra}\r\nHello\r\n").encode()


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice, FakeClock(T0))
    e.smtp_timeout = 5
    yield e
    e.stop()


def patient(practice: Practice, **match: str) -> dict:
    return next(r for r in practice.directory.list("patients") if all(r[k] == v for k, v in match.items()))


def by_subject(engine: Engine) -> dict[str, dict]:
    return {r["subject"]: r for r in engine.inbox.list(show_all=True)}


@pytest.mark.parametrize("implicit", [True, False], ids=["imaps", "starttls"])
def test_imap_first_then_incremental_sync_and_filing(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                     implicit: bool) -> None:
    configure_incoming(practice, fakemail, "imap", implicit)
    own = patient(practice, first_name="Grace")  # her own address
    family = [r for r in practice.directory.list("patients") if r["family_id"] == "F01"]
    child = next(r for r in family if r["first_name"] == "Dev")
    # yesterday we wrote to the family's younger child, at the shared address
    sent_id = engine.outbox.add_draft(draft(to=child["email"], subject="Dev's check-up"), T0, patient_id=child["id"])
    assert engine.send_receive_now()["sent"] == 1
    our_mid = engine.outbox.get(sent_id)["message_id"]
    fakemail.deliver("practice", mail(own["email"], "From Grace", "g1"))
    fakemail.deliver("practice", mail(family[0]["email"], "Family question", "f1"))
    fakemail.deliver("practice", mail(family[0]["email"], "Re: Dev's check-up", "f2", f"In-Reply-To: {our_mid}\r\n"))
    fakemail.deliver("practice", mail("stranger@example.com", "Who?", "s1"))
    fakemail.deliver("practice", mail(own["email"], "Out of office", "a1", "Auto-Submitted: auto-replied\r\n"))
    report = engine.send_receive_now()
    assert (report["received"], report["filed"]) == (5, 2)
    got = by_subject(engine)
    assert got["From Grace"]["patient_id"] == own["id"] and got["From Grace"]["tags"] == ["Patient"]
    assert got["Family question"]["patient_id"] == "" and set(got["Family question"]["candidates"]) == \
        {r["id"] for r in family}
    assert got["Re: Dev's check-up"]["patient_id"] == child["id"]  # the thread beats the shared address
    assert got["Who?"]["patient_id"] == "" and got["Who?"]["candidates"] == []
    assert got["Out of office"]["patient_id"] == "" and "Auto-reply" in got["Out of office"]["tags"]
    # the default view: untagged, not actioned
    assert {r["subject"] for r in engine.inbox.list()} == {"Family question", "Who?"}
    # incremental: only what is new
    assert engine.send_receive_now()["received"] == 0
    fakemail.deliver("practice", mail("stranger@example.com", "Again", "s2"))
    assert engine.send_receive_now()["received"] == 1
    # the server's read state is untouched
    with IMAPClient("localhost", port=fakemail.ports["imap"]["imaps"],
                    ssl_context=ssl.create_default_context(cafile=str(fakemail.ca_file))) as c:
        c.login(fakemail.user().username, fakemail.user().password)
        c.select_folder("INBOX")
        assert all(b"\\Seen" not in flags for flags in c.get_flags(c.search()).values())


def test_uidvalidity_change_resyncs_without_duplicates(practice: Practice, engine: Engine,
                                                       fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "imap")
    for i in range(5):
        fakemail.deliver("practice", mail("stranger@example.com", f"m{i}", f"u{i}"))
    assert engine.send_receive_now()["received"] == 5
    fakemail.change_uidvalidity("practice")
    fakemail.deliver("practice", mail("stranger@example.com", "after", "u5"))
    assert engine.send_receive_now()["received"] == 1
    assert len(engine.inbox.list(show_all=True)) == 6


def test_dropped_mid_fetch_loses_nothing_and_doubles_nothing(practice: Practice, engine: Engine,
                                                            fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "imap")
    for i in range(3):
        fakemail.deliver("practice", mail("stranger@example.com", f"d{i}", f"d{i}"))
    fakemail.faults.add("imap", "fetch", "drop", times=1)
    first = engine.send_receive_now()
    assert first["received"] == 0 and "closed the connection" in first["errors"][-1]["error"]
    assert engine.send_receive_now()["received"] == 3
    assert engine.send_receive_now()["received"] == 0
    assert len(engine.inbox.list(show_all=True)) == 3


def test_pop3_leave_on_server_then_delete_after_storing(practice: Practice, engine: Engine,
                                                        fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "pop3", implicit=False, leave_on_server=True)
    for i in range(3):
        fakemail.deliver("practice", mail("stranger@example.com", f"p{i}", f"p{i}"))
    assert engine.send_receive_now()["received"] == 3
    assert engine.send_receive_now()["received"] == 0
    assert len(fakemail.mailbox_names("practice")) == 3  # still on the server
    practice.settings.set("incoming.leave_on_server", "false")
    fakemail.deliver("practice", mail("stranger@example.com", "p3", "p3"))
    assert engine.send_receive_now()["received"] == 1
    assert fakemail.mailbox_names("practice") == []  # deleted, but only once stored here
    assert len(engine.inbox.list(show_all=True)) == 4


def test_pop3_drop_mid_retr_then_complete(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "pop3", leave_on_server=False)
    for i in range(3):
        fakemail.deliver("practice", mail("stranger@example.com", f"r{i}", f"r{i}"))
    fakemail.faults.add("pop3", "fetch", "drop", times=1)
    assert engine.send_receive_now()["received"] == 0
    assert len(fakemail.mailbox_names("practice")) == 3  # nothing deleted before it was stored
    assert engine.send_receive_now()["received"] == 3
    assert fakemail.mailbox_names("practice") == []


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_disabled_incoming_does_nothing_then_backfills(practice: Practice, engine: Engine, fakemail: FakeMail,
                                                       protocol: str) -> None:
    configure_incoming(practice, fakemail, protocol)
    fakemail.deliver("practice", mail("stranger@example.com", "before", "b0"))
    assert engine.send_receive_now()["received"] == 1
    practice.settings.set("incoming.enabled", "false")
    fakemail.faults.add(protocol, "connect", "refuse")  # a broken server is no error while disabled
    fakemail.deliver("practice", mail("stranger@example.com", "while off", "b1"))
    report = engine.send_receive_now()
    assert report["received"] == 0 and report["errors"] == []
    assert practice.settings.get("incoming.host") == "localhost"  # other incoming values kept
    fakemail.faults.clear()
    practice.settings.set("incoming.enabled", "true")
    assert engine.send_receive_now()["received"] == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_hostile_corpus_is_stored_and_listed(practice: Practice, engine: Engine, fakemail: FakeMail,
                                             protocol: str) -> None:
    configure_incoming(practice, fakemail, protocol)
    files = sorted(HOSTILE.glob("*.eml"))
    for f in files:
        fakemail.deliver("practice", f.read_bytes())
    report = engine.send_receive_now()
    assert report["received"] == len(files), report
    stored = engine.inbox.list(show_all=True)
    assert len(stored) == len(files)
    assert engine.send_receive_now()["received"] == 0  # never fetched again in a loop
    for r in stored:
        assert len(r["subject"]) <= 2000 and "\n" not in r["subject"] and "\x00" not in r["subject"]
        content = engine.inbox.content(r[RID])  # opening never crashes either
        for a in content.attachments:
            assert "/" not in a.filename and "\\" not in a.filename and not a.filename.startswith(".")
            assert all(ord(ch) >= 32 for ch in a.filename)
    names = [a.filename for r in stored for a in engine.inbox.content(r[RID]).attachments]
    assert "x" in names and "evil.exe" in names


def test_manual_filing_tags_and_timeline(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "imap")
    fakemail.deliver("practice", mail("patel.family@mailhome.example", "Family question", "t1"))
    engine.send_receive_now()
    (msg,) = engine.inbox.list()
    child = msg["candidates"][0]
    engine.inbox.file(msg[RID], T0, patient_id=child)
    engine.inbox.mark_read(msg[RID], T0)
    engine.inbox.set_actioned(msg[RID], T0)
    got = engine.inbox.get(msg[RID])
    assert got["patient_id"] == child and got["read"] and got["actioned"]
    assert [e["event"] for e in got["timeline"]] == ["received", "filed", "read", "actioned"]
    assert engine.inbox.list() == []
    assert [r[RID] for r in engine.inbox.list(tags=["Patient"], include_actioned=True)] == [msg[RID]]
    engine.inbox.delete(msg[RID], T0)
    assert engine.inbox.list(show_all=True) == [] and len(engine.inbox.list(deleted=True)) == 1
    engine.inbox.restore(msg[RID], T0)
    history = engine.inbox.contact_history(child)
    assert history and history[0]["type"] == "received"


def test_cli_inbox_list_and_file(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    configure_incoming(practice, fakemail, "imap")
    fakemail.deliver("practice", mail("patel.family@mailhome.example", "Shared", "c1"))
    engine.send_receive_now()
    folder = practice.folder
    practice.close()
    run = lambda *a: subprocess.run([sys.executable, "-m", "engine", *a, "--data", str(folder)],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, timeout=60)
    rows = json.loads(run("inbox", "list", "--json").stdout)
    assert rows[0]["subject"] == "Shared" and len(rows[0]["candidates"]) == 4
    out = run("inbox", "file", str(rows[0]["id"]), "--patient", rows[0]["candidates"][0])
    assert out.returncode == 0, out.stderr
    assert json.loads(run("inbox", "list", "--json").stdout) == []
    assert json.loads(run("inbox", "list", "--all", "--json").stdout)[0]["patient_id"] == rows[0]["candidates"][0]
    bad = run("inbox", "file", str(rows[0]["id"]), "--patient", "NOPE")
    assert bad.returncode == 1 and "NOPE" in bad.stderr


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_pop3_retrieves_every_byte_with_or_without_pipelining(practice: Practice, engine: Engine,
                                                             fakemail: FakeMail, pipelining: bool) -> None:
    """Forty messages (more than the RETR window) with lines a POP3 server must dot-stuff."""
    configure_incoming(practice, fakemail, "pop3")
    if not pipelining:
        fakemail.faults.add("pop3", "capa", "hide", text="PIPELINING")
    sent = {}
    for i in range(40):
        body = f"line one\r\n.\r\n..two dots\r\n.leading dot {i}\r\n" + "x" * (i * 97) + "\r\n"
        raw = mail("stranger@example.com", f"dots {i}", f"dots{i}").replace(b"Hello\r\n", body.encode())
        fakemail.deliver("practice", raw)
        sent[f"dots {i}"] = raw
    assert engine.send_receive_now()["received"] == 40
    stored = {r["subject"]: practice.store.blobs.get(r["blob"]) for r in engine.inbox.list(show_all=True)}
    assert stored == sent
    assert ("CAPA" in fakemail.faults.commands("pop3")) and engine.send_receive_now()["received"] == 0


def test_a_flooding_sender_is_held_quietly_across_passes_and_restarts(practice: Practice, fakemail: FakeMail) -> None:
    """More than 30 from one sender within an hour: tagged Flood (out of the default view),
    whether they came in one pass or several, and still after a restart; an hour later, not."""
    from datetime import timedelta

    configure_incoming(practice, fakemail, "imap")
    clock = FakeClock(T0)
    engine = Engine(practice, clock)
    events: list[dict] = []
    engine.subscribe(lambda name, details: events.append(details) if name == "new_mail" else None)
    try:
        for check in range(3):  # 12 a check, ten minutes apart
            for i in range(12):
                fakemail.deliver("practice", mail("loop@example.com", f"f{check}-{i}", f"f{check}-{i}"))
            assert engine.send_receive_now()["received"] == 12
            clock.advance(timedelta(minutes=10))
        flooded = {r["subject"] for r in engine.inbox.list(tags=["Flood"])}
        assert flooded == {f"f2-{i}" for i in range(6, 12)}  # the 31st to the 36th
        assert [e["flooded"] for e in events] == [0, 0, 6]  # the kiosk leaves these out of its alert
        assert not any(r["subject"] in flooded for r in engine.inbox.list())  # held out of the default view
    finally:
        engine.stop()
    again = Engine(practice, clock)  # a restart remembers the last hour from the stored inbox
    try:
        fakemail.deliver("practice", mail("loop@example.com", "after restart", "r1"))
        fakemail.deliver("practice", mail("someone.else@example.com", "not a flood", "r2"))
        again.send_receive_now()
        tags = {r["subject"]: r["tags"] for r in again.inbox.list(show_all=True)}
        assert "Flood" in tags["after restart"] and "Flood" not in tags["not a flood"]
        clock.advance(timedelta(minutes=61))
        fakemail.deliver("practice", mail("loop@example.com", "an hour later", "r3"))
        again.send_receive_now()
        assert "Flood" not in {r["subject"]: r["tags"] for r in again.inbox.list(show_all=True)}["an hour later"]
    finally:
        again.stop()


def test_pop3_left_on_server_asks_only_for_what_is_new_unless_the_mailbox_changed(
        practice: Practice, engine: Engine, fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    import poplib

    configure_incoming(practice, fakemail, "pop3", leave_on_server=True)
    for i in range(5):
        fakemail.deliver("practice", mail("stranger@example.com", f"u{i}", f"u{i}"))
    assert engine.send_receive_now()["received"] == 5
    for i in range(5, 7):
        fakemail.deliver("practice", mail("stranger@example.com", f"u{i}", f"u{i}"))
    fakemail.faults.transcript.clear()
    assert engine.send_receive_now()["received"] == 2
    said = fakemail.faults.commands("pop3")
    assert "UIDL" not in said and {"UIDL 5", "UIDL 6", "UIDL 7"} <= set(said)  # no whole listing

    # another mail client deletes the first message: positions shift, so the whole listing is read
    other = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    other.user(fakemail.user().username)
    other.pass_(fakemail.user().password)
    other.dele(1)
    other.quit()
    fakemail.deliver("practice", mail("stranger@example.com", "u7", "u7"))
    fakemail.faults.transcript.clear()
    assert engine.send_receive_now()["received"] == 1
    assert "UIDL" in fakemail.faults.commands("pop3")
    assert engine.send_receive_now()["received"] == 0
    assert sorted(r["subject"] for r in engine.inbox.list(show_all=True)) == [f"u{i}" for i in range(8)]


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_stop_returns_while_a_fetch_hangs_mid_message_and_nothing_is_lost(practice: Practice, fakemail: FakeMail,
                                                                         protocol: str) -> None:
    """The read-ahead thread is blocked on a server that sent half a message and went quiet."""
    import threading

    configure_incoming(practice, fakemail, protocol)
    for i in range(3):
        fakemail.deliver("practice", mail("stranger@example.com", f"h{i}", f"h{i}"))
    hanging = threading.Event()
    take = fakemail.faults.take

    def noticing(proto: str, step: str, session: int = 0):  # noqa: ANN202
        fault = take(proto, step, session)
        if fault is not None and step == "fetch":
            hanging.set()
        return fault

    fakemail.faults.take = noticing  # type: ignore[method-assign]
    fakemail.faults.add(protocol, "fetch", "hang", times=1)
    engine = Engine(practice, FakeClock(T0))
    engine.smtp_timeout = 60
    engine.start()
    asked = threading.Thread(target=lambda: engine.send_receive_now(timeout=30), daemon=True)
    asked.start()  # reception pressed Send/Receive; the worker runs the pass
    assert hanging.wait(10)
    worker = engine._thread
    engine.stop()  # cuts the connection the read-ahead thread waits on
    assert worker is not None and not worker.is_alive()
    again = Engine(practice, FakeClock(T0))
    try:
        assert again.send_receive_now()["received"] == 3  # what was half-read is fetched whole
        assert again.send_receive_now()["received"] == 0
    finally:
        again.stop()
