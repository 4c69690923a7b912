"""IMAP sections and BODYSTRUCTURE from the fake server, against what the standard library's
parser says each part of the same message is (#16, findings 1 and 2)."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from email.message import EmailMessage, Message

import pytest
from imapclient import IMAPClient

from tests.conftest import ROOT
from tools.fakemail import FakeMail

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


def with_parts() -> bytes:
    """A reply with a PDF, an image and a forwarded message that itself has an attachment."""
    inner = EmailMessage()
    inner["From"], inner["To"], inner["Subject"] = "Dr Okafor <okafor@clinic.example>", "a@example.com", "Referral"
    inner.set_content("The referral letter.\n")
    inner.add_attachment(b"letter", maintype="application", subtype="octet-stream", filename="letter.bin")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "Pat <pat@example.com>", "practice@example.test", "Re: x-ray"
    outer["Message-ID"] = "<parts@example.com>"
    outer.set_content("Here is the form.\n")
    outer.add_alternative("<p>Here is the form.</p>", subtype="html")
    outer.add_attachment(PDF, maintype="application", subtype="pdf", filename="form.pdf")
    outer.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, maintype="image", subtype="png", filename="Röntgen.png")
    outer.add_attachment(inner)
    outer["Content-Language"] = "en-GB"
    return outer.as_bytes(policy=email.policy.SMTP)


def numbered(msg: Message, prefix: str = "") -> Iterator[tuple[str, Message]]:
    """Every part with its IMAP section number (RFC 3501 §6.4.5), read by the standard library."""
    if msg.is_multipart():
        for i, part in enumerate(msg.get_payload(), 1):
            path = f"{prefix}{i}"
            yield path, part
            if part.get_content_type() == "message/rfc822":
                (inner,) = part.get_payload()
                if inner.is_multipart():
                    yield from numbered(inner, path + ".")
                else:
                    yield path + ".1", inner
            elif part.is_multipart():
                yield from numbered(part, path + ".")
    else:
        yield prefix + "1", msg


def fixtures() -> list[tuple[str, bytes]]:
    files = sorted((ROOT / "fixtures" / "demo" / "inbox").glob("*.eml")) + \
        sorted((ROOT / "fixtures" / "hostile").glob("*.eml"))
    return [("with-parts", with_parts())] + [(f.name, f.read_bytes()) for f in files]


def client(fm: FakeMail, ctx: ssl.SSLContext) -> IMAPClient:
    c = IMAPClient("localhost", port=fm.ports["imap"]["imaps"], ssl_context=ctx, timeout=10)
    c.login(fm.user().username, fm.user().password)
    c.select_folder("INBOX", readonly=True)
    return c


def _well_formed(msg: Message) -> bool:
    return not any(part.defects for part in msg.walk())


def test_every_section_is_the_part_the_standard_library_sees(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    cases = fixtures()
    for _, raw in cases:
        fakemail.deliver("practice", raw)
    with client(fakemail, client_tls) as c:
        uids = c.search()
        assert len(uids) == len(cases)
        checked = 0
        for uid, (name, raw) in zip(uids, cases):
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            # BODYSTRUCTURE must parse (imapclient's parser is strict about the grammar)
            structure = c.fetch([uid], ["BODYSTRUCTURE", "BODY"])[uid]
            assert b"BODYSTRUCTURE" in structure, name
            if not _well_formed(msg):
                continue  # hostile: served and parsed without the session dying is the promise
            for path, part in numbered(msg):
                data = c.fetch([uid], [f"BODY.PEEK[{path}]"])[uid][f"BODY[{path}]".encode()]
                if part.is_multipart():
                    continue
                if part.get_content_type() == "message/rfc822":
                    inner = email.message_from_bytes(data, policy=email.policy.compat32)
                    assert inner["Subject"] == part.get_payload(0)["Subject"], (name, path)
                    continue
                holder = email.message_from_bytes(b"Content-Transfer-Encoding: " +
                                                  (part.get("Content-Transfer-Encoding") or "7bit").encode() +
                                                  b"\r\n\r\n" + data, policy=email.policy.compat32)
                want = part.get_payload(decode=True) or b""
                assert holder.get_payload(decode=True).rstrip(b"\r\n") == want.rstrip(b"\r\n"), (name, path)
                checked += 1
        assert checked >= 12


def test_sections_by_number_mime_header_and_text(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", with_parts())
    with client(fakemail, client_tls) as c:
        (uid,) = c.search()
        items = ["BODY.PEEK[1]", "BODY.PEEK[1.1]", "BODY.PEEK[1.2]", "BODY.PEEK[2]", "BODY.PEEK[2.MIME]",
                 "BODY.PEEK[4.HEADER]", "BODY.PEEK[4.TEXT]", "BODY.PEEK[4.2]", "BODY.PEEK[9]",
                 'BODY.PEEK[HEADER.FIELDS ("Subject" From)]', "BODY.PEEK[2]<0.9>"]
        got = c.fetch([uid], items)[uid]
        assert got[b"BODY[1.1]"].rstrip() == b"Here is the form."
        assert got[b"BODY[1.2]"].rstrip() == b"<p>Here is the form.</p>"
        assert b"--" in got[b"BODY[1]"] and b"Content-Type: text/html" in got[b"BODY[1]"]
        assert email.message_from_bytes(got[b"BODY[2.MIME]"])["Content-Disposition"].startswith("attachment")
        holder = email.message_from_bytes(got[b"BODY[2.MIME]"] + got[b"BODY[2]"])
        assert holder.get_payload(decode=True) == PDF
        assert b"Subject: Referral" in got[b"BODY[4.HEADER]"] and b"letter.bin" in got[b"BODY[4.TEXT]"]
        assert email.message_from_bytes(b"Content-Transfer-Encoding: base64\r\n\r\n" + got[b"BODY[4.2]"]) \
            .get_payload(decode=True) == b"letter"
        assert got[b"BODY[9]"] is None  # no such part: NIL, and the session goes on
        fields = got[b'BODY[HEADER.FIELDS ("SUBJECT" FROM)]'] if b'BODY[HEADER.FIELDS ("SUBJECT" FROM)]' in got \
            else next(v for k, v in got.items() if k.startswith(b"BODY[HEADER.FIELDS"))
        assert b"Subject: Re: x-ray" in fields and b"From: Pat" in fields and b"To:" not in fields
        assert got[b"BODY[2]<0>"] == got[b"BODY[2]"][:9]
        assert c.noop()  # still alive


def test_bodystructure_carries_types_extension_data_and_the_encapsulated_message(
        fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.deliver("practice", with_parts())
    fakemail.deliver("practice", b"From: a@example.com\r\nSubject: plain\r\n\r\nno charset given\r\n")
    with client(fakemail, client_tls) as c:
        first, second = c.search()
        bs = c.fetch([first], ["BODYSTRUCTURE"])[first][b"BODYSTRUCTURE"]
        alternative, pdf, png, forwarded = bs[0]
        assert bs.is_multipart and bs[1] == b"MIXED"
        assert alternative.is_multipart and alternative[1] == b"ALTERNATIVE"
        assert pdf[:2] == (b"APPLICATION", b"PDF") and pdf[5] == b"BASE64"
        assert pdf[8] == (b"ATTACHMENT", (b"FILENAME", b"form.pdf"))  # disposition with the file name
        assert png[8][1][1] == "Röntgen.png".encode()
        assert forwarded[:2] == (b"MESSAGE", b"RFC822")
        envelope, body = forwarded[7], forwarded[8]
        assert envelope[1] == b"Referral"  # ENVELOPE fields: date, subject, ...
        assert body[0][:2] == (b"TEXT", b"PLAIN") and body[2] == b"MIXED"  # its own parts, then its subtype
        boundary = dict(zip(bs[2][::2], bs[2][1::2]))[b"BOUNDARY"]
        assert boundary and boundary in c.fetch([first], ["BODY.PEEK[TEXT]"])[first][b"BODY[TEXT]"]
        text = c.fetch([second], ["BODYSTRUCTURE"])[second][b"BODYSTRUCTURE"]
        assert text[:3] == (b"TEXT", b"PLAIN", (b"CHARSET", b"us-ascii"))
        plain_body = c.fetch([second], ["BODY"])[second][b"BODY"]
        assert len(plain_body) == 8  # BODY: no extension data


@pytest.mark.parametrize("section", ["1", "TEXT", "1.MIME"])
def test_a_single_part_message_has_part_one(fakemail: FakeMail, client_tls: ssl.SSLContext, section: str) -> None:
    fakemail.deliver("practice", b"From: a@example.com\r\nSubject: s\r\n\r\nthe body\r\n")
    with client(fakemail, client_tls) as c:
        (uid,) = c.search()
        got = c.fetch([uid], [f"BODY.PEEK[{section}]"])[uid][f"BODY[{section}]".encode()]
        assert got == (b"From: a@example.com\r\nSubject: s\r\n\r\n" if section == "1.MIME" else b"the body\r\n")
