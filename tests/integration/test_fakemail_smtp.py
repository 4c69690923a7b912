"""The fake SMTP server seen through smtplib, as the engine will see it."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl

import pytest

from tools.fakemail import FakeMail

MSG = b"From: practice@example.test\r\nTo: pat@example.com\r\nSubject: hi\r\n\r\n.starts with a dot\r\nbody\r\n"


def login(fm: FakeMail) -> tuple[str, str]:
    u = fm.user()
    return u.username, u.password


def submission(fm: FakeMail, ctx: ssl.SSLContext, timeout: float = 5) -> smtplib.SMTP:
    s = smtplib.SMTP("localhost", fm.ports["smtp"]["submission"], timeout=timeout)
    s.starttls(context=ctx)
    s.login(*login(fm))
    return s


def test_submission_requires_starttls_before_auth_and_mail(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=5) as s:
        s.ehlo()
        assert s.has_extn("starttls") and not s.has_extn("auth")
        code, _ = s.mail("practice@example.test")
        assert code == 530
        s.starttls(context=client_tls)
        s.ehlo()
        assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
        s.rset()
        s.user, s.password = login(fakemail)
        s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    sent = fakemail.wait_for_sent(1)
    assert sent[0]["data"] == MSG and sent[0]["rcpt_tos"] == ["pat@example.com"]
    spooled = (fakemail.spool / "sent" / "new").iterdir().__next__().read_bytes()
    assert spooled.startswith(b"Return-Path: <practice@example.test>\r\nX-Envelope-To: pat@example.com\r\n")
    assert spooled.endswith(MSG)


def test_smtps_is_implicit_tls_with_auth_plain(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with smtplib.SMTP_SSL("localhost", fakemail.ports["smtp"]["smtps"], context=client_tls, timeout=5) as s:
        s.ehlo()
        s.user, s.password = login(fakemail)
        s.auth("PLAIN", s.auth_plain)
        s.sendmail("practice@example.test", ["a@example.com", "b@example.com"], MSG)
    assert fakemail.wait_for_sent(1)[0]["rcpt_tos"] == ["a@example.com", "b@example.com"]


def test_plain_offers_starttls_but_does_not_require_it(fakemail: FakeMail) -> None:
    with smtplib.SMTP("127.0.0.1", fakemail.ports["smtp"]["plain"], timeout=5) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    assert len(fakemail.wait_for_sent(1)) == 1


def test_wrong_password_is_535(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=5) as s:
        s.starttls(context=client_tls)
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            s.login("practice", "wrong")
        assert exc.value.smtp_code == 535


def test_size_limit_is_552(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    big = MSG + b"x" * (11 * 1024 * 1024)
    with submission(fakemail, client_tls) as s:
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as exc:
            s.sendmail("practice@example.test", ["pat@example.com"], big)
        assert exc.value.smtp_code == 552
    assert fakemail.sent() == []


@pytest.mark.parametrize("step,code,error", [
    ("mail", 421, smtplib.SMTPSenderRefused), ("mail", 451, smtplib.SMTPSenderRefused),
    ("rcpt", 450, smtplib.SMTPRecipientsRefused), ("rcpt", 452, smtplib.SMTPRecipientsRefused),
    ("rcpt", 550, smtplib.SMTPRecipientsRefused), ("data", 451, smtplib.SMTPDataError),
    ("data", 552, smtplib.SMTPDataError), ("data", 554, smtplib.SMTPDataError),
])
def test_reply_faults_are_real_protocol_errors(fakemail: FakeMail, client_tls: ssl.SSLContext, step: str, code: int,
                                                error: type[Exception]) -> None:
    fakemail.faults.add("smtp", step, "reply", code=code, times=1)
    with submission(fakemail, client_tls) as s:
        with pytest.raises(error) as exc:
            s.sendmail("practice@example.test", ["pat@example.com"], MSG)
        if isinstance(exc.value, smtplib.SMTPRecipientsRefused):
            assert exc.value.recipients["pat@example.com"][0] == code
        else:
            assert exc.value.smtp_code == code  # type: ignore[attr-defined]
    assert fakemail.sent() == []
    with submission(fakemail, client_tls) as s:  # the fault was for one time only
        s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    assert len(fakemail.sent()) == 1


def test_auth_fault_rejects_the_right_password(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("smtp", "auth", "reject")
    with pytest.raises(smtplib.SMTPAuthenticationError):
        submission(fakemail, client_tls)
    fakemail.faults.clear()
    submission(fakemail, client_tls).quit()


def test_connection_refused_and_untrusted_certificate(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("smtp", "connect", "refuse", times=1)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=5)
    fakemail.faults.add("smtp", "tls", "untrusted", times=1)
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL("localhost", fakemail.ports["smtp"]["smtps"], context=client_tls, timeout=5)
    fakemail.faults.add("smtp", "tls", "untrusted", times=1)
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=5) as s:
        with pytest.raises(ssl.SSLCertVerificationError):
            s.starttls(context=client_tls)


def test_drop_mid_data_and_silent_server(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("smtp", "data", "drop", times=1)
    s = submission(fakemail, client_tls)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    assert fakemail.sent() == []
    said = [e.text for e in fakemail.faults.transcript if e.protocol == "smtp" and e.direction == "out"]
    # cut after the 354, mid-message: the server never read the end and never answered it
    # (it used to read the whole message and drop at the final dot)
    assert said[-1].startswith("354") and not any(t.startswith("421") for t in said)
    fakemail.faults.add("smtp", "connect", "hang", times=1)
    with pytest.raises((socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=0.5)
    s = submission(fakemail, client_tls, timeout=0.5)
    fakemail.faults.add("smtp", "any", "delay", seconds=2)
    with pytest.raises((socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected), match="timed out"):
        s.noop()


def test_transcript_records_sessions_without_secrets(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    with submission(fakemail, client_tls) as s:
        s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    said = fakemail.faults.commands("smtp")
    assert said[:2] == ["EHLO " + said[0].split(" ", 1)[1], "STARTTLS"]
    assert any(c.startswith("MAIL FROM:<practice@example.test>") for c in said)
    assert not any(fakemail.user().password in e.text for e in fakemail.faults.transcript)


def test_pipelining_smtputf8_and_8bitmime_are_offered_and_work(fakemail: FakeMail) -> None:
    """#16 finding 9: a UTF-8 address got "500 strict ASCII mode"; PIPELINING was not offered."""
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["plain"], timeout=5) as s:
        s.ehlo()
        assert s.has_extn("pipelining") and s.has_extn("smtputf8") and s.has_extn("8bitmime")
        s.sendmail("practice@example.test", ["j\u00f6s\u00e9@xn--bcher-kva.example"], MSG, mail_options=["SMTPUTF8"])
        # pipelined: three commands in one write, three replies in order
        s.send(b"RSET\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n")
        assert [s.getreply()[0] for _ in range(3)] == [250, 250, 250]
        s.rset()
    (got,) = fakemail.sent()
    assert got["rcpt_tos"] == ["j\u00f6s\u00e9@xn--bcher-kva.example"] and got["data"] == MSG


