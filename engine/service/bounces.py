"""What a bounce does when it arrives: the outbox item it is about marked, the patient's
address marked bad, and the bounce itself filed to the patient, tagged Bounce.

Intake (engine/service/inbox_shelf.py) asks `Bounces.take` about each new message before
storing it; only a bounce (engine/core/bounces.py says which) is taken. The effects
happen before the message is stored, and each is idempotent: a crash between the two
means the message is fetched again, and the second time finds the item already bounced
and the address already marked.

A bounce is matched by the Message-ID of the message it returns, only to an item we
sent; without returned headers (some servers send none), by the recipient to the newest
item sent there. A bounce naming a message we never sent changes nothing and is kept,
unfiled, tagged Bounce. Only an address the item was really sent to is ever marked bad,
so a forged bounce cannot mark a patient who was not a recipient.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from engine.adapters.storage import RID
from engine.core import bounces, filing
from engine.core.addresses import normalise_address
from engine.core.incoming import Facts
from engine.service.answers import Taken
from engine.service.inbox_records import timeline_entry
from engine.service.outbox import Outbox

log = logging.getLogger("practicemail.service")


def header_block(raw: bytes) -> bytes:
    """The message's own header block (cheap: CRLF mail stops at the first blank line)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    return raw[: end if end >= 0 else 65536]


class Bounces:
    def __init__(self, outbox: Outbox, directory: Any) -> None:
        self.outbox = outbox  # the one Outbox: it alone reads and changes outbox items
        self.directory = directory

    def take(self, raw: bytes, f: Facts, now: datetime) -> Taken | None:
        """None for anything but a bounce (most mail: read no further than its headers)."""
        if not bounces.worth_reading(f.from_address, f.from_name, f.subject, header_block(raw)):
            return None
        found = bounces.classify(raw)
        if found is None:
            return None
        item = self.outbox.sent_item(found.message_id, found.recipient)
        record: dict[str, Any] = {"permanent": found.permanent, "reason": found.reason, "status": found.status,
                                  "recipient": found.recipient, "description": found.description,
                                  "diagnostic": found.diagnostic, "returned_message_id": found.message_id,
                                  "outbox_id": item[RID] if item else None, "patients_marked": []}
        if item is None:
            why = "a bounce of a message the practice did not send" if found.message_id \
                else "a bounce that names no message of ours"
            log.info("bounce not matched (%s)", why)
            return Taken(filing.Decision(tags=[bounces.BOUNCE_TAG], reason=why), bounce=record,
                         timeline=(timeline_entry(now, "bounce", f"{found.description}; {why}"),))
        note = self._apply(item, found, now, record)
        decision = filing.Decision(patient_id=item.get("patient_id", ""), specialist_id=item.get("specialist_id", "")
                                   if not item.get("patient_id") else "", tags=[bounces.BOUNCE_TAG],
                                   reason=f"a bounce of our message (outbox item {item[RID]})")
        return Taken(decision, bounce=record, timeline=(timeline_entry(now, "bounce", note),))

    def _apply(self, item: dict[str, Any], found: bounces.Bounce, now: datetime, record: dict[str, Any]) -> str:
        """The item bounced (or noted as delayed) and, for good, the address marked bad."""
        changed = self.outbox.note_bounce(item[RID], found.description, found.permanent, now)
        if changed is None:  # already bounced (the same bounce again), or not sent: nothing to record
            return f"outbox item {item[RID]} is {item['status']}: {found.description} (nothing changed)"
        if not found.permanent:
            return f"outbox item {item[RID]}: {found.description} (nothing changed)"
        address = self._bad_address(item, found.recipient)
        if address:
            record["patients_marked"] = self.directory.mark_address_bad(address, found.reason, item[RID], now)
        marked = ", ".join(record["patients_marked"]) or "no patient"
        return f"outbox item {item[RID]} bounced: {found.description}; address marked bad for {marked}"

    @staticmethod
    def _bad_address(item: dict[str, Any], recipient: str) -> str:
        """The address that bounced, only if the item was sent there (one recipient: that one)."""
        sent_to = [normalise_address(a) for a in item.get("envelope_to", [])]
        if recipient:
            return recipient if normalise_address(recipient) in sent_to else ""
        return sent_to[0] if len(sent_to) == 1 else ""
