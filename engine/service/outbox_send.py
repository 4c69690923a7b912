"""The send pass: claimed items over one SMTP session, every outcome journalled (texts too:
`TextJournal`, for the SMS pass in engine/service/sms.py).

Split from engine/service/outbox.py, which owns the records: this module never touches them. It
journals each attempt and its outcome through the Outbox and asks it to fold the journal into the
records every `FOLD_EVERY` outcomes and at the end, so a crash mid-batch loses no outcome that was
journalled (see Outbox.recover).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters.smtp import SmtpSession
from engine.adapters.storage import RID
from engine.core import outbox as rules
from engine.core.outbox import Event
from engine.errors import (AddressNotSendable, AuthenticationRefused, MailServerError, PracticeMailError,
                           ServerRejected, TlsFailed)
from engine.service.outbox_journal import ATTEMPT

if TYPE_CHECKING:
    from engine.service.outbox import Outbox
    from engine.service.outbox_queries import SmsOutcome

log = logging.getLogger("practicemail.service")
FOLD_EVERY = 1000
AHEAD = 50  # claimed items' messages read in one go where the store can (PostgreSQL: one round trip)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    account_error: PracticeMailError | None = None
    sent_at: list[datetime] = field(default_factory=list)
    ended_early: bool = False  # before_each ended the pass (stopping, period closed, a command waiting)


class SendPass:
    """One pass's sending: holds nothing but the Outbox it journals through."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._journal = outbox._journal
        self._ahead: dict[str, bytes] = {}  # messages read ahead, by blob name

    def send_claimed(self, items: list[dict[str, Any]], session: SmtpSession, clock: Callable[[], datetime],
                     before_each: Callable[[], bool] | None = None,
                     on_sent: Callable[[datetime], None] | None = None) -> SendReport:
        """Send claimed items over one session; every outcome journalled. Stops on an account failure.

        `before_each` may wait (pacing) and returns False to end the pass early (stopping, a
        period closing, a command waiting): the items not started go back to ready untouched.
        `on_sent` hears of each send the moment it happens (pacing counts it at once).
        """
        report = SendReport()
        pending = list(items)
        try:
            while pending:
                if before_each is not None and not before_each():
                    report.ended_early = True
                    break
                item = pending[0]
                if not session.connected:
                    try:
                        session.open()
                    except MailServerError as exc:  # cannot reach or log in: about the account, not the item
                        report.account_error = exc
                        break
                if item.get("blob") not in self._ahead:
                    self._read_ahead(pending)
                self._journal({"id": item[RID], "event": ATTEMPT, "at": clock().isoformat()}, sync=False)
                if not self._send_one(item, session, clock, report, on_sent):
                    break
                pending.pop(0)
                if (report.sent + report.failed + report.retrying) % FOLD_EVERY == 0:
                    self.outbox.fold()
        finally:
            self._put_back(pending, clock(), report.account_error)
            self.outbox.fold()
        return report

    def _read_ahead(self, pending: list[dict[str, Any]]) -> None:
        """The next AHEAD items' messages in one read, where the store reads many at once. A
        failure here is nobody's: each item then reads its own, and meets the error itself."""
        try:
            self._ahead = self.outbox.messages_ahead(pending[:AHEAD])
        except PracticeMailError:
            self._ahead = {}

    def _message(self, item: dict[str, Any]) -> bytes:
        raw = self._ahead.pop(item.get("blob"), None)
        return raw if raw is not None else self.outbox.blob(item)

    def _send_one(self, item: dict[str, Any], session: SmtpSession, clock: Callable[[], datetime],
                  report: SendReport, on_sent: Callable[[datetime], None] | None) -> bool:
        """One item's attempt and its outcome journalled; False when the account failed (the pass stops).

        Whatever goes wrong with one item stays with that item: an error we did not foresee
        fails it (with a hint) and the pass goes on to the next."""
        try:
            refused = session.send(item["from"], item["envelope_to"], self._message(item))
        except (AuthenticationRefused, TlsFailed) as exc:
            report.account_error = exc
            return False
        except ServerRejected as exc:
            event = Event.PERMANENT_FAILURE if exc.permanent else Event.TEMPORARY_FAILURE
            self._record(item, event, clock(), exc, report)
        except MailServerError as exc:  # timeouts, dropped connections: an attempt counted
            self._record(item, Event.TEMPORARY_FAILURE, clock(), exc, report)
        except AddressNotSendable as exc:  # this address cannot go to this server
            if exc.sender:  # the practice's own: no item can go, so it is about the account
                report.account_error = exc
                return False
            self._record(item, Event.PERMANENT_FAILURE, clock(), exc, report)
        except PracticeMailError as exc:  # its stored message cannot be read
            self._record(item, Event.PERMANENT_FAILURE, clock(), PracticeMailError(
                f"the stored message could not be read: {exc.message}",
                hint="Write this email again (its stored copy is damaged); if it happens to others, "
                     "export diagnostics for support."), report)
        except Exception as exc:  # noqa: BLE001 - one item's surprise must not stop all outgoing mail
            log.exception("outbox item %d: unexpected error while sending", item[RID])
            session.close()  # its state is unknown: the next item starts a fresh connection
            self._record(item, Event.PERMANENT_FAILURE, clock(), PracticeMailError(
                f"could not be sent: {type(exc).__name__}: {exc}",
                hint="Check the recipients' addresses, then use Reset Failed; if it fails again, "
                     "export diagnostics for support."), report)
        else:
            now = clock()
            entry = {"id": item[RID], "event": Event.DELIVERED.value, "at": now.isoformat()}
            if refused:
                entry["error"] = "some recipients were refused: " + ", ".join(refused)
            self._journal(entry)
            report.sent += 1
            report.sent_at.append(now)
            if on_sent is not None:
                on_sent(now)
        return True

    def _put_back(self, pending: list[dict[str, Any]], now: datetime, err: PracticeMailError | None) -> None:
        """Items claimed but not attempted go back to ready: with the account's error when that
        stopped the pass, else simply released (nothing is counted against them)."""
        for item in pending:
            if err is not None:
                self._journal({"id": item[RID], "event": Event.ACCOUNT_FAILURE.value, "at": now.isoformat(),
                               "error": err.message, "hint": err.hint})
            else:
                self._journal({"id": item[RID], "event": Event.RELEASE.value, "at": now.isoformat()})

    def _record(self, item: dict[str, Any], event: Event, now: datetime, exc: PracticeMailError,
                report: SendReport) -> None:
        code = getattr(exc, "code", None)
        hint = rules.failure_hint(event, item, exc.hint)
        self._journal({"id": item[RID], "event": event.value, "at": now.isoformat(), "error": exc.message,
                       "hint": hint, "code": code})
        last = event is Event.PERMANENT_FAILURE or item.get("attempts", 0) + 1 >= rules.MAX_ATTEMPTS
        if last:
            report.failed += 1
        else:
            report.retrying += 1
        report.errors.append({"id": item[RID], "error": exc.message, "hint": hint})
        log.warning("outbox item %d: %s", item[RID], exc.message)