def test_auth_login_prompts_as_the_rfc_says(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    u = fakemail.user()
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["submission"], timeout=5) as s:
        s.starttls(context=client_tls)
        s.ehlo()
        code, prompt = s.docmd("AUTH", "LOGIN")
        assert (code, base64.b64decode(prompt)) == (334, b"Username:")
        code, prompt = s.docmd(base64.b64encode(u.username.encode()).decode())
        assert (code, base64.b64decode(prompt)) == (334, b"Password:")
        assert s.docmd(base64.b64encode(u.password.encode()).decode())[0] == 235


def test_accepted_mail_is_on_disk_not_in_memory(fakemail: FakeMail) -> None:
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["plain"], timeout=5) as s:
        for _ in range(3):
            s.sendmail("practice@example.test", ["pat@example.com"], MSG)
    assert all("data" not in entry for entry in fakemail.store.accepted)  # only the envelope and the file
    assert [m["data"] for m in fakemail.sent()] == [MSG] * 3


def test_capa_hide_starttls_takes_starttls_away(fakemail: FakeMail, client_tls: ssl.SSLContext) -> None:
    fakemail.faults.add("smtp", "capa", "hide", text="STARTTLS")
    with smtplib.SMTP("localhost", fakemail.ports["smtp"]["plain"], timeout=5) as s:
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.docmd("STARTTLS")[0] == 502
