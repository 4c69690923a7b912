"""Sessions that see each other, files removed by hand, long lines and the STARTTLS switch,
on the raw wire, so the exact untagged responses are what is checked (#16, findings 3, 4, 8)."""

from __future__ import annotations

import os
import poplib
import smtplib
import socket
import ssl
from pathlib import Path

import pytest

from tools.fakemail import FakeMail


def mail(n: int) -> bytes:
    return b"From: p%d@example.com\r\nSubject: m%d\r\nMessage-ID: <%d@example.com>\r\n\r\nbody %d\r\n" % (n, n, n, n)


class Imap:
    """One IMAP session on the raw wire: `cmd` returns every line up to its tagged reply."""

    def __init__(self, fm: FakeMail, ctx: ssl.SSLContext) -> None:
        raw = socket.create_connection(("localhost", fm.ports["imap"]["imaps"]), timeout=5)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")
        self.n = 0
        self.file.readline()  # greeting
        u = fm.user()
        self.cmd(f"LOGIN {u.username} {u.password}")

    def cmd(self, text: str) -> list[bytes]:
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        lines = []
        while True:
            line = self.file.readline()
            assert line, "the server closed the session"
            lines.append(line.rstrip(b"\r\n"))
            if line.startswith(tag + b" "):
                return lines

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def two(fakemail: FakeMail, client_tls: ssl.SSLContext):  # noqa: ANN201
    for n in range(1, 5):
        fakemail.deliver("practice", mail(n))
    a, b = Imap(fakemail, client_tls), Imap(fakemail, client_tls)
    assert b"* 4 EXISTS" in a.cmd("SELECT INBOX") and b"* 4 EXISTS" in b.cmd("SELECT INBOX")
    yield a, b
    a.close()
    b.close()


def test_an_expunge_in_one_session_is_told_to_the_other(two: tuple[Imap, Imap]) -> None:
    a, b = two
    a.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert a.cmd("EXPUNGE")[:-1] == [b"* 2 EXPUNGE"]
    assert b.cmd("FETCH 3 (UID)")[:-1] == [b"* 3 FETCH (UID 3)"]  # no renumbering mid-FETCH
    assert b.cmd("NOOP")[:-1] == [b"* 2 EXPUNGE"]
    assert b.cmd("FETCH 2 (UID)")[:-1] == [b"* 2 FETCH (UID 3)"]  # now numbered as told


def test_exact_untagged_news_after_expunge_and_new_mail(two: tuple[Imap, Imap], fakemail: FakeMail) -> None:
    a, b = two
    a.cmd("STORE 1,3 +FLAGS.SILENT (\\Deleted)")
    assert a.cmd("EXPUNGE")[:-1] == [b"* 3 EXPUNGE", b"* 1 EXPUNGE"]
    fakemail.deliver("practice", mail(5))
    a.cmd("STORE 1 +FLAGS.SILENT (\\Seen)")
    assert b.cmd("NOOP")[:-1] == [b"* 3 EXPUNGE", b"* 1 EXPUNGE", b"* 1 FETCH (FLAGS (\\Seen))", b"* 3 EXISTS"]
    assert b.cmd("NOOP")[:-1] == []
    assert b.cmd("UID SEARCH ALL")[0] == b"* SEARCH 2 4 5"


def test_pop3_delete_is_told_to_an_open_imap_session(two: tuple[Imap, Imap], fakemail: FakeMail,
                                                     client_tls: ssl.SSLContext) -> None:
    a, _ = two
    p = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    p.user(fakemail.user().username)
    p.pass_(fakemail.user().password)
    p.dele(4)
    p.quit()
    assert a.cmd("NOOP")[:-1] == [b"* 4 EXPUNGE"]


def test_a_file_removed_by_hand_answers_no_and_the_session_lives(two: tuple[Imap, Imap], fakemail: FakeMail) -> None:
    a, _ = two
    cur = Path(fakemail.spool) / fakemail.user().username / "cur"
    victim = sorted(cur.iterdir(), key=lambda f: f.stat().st_mtime_ns)[1]  # message 2
    victim.unlink()
    reply = a.cmd("FETCH 1:3 (BODY.PEEK[])")
    assert reply[-1].startswith(b"t3 NO [EXPUNGEISSUED]")
    assert sum(1 for line in reply if line.endswith(b"FETCH (BODY[] {%d}" % len(mail(1)))) == 2
    assert a.cmd("NOOP")[:-1] == [b"* 2 EXPUNGE"]
    assert a.cmd("FETCH 2 (UID)")[:-1] == [b"* 2 FETCH (UID 3)"]


