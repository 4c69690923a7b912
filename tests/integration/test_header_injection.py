"""The injection matrix, wired half: hostile text enters where a person, a CSV or a stranger
puts it (the CLI, an import rendered by a template, mail received then replied to and
forwarded), the real engine sends it to the fake SMTP server, and the bytes in its spool
(spool/sent/) are read by two independent parsers. The header set must be exactly what we
meant, the envelope only the intended recipients, each value the one-line literal text."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.store import RID
from engine.core.headers import flatten
from engine.service.compose import Composer
from engine.service.demo import load_demo
from engine.service.engine import Engine
from tests.conftest import ROOT
from tests.integration.headercheck import Reading, read
from tests.integration.helpers import configure, configure_incoming, draft, open_practice
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
EVIL = "evil@attacker.example"
PLAIN = ("content-transfer-encoding", "content-type", "date", "from", "message-id", "mime-version", "subject", "to")


def q(text: str) -> str:
    return "=?utf-8?q?" + "".join(c if c.isalnum() and c.isascii() else "".join(f"={b:02X}" for b in c.encode())
                                  for c in text) + "?="


def b(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


# Every way of smuggling a line end that survives being typed (no raw break in the text).
SMUGGLED = [q(f"hi\r\nBcc: {EVIL}"), q(f"hi\u2028Bcc: {EVIL}"), b(f"hi\x85Reply-To: {EVIL}"), b(f"hi\x0bBcc: {EVIL}"),
            b(f"hi\x0cBcc: {EVIL}"), f"=?utf-8?q?hi=0D?= =?utf-8?q?=0ABcc:_{EVIL}?=", q(f"hi\r\n Bcc: {EVIL}"),
            q(q(f"hi\r\nBcc: {EVIL}")), b(b(f"hi\u2029Bcc: {EVIL}"))]
RAW = [f"hi\r\nBcc: {EVIL}", f"hi\nBcc: {EVIL}", f"hi\rBcc: {EVIL}", f"hi\u2028Bcc: {EVIL}", f"hi\u2029Bcc: {EVIL}",
       f"hi\x85Bcc: {EVIL}", f"hi\x0bBcc: {EVIL}", f"hi\x0cBcc: {EVIL}", f"hi\r\n\tBcc: {EVIL}"]


def pm(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--data", str(data)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def spooled(fm: FakeMail) -> list[tuple[list[str], bytes]]:
    """What the server wrote to spool/sent/: (envelope recipients, message bytes) per message."""
    out = []
    for path in sorted((fm.spool / "sent" / "new").iterdir()):
        data = path.read_bytes()
        return_path, envelope, message = data.split(b"\r\n", 2)
        assert return_path.startswith(b"Return-Path: ") and envelope.startswith(b"X-Envelope-To: ")
        out.append(([a.strip() for a in envelope[len(b"X-Envelope-To: "):].decode().split(",")], message))
    return out


def by_subject(fm: FakeMail) -> dict[str, tuple[list[str], Reading]]:
    found = {}
    for envelope, message in spooled(fm):
        head = message.split(b"\r\n\r\n", 1)[0]  # our header block (a forwarded original is further down)
        names = {line.split(b":")[0].strip().lower() for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t")}
        assert not names & {b"bcc", b"reply-to"}, "a smuggled header line"
        seen = read(message)
        assert seen.bcc == 0 and seen.reply_to == 0 and EVIL not in envelope
        found[seen.subject] = (envelope, seen)
    return found


@pytest.fixture
def data(data_dir: Path, fakemail: FakeMail) -> Path:
    with open_practice(data_dir) as p:
        load_demo(p)
        configure(p, fakemail)
    return data_dir


@pytest.mark.slow
def test_outbox_add_subject_cli(data: Path, fakemail: FakeMail) -> None:
    for value in RAW:
        out = pm(data, "outbox", "add", "--to", "pat@example.com", "--subject", value)
        assert out.returncode == 1 and "subject" in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.count("\n") <= 2  # one line (and its hint)
    for value in SMUGGLED:
        assert pm(data, "outbox", "add", "--to", "pat@example.com", "--subject", value).returncode == 0
    assert pm(data, "send-receive").returncode == 0
    found = by_subject(fakemail)
    assert set(found) == set(SMUGGLED)  # each reads back as the literal text typed, nothing refused, nothing lost
    for envelope, seen in found.values():
        assert envelope == ["pat@example.com"] and seen.names == PLAIN


@pytest.mark.slow
def test_names_from_a_csv_rendered_by_a_template_and_the_practice_name(data: Path, fakemail: FakeMail,
                                                                          tmp_path: Path) -> None:
    rows = ["id,title,first_name,last_name,email,mobile,family_id,usual_provider_id,preferred_location,date_of_birth"]
    for i, value in enumerate(SMUGGLED):
        # the csv module quotes as needed; a name may hold commas and quotes
        rows.append(",".join(['"' + f.replace('"', '""') + '"' for f in
                              (f"X{i:02}", "", value, f"Last{i}", f"x{i}@patients.example", "", "", "", "", "")]))
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n", "utf-8")
    (tmp_path / "ids.txt").write_text("\n".join(f"X{i:02}" for i in range(len(SMUGGLED))), "utf-8")
    practice_name = q(q(f"Bright\r\nReply-To: {EVIL}"))
    for args in (("import", "patients", str(tmp_path / "p.csv")), ("config", "set", "practice.name", practice_name),
                 ("compose", "--template", "RECALL", "--patients-file", str(tmp_path / "ids.txt")), ("send-receive",)):
        out = pm(data, *args)
        assert out.returncode == 0, (args, out.stderr)
    found = by_subject(fakemail)
    assert len(found) == len(SMUGGLED)
    for i, value in enumerate(SMUGGLED):
        envelope, seen = found[f"Time for your check-up, {value}"]
        assert envelope == [f"x{i}@patients.example"] and seen.names == PLAIN[1:]  # multipart: no top-level CTE
        assert seen.to == ((f"{value} Last{i}", f"x{i}@patients.example"),)
        assert seen.sender[0] == practice_name


@pytest.fixture
def wired(data_dir: Path, fakemail: FakeMail) -> Iterator[tuple[Engine, Composer]]:
    with open_practice(data_dir) as p:
        load_demo(p)
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        e = Engine(p)
        yield e, Composer(p, e.outbox, e.inbox)
        e.stop()


def stranger(i: int, subject: str) -> bytes:
    return (f"From: Stranger {i} <stranger{i}@elsewhere.example>\r\nReply-To: {EVIL}\r\nSubject: {subject}\r\n"
            f"Message-ID: <s{i}@elsewhere.example>\r\nReferences: <{q(chr(13) + chr(10) + 'Bcc: ' + EVIL)}@x>\r\n"
            f"\r\nHello\r\n").encode()


def test_a_strangers_subject_replied_to_and_forwarded(wired: tuple[Engine, Composer], fakemail: FakeMail) -> None:
    """The stranger's subject is encoded once more (so one decoding leaves an encoded word, or
    a line end), and the original carries a Reply-To: neither reaches our reply or forward."""
    engine, composer = wired
    values = [*SMUGGLED, *RAW]
    subjects = [(q if i < len(SMUGGLED) else b)(f"{i} {value}") for i, value in enumerate(values)]  # each its own
    for i, subject in enumerate(subjects):
        fakemail.deliver("practice", stranger(i, subject))
    engine.send_receive_now()
    received = sorted(engine.inbox.list(show_all=True), key=lambda m: m["from"])
    assert len(received) == len(subjects)
    for msg in received:
        composer.reply(msg[RID], NOW, "Thank you.")
        composer.forward(msg[RID], "lindqvist@ortho-referrals.example", NOW)
    assert engine.send_receive_now()["sent"] == 2 * len(subjects)
    found = by_subject(fakemail)
    for msg in received:
        literal = flatten(msg["subject"])  # what the stranger wrote, decoded once, as one line
        assert "\r" not in literal and "\n" not in literal
        envelope, seen = found[f"Re: {literal}"]
        assert envelope == [msg["from"]] and seen.to == ((f"Stranger {msg['from'][8:-18]}", msg["from"]),)
        assert seen.names == tuple(sorted([*PLAIN, "in-reply-to", "references"]))
        envelope, seen = found[f"Fwd: {literal}"]
        assert envelope == ["lindqvist@ortho-referrals.example"]
        assert seen.names == ("content-type", "date", "from", "message-id", "mime-version", "subject", "to")
    # the forwarded copy of an email we sent, whose subject a person typed as an encoded word
    sent = engine.outbox.add_draft(draft(subject=SMUGGLED[-1]), NOW)
    engine.send_receive_now()
    composer.forward_sent(sent, "other@elsewhere.example", NOW)
    engine.send_receive_now()
    envelope, seen = by_subject(fakemail)["Fwd: " + SMUGGLED[-1]]
    assert envelope == ["other@elsewhere.example"] and seen.filenames == ("forwarded.eml",)


def test_a_strangers_line_ends_in_references_are_not_carried(wired: tuple[Engine, Composer],
                                                             fakemail: FakeMail) -> None:
    engine, composer = wired
    fakemail.deliver("practice", stranger(1, "Question"))
    engine.send_receive_now()
    (msg,) = engine.inbox.list(show_all=True)
    composer.reply(msg[RID], NOW, "Yes.")
    engine.send_receive_now()
    ((envelope, raw),) = spooled(fakemail)
    assert b"\r\nIn-Reply-To: <s1@elsewhere.example>\r\nReferences: <s1@elsewhere.example>\r\n" in raw
    assert read(raw).names == tuple(sorted([*PLAIN, "in-reply-to", "references"]))


NAMES = [q("Stranger\r\nX-Injected: 1"), b("Żółć\u2028X-Injected: 1"), q(q("Ann\r\nX-Injected: 1")),
         '"' + q(q("Bo\r\nX-Injected: 1")) + '"', b(b("Cy\x85X-Injected: 1")), q("Di\r\n X-Injected: 1")]


def test_a_strangers_name_replied_to(wired: tuple[Engine, Composer], fakemail: FakeMail) -> None:
    """The name as it was decoded once (whatever that left) is the name we write, read back as
    that literal text by both parsers: an encoded word in it is encoded again, never decoded."""
    engine, composer = wired
    for i, name in enumerate(NAMES):
        fakemail.deliver("practice", f"From: {name} <s{i}@elsewhere.example>\r\nSubject: Question {i}\r\n"
                                     f"Message-ID: <n{i}@elsewhere.example>\r\n\r\nHello\r\n".encode())
    engine.send_receive_now()
    received = engine.inbox.list(show_all=True)
    assert len(received) == len(NAMES)
    for msg in received:
        composer.reply(msg[RID], NOW, "Thank you.")
    assert engine.send_receive_now()["sent"] == len(NAMES)
    found = by_subject(fakemail)
    for msg in received:
        envelope, seen = found[f"Re: {msg['subject']}"]
        assert envelope == [msg["from"]] and seen.to == ((flatten(msg["from_name"]), msg["from"]),)
        assert seen.names == tuple(sorted([*PLAIN, "in-reply-to", "references"]))
