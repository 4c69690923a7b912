"""Is this incoming message a bounce, and of what? Pure: bytes in, a `Bounce` (or None) out.

A bounce is a delivery status notification: the standard report (RFC 3464,
`multipart/report; report-type=delivery-status`, with a `message/delivery-status`
part per recipient and the returned message or its headers), or the plain text
notices some providers still send, recognised by the phrases in bounce_patterns.

What it must never be taken for: an auto-reply (RFC 3834 `Auto-Submitted`, a
vacation notice), which comes from the person, not from a mail system; a read
receipt (`report-type=disposition-notification`); a success report (Action
delivered/relayed/expanded). The returned message is found only where a bounce
returns it (its own part, or the header block after a "copy of the message"
line), so a Message-ID quoted elsewhere in the text (a patient's earlier
message) is never taken for the one that bounced.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from engine.core import bounce_patterns as data
from engine.core.incoming import decode_words

BOUNCE_TAG = "Bounce"
MAX_TEXT = 64 * 1024  # characters of a text bounce looked at (a bounce returning a 20 MB x-ray is read in part)
_I = re.IGNORECASE
_DAEMON_NAME = re.compile("|".join(data.DAEMON_NAMES), _I)
_VACATION = re.compile("|".join(data.VACATION_SUBJECTS), _I)
_PROVIDERS = tuple((name, re.compile(failed, _I), re.compile(delayed, _I)) for name, failed, delayed in data.PROVIDERS)
_MARKER = re.compile(r"^[ \t]*(?:" + "|".join(data.ORIGINAL_MARKERS) + r")[ \t]*$", _I | re.M)
_TEXT_REASONS = tuple((re.compile(p, _I), reason) for p, reason in data.TEXT_REASONS)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY_CODE = re.compile(r"(?<![\d.])([45])[0-5]\d(?=[ :-])")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Bounce:
    """What a bounce says: for good or for now, why (in words), for whom, about which message."""

    permanent: bool
    reason: str
    status: str = ""  # the enhanced status code, "5.1.1", when the bounce gave one
    recipient: str = ""
    message_id: str = ""  # the returned message's own Message-ID ("" when it was not returned)
    diagnostic: str = ""  # the server's own words, one bounded line
    source: str = "dsn"  # "dsn", or the provider whose wording was recognised

    @property
    def description(self) -> str:
        """One line for the outbox item, the message and the patient file."""
        head = self.reason if self.permanent else f"{data.DELAYED} ({self.reason})" if self.reason != data.DELAYED \
            else data.DELAYED
        return f"{head} [{self.status}]" if self.status else head


def _line(text: Any, limit: int = 300) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", str(text or ""))).strip()[:limit]


def _address(value: str, besides: frozenset[str] = frozenset()) -> str:
    """The first address in `value` that is not one of `besides` (the bounce's own To: ours)."""
    for found in _ADDRESS.finditer(value or ""):
        if found.group().lower() not in besides:
            return found.group().lower()
    return ""


def from_mail_system(sender: str, sender_name: str = "") -> bool:
    """The sender is a mail system (MAILER-DAEMON, postmaster...), not a person."""
    local = sender.rsplit("@", 1)[0].strip().lower()
    return local in data.DAEMON_LOCAL_PARTS or bool(_DAEMON_NAME.search(sender_name or ""))


def worth_reading(sender: str, sender_name: str, subject: str, head: bytes) -> bool:
    """Cheap: could this be a bounce at all? (Intake asks for every message; only these are parsed whole.)"""
    return b"report-type" in head.lower() or from_mail_system(sender, sender_name)


def reason_for(text: str, status: str = "") -> str:
    """The reason in plain words: the server's words first, then the status code, then a general one."""
    for pattern, reason in _TEXT_REASONS:
        if pattern.search(text or ""):
            return reason
    detail = status.split(".", 1)[1] if status.count(".") == 2 else ""
    return data.STATUS_REASONS.get(detail, data.OTHER)


def _delay_reason(text: str, status: str) -> str:
    """A temporary failure's reason: a particular one when the words say it (a full mailbox), else delayed."""
    reason = reason_for(text, status)
    return data.DELAYED if reason == data.OTHER else reason


def _parse(raw: bytes) -> Message | None:
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # noqa: BLE001 - hostile bytes: not a bounce we can read
        return None


def _is_auto_reply(msg: Message) -> bool:
    auto = str(msg.get("auto-submitted", "")).strip().lower()
    return (bool(auto) and auto != "no") or bool(msg.get("x-autoreply")) or bool(msg.get("x-autorespond")) \
        or bool(_VACATION.search(decode_words(msg.get("subject"))))


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[: MAX_TEXT * 2].decode(charset, "replace")
    except LookupError:
        return payload[: MAX_TEXT * 2].decode("latin-1")


def _header_id(block: str) -> str:
    """The Message-ID field of a header block given as text (unfolded, first one only)."""
    for line in re.split(r"\r?\n(?![ \t])", block):
        if line.lower().startswith("message-id:"):
            found = _MSGID.search(line)
            return found.group() if found else ""
        if not line.strip():
            break  # the end of the header block: what follows is the body
    return ""


def _returned_id(msg: Message) -> str:
    """The Message-ID of the message a standard report returns (message/rfc822 or text/rfc822-headers)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = _MSGID.search(str(inner[0].get("message-id", "")))
                return found.group() if found else ""
        if ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            return _header_id(_text_of(part).lstrip("\r\n"))
    return ""


def _from_report(msg: Message) -> Bounce | None:
    """RFC 3464: the first failed (or else delayed) recipient of the delivery-status part."""
    recipients: list[Message] = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                recipients = [b for b in blocks[1:] if isinstance(b, Message)]
            break
    failed = [b for b in recipients if str(b.get("action", "")).strip().lower() == "failed"]
    delayed = [b for b in recipients if str(b.get("action", "")).strip().lower() == "delayed"]
    block = (failed or delayed or [None])[0]
    if block is None:
        return None  # delivered, relayed, expanded: a success report is not a bounce
    status = _STATUS.search(str(block.get("status", "")))
    code = status.group() if status else ""
    permanent = bool(failed) and not code.startswith("4")
    diagnostic = _line(str(block.get("diagnostic-code", "")).split(";", 1)[-1])
    recipient = _address(str(block.get("final-recipient") or block.get("original-recipient") or ""))
    reason = reason_for(diagnostic, code) if permanent else _delay_reason(diagnostic, code)
    return Bounce(permanent, reason, code, recipient, _returned_id(msg), diagnostic, "dsn")


def _text_parts(msg: Message) -> tuple[str, str]:
    """(the notice's own words, what follows the marker) of a plain text bounce."""
    text = ""
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            text = _text_of(part)[:MAX_TEXT]
            break
    marker = _MARKER.search(text)
    if marker is None:
        return text, ""
    return text[: marker.start()], text[marker.end():].lstrip("\r\n \t")


def _from_text(msg: Message) -> Bounce | None:
    """A provider's own wording (Gmail, Outlook, Yahoo, Postfix, Exim sent as plain text)."""
    notice, copy = _text_parts(msg)
    subject = decode_words(msg.get("subject"))
    flat = re.sub(r"\s+", " ", notice)  # phrases wrap at any word
    for name, failed, delayed in _PROVIDERS:
        is_delay = bool(delayed.search(flat) or delayed.search(subject))
        if is_delay or failed.search(flat) or failed.search(subject):
            status_m = _STATUS.search(notice)
            code = status_m.group() if status_m else ""
            reply = _REPLY_CODE.search(notice)
            permanent = not is_delay and not code.startswith("4") and not (not code and reply and reply.group(1) == "4")
            ours = frozenset(a.lower() for _, a in email.utils.getaddresses([str(v) for v in msg.get_all("to", [])]))
            recipient = _address(notice, ours)
            returned = _returned_id(msg) or _header_id(copy)
            diagnostic = _line(_diagnostic_line(notice, code, reply))
            reason = reason_for(notice, code) if permanent else _delay_reason(notice, code)
            return Bounce(permanent, reason, code, recipient, returned, diagnostic, name)
    return None


def _diagnostic_line(notice: str, code: str, reply: re.Match[str] | None) -> str:
    for key in (code, reply.group() if reply else ""):
        if key:
            for line in notice.splitlines():
                if key in line:
                    return line
    return ""


def classify(raw: bytes) -> Bounce | None:
    """The bounce this message is, or None (an ordinary message, an auto-reply, a read receipt)."""
    msg = _parse(raw)
    if msg is None:
        return None
    try:
        if msg.get_content_type() == "multipart/report":
            if str(msg.get_param("report-type", "") or "").strip().lower() not in ("delivery-status", ""):
                return None  # a read receipt or some other report (without the type: its status part decides)
            return _from_report(msg)
        sender = str(msg.get("from", ""))
        name, address = email.utils.parseaddr(sender)
        if not from_mail_system(address, name):
            return None  # a person wrote it: a vacation reply, or a patient quoting a bounce
        if _is_auto_reply(msg) and _VACATION.search(decode_words(msg.get("subject"))):
            return None  # an out-of-office sent from a system address (bounces carry Auto-Submitted too)
        return _from_text(msg)
    except Exception:  # noqa: BLE001 - a malformed bounce is ordinary mail, never a crash at intake
        return None
