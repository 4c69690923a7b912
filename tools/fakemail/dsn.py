"""Bounces the fake servers send back: a delivery status notification (RFC 3464) for a
recipient a `bounce` fault names, returned to the sender's own mailbox, as a real mail
system would after accepting a message it then could not deliver.

Written with the standard library only (tools/fakemail imports nothing of the engine):
what the engine must recognise, built independently of the code that recognises it.
"""

from __future__ import annotations

import email.utils
import time

# SMTP reply code -> (enhanced status, the remote server's words)
REASONS = {
    550: ("5.1.1", "No such user here"),
    551: ("5.1.1", "User not local"),
    552: ("5.2.2", "Mailbox full: the user's mailbox has exceeded its storage allocation"),
    553: ("5.1.3", "Mailbox name not allowed"),
    554: ("5.7.1", "Message rejected as spam"),
    421: ("4.4.1", "Connection timed out"),
    450: ("4.2.1", "Mailbox unavailable, try later"),
    451: ("4.4.1", "Connection timed out"),
    452: ("4.2.2", "Mailbox full, try later"),
}


def returned_headers(data: bytes) -> bytes:
    """The header block of the message being bounced (a DSN returns headers, not the body)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = data.find(sep)
        if end >= 0:
            return data[:end].replace(b"\r\n", b"\n")
    return data.replace(b"\r\n", b"\n")


def build(sender: str, recipient: str, code: int, data: bytes, host: str = "fakemail.localhost",
          text: str = "") -> bytes:
    """A multipart/report for `recipient`: Action failed (5xx) or delayed (4xx)."""
    status, words = REASONS.get(code, (f"{str(code)[0]}.0.0", "delivery failed"))
    words = text or words
    permanent = code >= 500
    boundary = f"fakemail-dsn-{time.time_ns()}"
    action = "failed" if permanent else "delayed"
    notice = ("I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients."
              if permanent else "Your message could not be delivered for more than 4 hour(s).\n"
                                "It will be retried until it is 5 day(s) old.")
    head = (f"From: MAILER-DAEMON@{host} (Mail Delivery System)\n"
            f"To: {sender}\n"
            f"Subject: {'Undelivered Mail Returned to Sender' if permanent else 'Delayed Mail (still being retried)'}\n"
            f"Date: {email.utils.formatdate(usegmt=True)}\n"
            f"Message-ID: {email.utils.make_msgid('dsn', host)}\n"
            "Auto-Submitted: auto-replied\n"
            "MIME-Version: 1.0\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n')
    body = (f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
            f"This is the mail system at host {host}.\n\n{notice}\n\n"
            f"<{recipient}>: host mx.example said: {code} {status} {words}\n\n"
            f"--{boundary}\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; {host}\n\n"
            f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
            f"Diagnostic-Code: smtp; {code} {status} {words}\n\n"
            f"--{boundary}\nContent-Type: text/rfc822-headers\n\n")
    tail = f"\n\n--{boundary}--\n"
    return (head + body).encode("ascii", "replace") + returned_headers(data) + tail.encode("ascii")