class TextJournal:
    """The SMS pass's outcomes, journalled as the email pass's are: each text's attempt line before
    it goes to the provider, its outcome (with the provider's id) the moment the provider answers,
    folded into the records every FOLD_EVERY outcomes and at the end. A kill mid-pass resends only
    the text in flight (its attempt has no outcome: Outbox.recover flags it)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._journal = outbox._journal
        self._outcomes = 0

    def attempt(self, rid: int, at: datetime) -> None:
        self._journal({"id": rid, "event": ATTEMPT, "at": at.isoformat()}, sync=False)

    def outcome(self, o: SmsOutcome) -> None:
        entry: dict[str, Any] = {"id": o.rid, "event": o.event.value, "at": o.at.isoformat()}
        if o.event is Event.DELIVERED:
            entry["fields"] = {"provider_sid": o.provider_sid, "provider_status": o.provider_status}
        else:
            entry.update(error=o.error, hint=o.hint, code=o.code)
        self._journal(entry)
        self._outcomes += 1
        if self._outcomes % FOLD_EVERY == 0:
            self.outbox.fold()

    def finish(self, not_started: list[int], now: datetime) -> None:
        """The claimed texts never attempted go back to ready untouched; everything folded."""
        try:
            for rid in not_started:
                self._journal({"id": rid, "event": Event.RELEASE.value, "at": now.isoformat()})
        finally:
            self.outbox.fold()