def test_a_file_removed_by_hand_answers_err_in_pop3(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", mail(1))
    fakemail.deliver("practice", mail(2))
    p = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    p.user(fakemail.user().username)
    p.pass_(fakemail.user().password)
    for f in (Path(fakemail.spool) / fakemail.user().username / "cur").iterdir():
        if b"m1" in f.read_bytes():
            f.unlink()
    with pytest.raises(poplib.error_proto, match="no longer on the server"):
        p.retr(1)
    assert b"m2" in b"\n".join(p.retr(2)[1])
    p.quit()


def test_a_line_over_64_kib_gets_an_answer_not_a_dropped_session(fakemail: FakeMail,
                                                                  client_tls: ssl.SSLContext) -> None:
    a = Imap(fakemail, client_tls)
    reply = a.cmd("NOOP " + "x" * 100_000)
    assert reply == [b"t2 BAD line too long (over 64 KiB); use a literal for long values"]
    assert a.cmd("NOOP")[-1].startswith(b"t") and a.cmd("NOOP")[-1].endswith(b"OK NOOP completed")
    a.close()
    p = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    p.sock.sendall(b"NOOP " + b"x" * 100_000 + b"\r\n")
    with pytest.raises(poplib.error_proto, match="line too long"):
        p._getresp()
    assert p.noop().startswith(b"+OK")
    p.quit()


def _injected(port: int, ctx: ssl.SSLContext, greeting_lines: int, starttls: bytes, injected: bytes,
              then: bytes) -> bytes:
    """Send STARTTLS with a plaintext command behind it in the same packet, switch to TLS, send
    `then`; return everything the server says inside TLS."""
    s = socket.create_connection(("localhost", port), timeout=5)
    f = s.makefile("rb")
    for _ in range(greeting_lines):
        f.readline()
    s.sendall(starttls + injected)
    assert f.readline()[:3] in (b"t1 ", b"+OK", b"220")
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(then)
    t.settimeout(2)
    seen = b""
    try:
        while not seen.endswith(b"\r\n") or seen.count(b"\r\n") < 1:
            chunk = t.recv(4096)
            if not chunk:
                break
            seen += chunk
    except TimeoutError:
        pass
    t.close()
    return seen


def test_plaintext_behind_starttls_is_not_executed_inside_tls(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    imap = _injected(fakemail.ports["imap"]["plain"], client_tls, 1, b"t1 STARTTLS\r\n", b"t2 CAPABILITY\r\n",
                     b"t3 NOOP\r\n")
    assert not imap.startswith((b"* CAPABILITY", b"t2")) and imap.startswith(b"t3 OK"), imap
    pop = _injected(fakemail.ports["pop3"]["plain"], client_tls, 1, b"STLS\r\n", b"CAPA\r\n", b"NOOP\r\n")
    assert pop.startswith(b"+OK") and b"capability" not in pop.lower(), pop
    s = smtplib.SMTP("localhost", fakemail.ports["smtp"]["plain"], timeout=5)
    s.ehlo()
    s.sock.sendall(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
    assert s.getreply()[0] == 220
    s.sock = client_tls.wrap_socket(s.sock, server_hostname="localhost")
    s.file = None
    s.ehlo_resp = None
    s.sock.sendall(b"RSET\r\n")  # had the MAIL FROM run inside TLS, its 250 would come first
    code, text = s.getreply()
    assert code == 250 and b"Sender" not in text, text
    s.close()


def _post_fault(fm: FakeMail, doc: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"http://localhost:{fm.ports['http']['control']}/faults",
                                 data=json.dumps(doc).encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("doc, field", [
    ({"protocol": "imap", "step": "any", "action": "delay", "seconds": "0.5"}, "seconds"),
    ({"protocol": "smtp", "step": "rcpt", "action": "reply", "code": "550"}, "code"),
    ({"protocol": "pop3", "step": "any", "action": "delay", "seconds": 1, "times": 0}, "times"),
    ({"protocol": "imap", "step": "any", "action": "delay", "probability": True}, "probability"),
])
def test_a_fault_of_the_wrong_type_is_refused_naming_the_field(fakemail: FakeMail, client_tls: ssl.SSLContext,
                                                               doc: dict, field: str) -> None:  # type: ignore[type-arg]
    status, answer = _post_fault(fakemail, doc)
    assert status == 400 and field in answer["error"]
    assert fakemail.faults.list() == []
    a = Imap(fakemail, client_tls)  # and sessions go on as before
    assert a.cmd("NOOP")[-1].endswith(b"OK NOOP completed")
    a.close()


@pytest.mark.parametrize("protocol, listener", [("imap", "imaps"), ("pop3", "pop3s"), ("smtp", "smtps")])
def test_connect_refuse_on_an_implicit_tls_port_refuses_before_the_handshake(
        fakemail: FakeMail, client_tls: ssl.SSLContext, protocol: str, listener: str) -> None:
    fakemail.faults.add(protocol, "connect", "refuse")
    s = socket.create_connection(("localhost", fakemail.ports[protocol][listener]), timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionError)):  # a refused port completes no handshake
        client_tls.wrap_socket(s, server_hostname="localhost")
    s.close()


def test_capa_hide_takes_the_command_away_too(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("pop3", "capa", "hide", text="STLS")
    fakemail.faults.add("imap", "capa", "hide", text="STARTTLS")
    p = poplib.POP3("localhost", fakemail.ports["pop3"]["plain"], timeout=5)
    assert b"STLS" not in b" ".join(p._longcmd("CAPA")[1])
    with pytest.raises(poplib.error_proto, match="unknown command"):
        p._shortcmd("STLS")  # poplib's own stls() would not even ask, having read CAPA
    p.quit()
    s = socket.create_connection(("localhost", fakemail.ports["imap"]["plain"]), timeout=5)
    f = s.makefile("rb")
    assert b"STARTTLS" not in f.readline()
    s.sendall(b"t1 STARTTLS\r\n")
    assert f.readline().startswith(b"t1 BAD unknown command")
    s.close()


def test_lf_only_files_are_served_with_crlf_and_crlf_sizes(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    """#16 finding 6: RFC822.SIZE and LIST gave the file's LF size while CRLF octets were sent."""
    lf = b"From: a@example.com\nSubject: lf only\n\nline one\nline two\n"
    crlf = lf.replace(b"\n", b"\r\n")
    fakemail.deliver("practice", lf)
    a = Imap(fakemail, client_tls)
    a.cmd("SELECT INBOX")
    reply = a.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[])")
    assert reply[0] == b"* 1 FETCH (RFC822.SIZE %d BODY[] {%d}" % (len(crlf), len(crlf))
    a.close()
    p = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    p.user(fakemail.user().username)
    p.pass_(fakemail.user().password)
    assert p.list()[1] == [b"1 %d" % len(crlf)] and p.stat() == (1, len(crlf))
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == crlf
    p.quit()


def test_maildir_flags_in_file_names_both_ways_and_files_copied_into_cur(
        two: tuple[Imap, Imap], fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    """#16 finding 10: files copied into cur/ after start never appeared; `:2,S` was ignored."""
    a, _ = two
    cur = Path(fakemail.spool) / fakemail.user().username / "cur"
    # IMAP -> the file name
    a.cmd("STORE 1 +FLAGS.SILENT (\\Seen \\Flagged)")
    assert [f.name for f in cur.iterdir() if f.name.endswith(":2,FS")]
    # a tester (or mutt) copies a read message straight into cur/, and marks another one replied
    (cur / "1700000000.handmade.host:2,RS").write_bytes(mail(9))
    other = next(f for f in cur.iterdir() if f.name.endswith(":2,") or ":2," not in f.name)
    os.rename(other, cur / (other.name.split(":2,")[0] + ":2,R"))
    news = a.cmd("NOOP")[:-1]
    assert b"* 5 EXISTS" in news and any(b"FETCH (FLAGS (\\Answered))" in line for line in news)
    flags = a.cmd("FETCH 5 (FLAGS UID)")[0]
    assert b"\\Seen" in flags and b"\\Answered" in flags
    uidl = poplib.POP3_SSL("localhost", fakemail.ports["pop3"]["pop3s"], context=client_tls, timeout=5)
    uidl.user(fakemail.user().username)
    uidl.pass_(fakemail.user().password)
    names = [line.split()[1] for line in uidl.uidl()[1]]
    uidl.quit()
    assert all(b":2," not in n for n in names) and b"1700000000.handmade.host" in names  # UIDL: the unique part


def test_fetch_macros_spell_out_their_items_and_an_unknown_item_is_refused(two: tuple[Imap, Imap]) -> None:
    """FETCH's ALL, FAST and FULL (RFC 3501 §6.4.5) are the items they stand for, in order; UID
    FETCH answers the UID first; a body section read sets \\Seen and says so; an item the server
    does not know is BAD, not a silent empty answer."""
    a, _ = two
    items = {"FAST": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"],
             "ALL": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE"],
             "FULL": [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE", b"BODY"]}
    for macro, names in items.items():
        (line, done) = a.cmd(f"FETCH 1 {macro}")
        assert line.startswith(b"* 1 FETCH (FLAGS (") and done.endswith(b"OK FETCH completed"), macro
        assert [n for n in (b"UID", *names) if b" " + n + b" " in b" " + line[len(b"* 1 FETCH ("):]] == names, line
    (line, _) = a.cmd("UID FETCH 1:1 (FLAGS)")
    assert line.startswith(b"* 1 FETCH (UID ")
    reply = a.cmd("FETCH 2 (BODY[TEXT])")
    assert reply[-2].endswith(b" FLAGS (\\Seen))") and reply[-1].endswith(b"OK FETCH completed")
    assert b"BAD" in a.cmd("FETCH 1 (X-GM-LABELS)")[-1]
