"""The fake IMAP and POP3 servers seen through imaplib, imapclient and poplib."""

from __future__ import annotations

import imaplib
import json
import poplib
import smtplib
import ssl
import subprocess
import sys
import urllib.request

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.conftest import ROOT
from tools.fakemail import FakeMail

RAW = b"From: Pat Smith <pat@example.com>\r\nTo: practice@example.test\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n" \
      b"Message-ID: <m1@example.com>\r\n\r\n.a line that starts with a dot\r\n..two dots\r\nend\r\n"


def imaps(fm: FakeMail, ctx: ssl.SSLContext) -> IMAPClient:
    c = IMAPClient("localhost", port=fm.ports["imap"]["imaps"], ssl_context=ctx, timeout=5)
    c.login(fm.user().username, fm.user().password)
    return c


def test_imaps_and_starttls_with_imapclient(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", RAW)
    with imaps(fakemail, client_tls) as c:
        info = c.select_folder("INBOX")
        assert info[b"EXISTS"] == 1 and info[b"UIDNEXT"] == 2 and info[b"UIDVALIDITY"] > 0
        data = c.fetch([1], ["BODY.PEEK[]", "FLAGS", "RFC822.SIZE", "INTERNALDATE", "ENVELOPE"])[1]
        assert data[b"BODY[]"] == RAW and data[b"RFC822.SIZE"] == len(RAW) and data[b"FLAGS"] == ()
        assert data[b"ENVELOPE"].message_id == b"<m1@example.com>"
        assert c.get_flags([1])[1] == ()  # PEEK left it unread
        c.fetch([1], ["BODY[]"])
        assert b"\\Seen" in c.get_flags([1])[1]
    with IMAPClient("localhost", port=fakemail.ports["imap"]["plain"], ssl=False, timeout=5) as c:
        assert b"LOGINDISABLED" in c.capabilities()
        c.starttls(client_tls)
        c.plain_login(fakemail.user().username, fakemail.user().password)
        folders = {f[2]: f[0] for f in c.list_folders()}  # INBOX and the special-use folders (#16)
        assert list(folders)[0] == "INBOX" and b"\\Sent" in folders["Sent"] and b"\\Trash" in folders["Trash"]


def test_imaplib_login_search_store_expunge(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    for i in range(3):
        fakemail.deliver("practice", RAW.replace(b"<m1@", b"<m%d@" % i))
    m = imaplib.IMAP4_SSL("localhost", fakemail.ports["imap"]["imaps"], ssl_context=client_tls, timeout=5)
    m.login(fakemail.user().username, fakemail.user().password)
    assert m.select("INBOX")[1] == [b"3"]
    assert m.uid("SEARCH", "UID", "4:*")[1] == [b"3"]  # n:* always returns the last message
    m.uid("STORE", "2", "+FLAGS", "(\\Deleted $Patient)")
    assert m.uid("SEARCH", "KEYWORD", "$Patient")[1] == [b"2"]
    typ, data = m.expunge()
    assert data == [b"2"]
    assert m.uid("SEARCH", "ALL")[1] == [b"1 3"]
    m.logout()


def test_imap_login_refused_and_uidvalidity_change(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    c = IMAPClient("localhost", port=fakemail.ports["imap"]["imaps"], ssl_context=client_tls, timeout=5)
    with pytest.raises(LoginError):
        c.login("practice", "wrong")
    fakemail.deliver("practice", RAW)
    fakemail.deliver("practice", RAW)
    with imaps(fakemail, client_tls) as c:
        c.select_folder("INBOX")
        c.delete_messages([1])
        c.expunge()
        before = c.select_folder("INBOX")[b"UIDVALIDITY"]
        assert c.search() == [2]
    after = fakemail.change_uidvalidity("practice")
    with imaps(fakemail, client_tls) as c:
        info = c.select_folder("INBOX")
        assert info[b"UIDVALIDITY"] == after != before
        assert c.search() == [1]


def test_imap_fetch_dropped_midway_then_recovers(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", RAW)
    fakemail.faults.add("imap", "fetch", "drop", times=1)
    with imaps(fakemail, client_tls) as c:
        c.select_folder("INBOX")
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            c.fetch([1], ["BODY.PEEK[]"])
    with imaps(fakemail, client_tls) as c:
        c.select_folder("INBOX")
        assert c.fetch([1], ["BODY.PEEK[]"])[1][b"BODY[]"] == RAW


def test_imap_idle_sees_new_mail(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with imaps(fakemail, client_tls) as c:
        c.select_folder("INBOX")
        c.idle()
        fakemail.deliver("practice", RAW)
        responses = c.idle_check(timeout=5)
        c.idle_done()
        assert (1, b"EXISTS") in responses


def test_imap_untrusted_certificate(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("imap", "tls", "untrusted", times=1)
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient("localhost", port=fakemail.ports["imap"]["imaps"], ssl_context=client_tls, timeout=5)


def pop3s(fm: FakeMail, ctx: ssl.SSLContext) -> poplib.POP3_SSL:
    p = poplib.POP3_SSL("localhost", fm.ports["pop3"]["pop3s"], context=ctx, timeout=5)
    p.user(fm.user().username)
    p.pass_(fm.user().password)
    return p


def test_pop3_uidl_top_and_deletes_only_at_quit(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", RAW)
    fakemail.deliver("practice", RAW)
    p = pop3s(fakemail, client_tls)
    assert p.stat()[0] == 2
    uidls = [line.split()[1] for line in p.uidl()[1]]
    assert len(set(uidls)) == 2
    top = p.top(1, 0)[1]
    assert b"Subject: =?utf-8?q?Caf=C3=A9?=" in top and b".a line that starts with a dot" not in top
    p.dele(1)
    p.rset()
    p.dele(2)
    p.close()  # dropped without QUIT: nothing deleted
    p = pop3s(fakemail, client_tls)
    assert [line.split()[1] for line in p.uidl()[1]] == uidls
    p.dele(2)
    p.quit()
    p = pop3s(fakemail, client_tls)
    assert [line.split()[1] for line in p.uidl()[1]] == uidls[:1]
    p.quit()


def test_pop3_mailbox_lock_stls_and_auth_plain(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    first = pop3s(fakemail, client_tls)
    with pytest.raises(poplib.error_proto, match=r"IN-USE"):
        pop3s(fakemail, client_tls)
    first.quit()
    p = poplib.POP3("localhost", fakemail.ports["pop3"]["plain"], timeout=5)
    assert b"STLS" in b" ".join(p.capa()) if isinstance(p.capa(), list) else "STLS" in p.capa()
    with pytest.raises(poplib.error_proto, match="STLS"):
        p.user("practice")
    p.stls(client_tls)
    import base64

    token = base64.b64encode(f"\0{fakemail.user().username}\0{fakemail.user().password}".encode()).decode()
    assert p._shortcmd(f"AUTH PLAIN {token}").startswith(b"+OK")
    p.quit()
    fakemail.faults.add("pop3", "login", "in_use", times=1)
    with pytest.raises(poplib.error_proto, match=r"IN-USE"):
        pop3s(fakemail, client_tls)


def test_dot_lines_survive_smtp_then_pop3(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with smtplib.SMTP_SSL("localhost", fakemail.ports["smtp"]["smtps"], context=client_tls, timeout=5) as s:
        s.login(fakemail.user().username, fakemail.user().password)
        s.sendmail("pat@example.com", ["practice@example.test"], RAW)
    accepted = fakemail.wait_for_sent(1)[0]["data"]
    assert accepted == RAW
    fakemail.deliver("practice", accepted)
    p = pop3s(fakemail, client_tls)
    lines = p.retr(1)[1]
    p.quit()
    assert b"\r\n".join(lines) + b"\r\n" == RAW


def test_pop3_retr_dropped(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", RAW)
    fakemail.faults.add("pop3", "fetch", "drop", times=1)
    p = pop3s(fakemail, client_tls)
    with pytest.raises((poplib.error_proto, OSError, EOFError)):
        p.retr(1)
    p = pop3s(fakemail, client_tls)
    assert p.stat()[0] == 1
    p.quit()


def _http(fm: FakeMail, method: str, path: str, body: object = None) -> tuple[int, object]:
    req = urllib.request.Request(f"http://127.0.0.1:{fm.ports['http']['control']}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_http_sms_links_and_fault_control(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    assert _http(fakemail, "GET", "/sms/balance") == (200, {"credits": 100})
    assert _http(fakemail, "POST", "/sms/messages", {"to": "+447700900001", "text": "hi"})[0] == 201
    assert _http(fakemail, "GET", "/sms/balance")[1] == {"credits": 99}
    status, doc = _http(fakemail, "POST", "/links", {"appointment_id": "A1"})
    token = doc["token"]  # type: ignore[index]
    assert _http(fakemail, "GET", f"/links/{token}")[1]["status"] == "pending"  # type: ignore[index]
    assert _http(fakemail, "POST", f"/links/{token}/finish")[1]["status"] == "ready"  # type: ignore[index]
    # a tester switches a fault on over HTTP; the SMTP server shows it; off again
    assert _http(fakemail, "POST", "/faults", {"protocol": "smtp", "step": "auth", "action": "reject"})[0] == 201
    with smtplib.SMTP_SSL("localhost", fakemail.ports["smtp"]["smtps"], context=client_tls, timeout=5) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(fakemail.user().username, fakemail.user().password)
    assert _http(fakemail, "DELETE", "/faults") == (200, [])
    assert _http(fakemail, "POST", "/faults", {"protocol": "smtp", "step": "nope", "action": "x"})[0] == 400
    fakemail.faults.add("http", "sms", "reply", code=503, times=1)
    assert _http(fakemail, "POST", "/sms/messages", {"to": "+44", "text": "x"})[0] == 503


def test_practicemail_fakemail_prints_the_contract_json_first(tmp_path) -> None:  # noqa: ANN001
    proc = subprocess.Popen([sys.executable, "-m", "engine", "fakemail", "--json", "--spool", str(tmp_path / "spool")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info["smtp"]) == {"submission", "smtps", "plain"} and set(info["imap"]) == {"imaps", "plain"}
        assert set(info["pop3"]) == {"pop3s", "plain"} and info["users"][0]["address"] == "practice@example.test"
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        with smtplib.SMTP("localhost", info["smtp"]["submission"], timeout=5) as s:
            s.starttls(context=ctx)
            s.login(info["users"][0]["username"], info["users"][0]["password"])
            s.sendmail("practice@example.test", ["pat@example.com"], RAW)
        assert len(list((tmp_path / "spool" / "sent" / "new").iterdir())) == 1
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_imap_search_criteria_narrow_in_turn(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    for size in (10, 500, 5000, 50):
        fakemail.deliver("practice", b"From: a@b.example\r\nSubject: s\r\n\r\n" + b"x" * size + b"\r\n")
    with imaps(fakemail, client_tls) as c:
        c.select_folder("INBOX", readonly=True)
        assert c.search(["UID", "2:*", "LARGER", "400"]) == [2, 3]
        assert c.search(["NOT", "LARGER", "400"]) == [1, 4]
        assert c.search(["UID", "2:4", "OR", "SMALLER", "200", "LARGER", "4000"]) == [3, 4]
        assert c.search(["UID", "1:3", ["NOT", "SMALLER", "200"], "SUBJECT", "s"]) == [2, 3]


def test_a_message_file_removed_by_hand_drops_the_session_then_is_gone(fakemail: FakeMail,
                                                                       client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", RAW)
    fakemail.deliver("practice", RAW)
    names = fakemail.mailbox_names("practice")  # the server has looked: both are in cur/
    (fakemail.spool / "practice" / "cur" / names[0]).unlink()  # perhaps within the same clock tick
    p = pop3s(fakemail, client_tls)
    if p.stat()[0] == 2:  # the look did not see it go: reading it ends the session
        with pytest.raises((poplib.error_proto, OSError, EOFError)):
            p.retr(1)
    else:
        p.quit()
    p = pop3s(fakemail, client_tls)
    assert p.stat()[0] == 1 and p.retr(1)[1]
    p.quit()
