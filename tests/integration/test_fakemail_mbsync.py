"""A real synchroniser, mbsync (isync), pulling and pushing folders through the fake IMAP server
(#16). Skipped, with the reason, on a machine without mbsync (`apt-get install isync`)."""

from __future__ import annotations

import email
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tools.fakemail import FakeMail

pytestmark = pytest.mark.skipif(shutil.which("mbsync") is None, reason="mbsync is not installed (apt-get install isync)")


def mail(n: int) -> bytes:
    return b"From: p%d@example.com\r\nSubject: m%d\r\nMessage-ID: <%d@mbsync.example>\r\n\r\nbody %d\r\n" % (n, n, n, n)


def sync(fm: FakeMail, home: Path) -> subprocess.CompletedProcess[str]:
    u = fm.user()
    conf = home / "mbsyncrc"
    conf.write_text(f"""IMAPAccount fake
Host localhost
Port {fm.ports["imap"]["imaps"]}
User {u.username}
Pass {u.password}
SSLType IMAPS
CertificateFile {fm.ca_file}

IMAPStore fake-remote
Account fake

MaildirStore fake-local
Path {home}/mail/
Inbox {home}/mail/INBOX
SubFolders Verbatim

Channel fake
Far :fake-remote:
Near :fake-local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    (home / "mail").mkdir(exist_ok=True)  # mbsync makes folders in its store, not the store
    out = subprocess.run(["mbsync", "-c", str(conf), "-a"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


def client(fm: FakeMail, ctx: ssl.SSLContext) -> IMAPClient:
    c = IMAPClient("localhost", port=fm.ports["imap"]["imaps"], ssl_context=ctx, timeout=10)
    c.login(fm.user().username, fm.user().password)
    return c


def test_mbsync_pulls_and_pushes_folders_messages_and_flags(fakemail: FakeMail, client_tls: ssl.SSLContext,
                                                            tmp_path: Path) -> None:
    for n in range(3):
        fakemail.deliver("practice", mail(n))
    sync(fakemail, tmp_path)
    inbox = tmp_path / "mail" / "INBOX"
    pulled = [email.message_from_bytes(p.read_bytes()) for p in [*(inbox / "cur").iterdir(), *(inbox / "new").iterdir()]]
    assert sorted(m["Subject"] for m in pulled) == ["m0", "m1", "m2"]  # (mbsync keeps them with LF and an X-TUID)
    assert (tmp_path / "mail" / "Sent" / "cur").is_dir()  # the special-use folders came too
    # push: a message saved to Sent locally, a new local folder, a flag set locally
    sent = tmp_path / "mail" / "Sent" / "cur" / "1700000000.local.host:2,S"
    sent.write_bytes(mail(7))
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / "Referrals" / sub).mkdir(parents=True)
    (tmp_path / "mail" / "Referrals" / "new" / "1700000001.local.host").write_bytes(mail(8))
    first = next((inbox / "new").iterdir(), None) or next((inbox / "cur").iterdir())
    first.rename(inbox / "cur" / (first.name.split(":2,")[0] + ":2,F"))
    sync(fakemail, tmp_path)
    with client(fakemail, client_tls) as c:
        assert {f[2] for f in c.list_folders()} >= {"INBOX", "Sent", "Referrals"}
        c.select_folder("Sent")
        (uid,) = c.search()
        got = c.fetch([uid], ["BODY.PEEK[]", "FLAGS"])[uid]
        pushed = email.message_from_bytes(got[b"BODY[]"])
        assert pushed["Subject"] == "m7" and b"\r\n" in got[b"BODY[]"] and b"\\Seen" in got[b"FLAGS"]
        c.select_folder("Referrals")
        assert len(c.search()) == 1
        c.select_folder("INBOX")
        flagged = c.search(["FLAGGED"])
        assert len(flagged) == 1
    # and a change on the server comes back down: a message deleted there goes locally
    with client(fakemail, client_tls) as c:
        c.select_folder("INBOX")
        c.delete_messages(flagged)
        c.expunge()
    sync(fakemail, tmp_path)
    left = [*(inbox / "cur").iterdir(), *(inbox / "new").iterdir()]
    assert len(left) == 2
