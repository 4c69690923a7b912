"""Replies and forwards (engine/service/compose.py's Composer inherits them): a reply threaded
and quoted, signed above the quote when asked; a received message or a sent outbox item
forwarded with the original attached whole, through the confidentiality gate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.core import confidentiality as rules
from engine.core import headers
from engine.core.message import Attachment, Draft, Recipient
from engine.errors import InputInvalid


def _quote(msg: dict[str, Any], original: str) -> str:
    who = headers.flatten(msg.get("from_name") or msg.get("from") or "") or "the sender"
    when = (msg.get("date") or msg.get("received") or "")[:16].replace("T", " ")
    return f"On {when}, {who} wrote:\n" + "\n".join("> " + line for line in original.splitlines())


class Replies:
    """Needs the Composer's `practice`, `outbox`, `inbox`, `_from`, `people`, `_book` and `signed`."""

    practice: Any
    outbox: Any
    inbox: Any
    _from: Any
    people: Any
    _book: Any
    signed: Any

    def reply(self, message_id: int, now: datetime, text: str, signature: bool = False) -> int:
        """A reply to an inbox message: threaded (In-Reply-To, References), the original quoted."""
        msg = self.inbox.get(message_id)
        original = self.inbox.content(message_id).text
        patient = self.practice.directory.find("patients", msg["patient_id"]) if msg.get("patient_id") else None
        body = text.rstrip("\n") + "\n\n" + _quote(msg, original)
        if signature:  # under the reply, above the quote
            body = self.signed(body, None, patient, None)[0]
        original_subject = headers.flatten(msg["subject"])  # from a stranger: one line, encoded by us when sent
        subject = original_subject if original_subject.lower().startswith("re:") else f"Re: {original_subject}"
        sender, name = self._from()
        if not msg.get("from"):
            raise InputInvalid("the message has no sender to reply to", hint="Write a new email instead.")
        # only plain ids, the decoded name and the From address: nothing else of the original
        # (never its Reply-To) reaches our headers
        refs = headers.message_ids([*msg.get("references", []), *([msg["message_id"]] if msg.get("message_id") else [])])
        in_reply_to = (headers.message_ids([msg.get("message_id") or ""]) or [None])[0]
        draft = Draft(sender, name, [Recipient(msg["from"], headers.display_name(msg.get("from_name", "")))], subject,
                      body, in_reply_to=in_reply_to, references=refs[-20:])
        rid = self.outbox.add_draft(draft, now, patient_id=msg.get("patient_id", ""),
                                    about=rules.About(self.message_patients(msg)),
                                    meta={"specialist_id": msg.get("specialist_id", ""), "reply_to": message_id})
        self.inbox.mark_replied(message_id, now, rid)
        return rid

    def message_patients(self, msg: dict[str, Any]) -> tuple[str, ...]:
        """Whose mail an inbox message is, for the rules: its patient when filed; when unfiled,
        every patient at the sender's mailbox (a family's shared address: that family); none for a
        specialist's or a stranger's."""
        if msg.get("patient_id"):
            return (msg["patient_id"],)
        if msg.get("specialist_id"):
            return ()
        at = [p.id for p in self._book().at_mailbox(msg.get("from", ""))] if msg.get("from") else []
        return tuple(dict.fromkeys([*at, *msg.get("candidates", [])]))

    @staticmethod
    def item_patients(item: dict[str, Any]) -> tuple[str, ...]:
        """Whose mail an outbox item is: its patient, or the patients of a family's email."""
        return tuple(item.get("family_patients") or ([item["patient_id"]] if item.get("patient_id") else []))

    def forward_patients(self, message_id: int | None = None, item_id: int | None = None) -> list[str]:
        """The names of the patients whose mail this is (what a confirmation must name)."""
        ids = self.message_patients(self.inbox.get(message_id)) if message_id is not None else (
            self.item_patients(self.outbox.get(item_id)) if item_id is not None else ())
        return [p.name or p.id for p in self._book().about(ids)]

    def forward(self, message_id: int, to: str, now: datetime, text: str = "", confirmed_outside: bool = False,
                subject: str = "") -> int:
        """Forward with the original attached (the kiosk's forward window sends its edited `text`
        and `subject` too; the original still goes whole, so nothing reception cut is lost). Refused to a patient outside the family of the
        message's patient (an unfiled message from a family's shared address: that family); to
        an address that is no patient, provider or specialist only when `confirmed_outside`
        (reception confirmed, naming the patient), and then recorded in the message's history."""
        msg = self.inbox.get(message_id)
        about = rules.About(self.message_patients(msg), forwarding=True, confirmed_outside=confirmed_outside)
        rid, target = self._forward(self.inbox.raw(message_id), subject or msg["subject"],
                                    msg.get("patient_id", ""), to, now, text, {"forward_of": message_id}, about)
        detail = f"to {target.kind} {target.id or target.address}"
        if confirmed_outside and about.patient_ids and target.kind == "other":
            detail += f", outside the practice, confirmed by reception for {', '.join(self.forward_patients(message_id))}"
        self.inbox.mark_forwarded(message_id, now, detail)
        return rid

    def forward_sent(self, item_id: int, to: str, now: datetime, text: str = "", confirmed_outside: bool = False,
                     subject: str = "") -> int:
        """Forward an outbox item (a confirmation a patient says never came, to their other
        address): the same rules as forwarding a patient's mail; the item goes attached whole
        (its own files inside it), under the `text` and `subject` reception edited."""
        item = self.outbox.get(item_id)
        if not item.get("blob"):
            raise InputInvalid(f"outbox item {item_id} has no message yet", hint="Wait until it is ready, then forward.")
        about = rules.About(self.item_patients(item), forwarding=True, confirmed_outside=confirmed_outside)
        rid, _ = self._forward(self.outbox.blob(item), subject or item["subject"], item.get("patient_id", ""), to,
                               now, text, {"forward_of_item": item_id}, about)
        return rid

    def _forward(self, raw: bytes, subject: str, patient_id: str, to: str, now: datetime, text: str,
                 meta: dict[str, Any], about: rules.About) -> tuple[int, rules.Person]:
        (target,) = self.people([to])
        subject = headers.flatten(subject)  # decoded, from the original: one line, encoded by us when sent
        subject = subject if subject.lower().startswith("fwd:") else f"Fwd: {subject}"
        sender, name = self._from()
        draft = Draft(sender, name,
                      [Recipient(target.address, headers.display_name(target.name) if target.kind != "other" else "")],
                      subject, text or "Forwarded message attached.",
                      attachments=[Attachment("forwarded.eml", raw, "message/rfc822")])
        return self.outbox.add_draft(draft, now, patient_id=patient_id, meta=meta, about=about), target
