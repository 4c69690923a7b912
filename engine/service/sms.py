"""Text messages: queued in the one outbox (kind `sms`), sent through the SMS provider by a
small hook beside the email pass, delivery status polled, replies fetched and filed to the
patient by number; an opt-out word (sms.opt_out_words, STOP...) sets the patient's preference
to none, a confirmation word (sms.confirm_words, C, YES...) confirms the patient's next appointment.

Quiet hours: an automatic text is never due inside them (its deliver-after is moved to
where they end, so the worker sleeps instead of spinning); a manual send inside them is
refused unless the person says so (`even_in_quiet_hours`). With no provider set, due texts
fail at once with a hint (reset them once it is set up), instead of waiting unseen.

Sending keeps email's crash rule: each text's attempt and outcome go to the outbox's journal
(engine/service/outbox_send.py, `TextJournal`), folded into the records at the end of the pass,
so a kill mid-pass resends only the text in flight, flagged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.proxy import proxy_for
from engine.adapters.sms import Balance, SmsProvider, SmsSettings, provider_for
from engine.adapters.storage import RID
from engine.core import pacing
from engine.core import sms as rules
from engine.core.directory import preference
from engine.core.outbox import MAX_ATTEMPTS, Event
from engine.core.schedule import Due
from engine.errors import (InputInvalid, PracticeMailError, SmsAccountRefused, SmsNotSetUp, SmsRefused,
                           SmsUnreachable)
from engine.service.inbox import Inbox, TextReply
from engine.service.outbox import NewText, Outbox, SmsOutcome, SmsStatus
from engine.service.outbox_send import TextJournal
from engine.service.practice import Practice

log = logging.getLogger("practicemail.service")
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FEW = 20  # texts queued at once that are looked up one by one (queue_many)
ACCOUNT = "sms.account"  # the provider's practice ID: locked after a successful test
UNLOCK_WARNING = ("Changing the practice ID sends texts from another provider account: replies and delivery "
                  "reports of texts already sent stay with the old account, and its credit does not move.")


@dataclass
class TextReport:
    sent: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReplyReport:
    fetched: int = 0
    filed: int = 0
    opted_out: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)


class Texts:
    def __init__(self, practice: Practice, outbox: Outbox, provider: SmsProvider | None = None,
                 inbox: Inbox | None = None) -> None:
        """`inbox`: where replies are filed (the engine's); one over the same store, built when
        replies are first fetched, when not given (queueing a text never needs one)."""
        self.practice = practice
        self.outbox = outbox
        self._provider = provider
        self._built_from: SmsSettings | None = None  # None: given by the caller, kept whatever the settings
        self._built_at: object = None  # the settings snapshot the provider was last checked against
        self._inbox = inbox
        self.replies = practice.store.collection("sms_replies")

    def inbox(self) -> Inbox:
        if self._inbox is None:
            self._inbox = Inbox.for_practice(self.practice, self.outbox)
        return self._inbox

    # -- settings and the provider -------------------------------------------------------------
    def sms_settings(self) -> SmsSettings:
        s = self.practice.settings
        # the shared proxy settings, as sign-in and booking links read them (signin.practice_proxy,
        # not imported here: its OAuth libraries are slow to load and most commands never sign in)
        proxy = proxy_for(s.snapshot().proxy, lambda: s.secret("proxy.password"))
        return SmsSettings(s.get("sms.provider"), s.get("sms.account"), s.secret("sms.secret"), s.get("sms.sender"),
                           s.get("sms.api_url"), ca_file=s.get("tls.ca_file"), proxy=proxy)

    def provider(self) -> SmsProvider:
        """The provider for the settings as they are now (built again after they change).

        Kept while the stored settings are the ones it was checked against (the snapshot is the
        same object until any stored value, a sealed secret too, changes): a pass neither decrypts
        the secrets again nor builds a new HTTP client (and its TLS context, and its connections)."""
        if self._provider is not None and self._built_from is None:
            return self._provider
        snap = self.practice.settings.snapshot()
        if self._provider is not None and snap is self._built_at:
            return self._provider
        wanted = self.sms_settings()
        if self._provider is None or wanted != self._built_from:
            self.close()
            self._provider, self._built_from = provider_for(wanted), wanted
        self._built_at = snap
        return self._provider

    def test(self, now: datetime) -> Balance:
        """The setup's Test: the provider asked for the balance (nothing is sent). Once it answers,
        the practice ID is locked (`unlock_account` undoes it): replies and delivery reports are
        the account's, so a changed ID by mistake would lose them unseen."""
        balance = self.provider().balance()
        account = self.practice.settings.get(ACCOUNT)
        if account and not self.practice.settings.locked(ACCOUNT):
            self.practice.settings.lock(ACCOUNT, f"the SMS provider's test succeeded on {now:%Y-%m-%d}",
                                        now.isoformat())
        return balance

    def account_locked(self) -> bool:
        return self.practice.settings.locked(ACCOUNT) is not None

    def unlock_account(self, by: str = "") -> str:
        """The practice ID may be changed again (a super user's action, checked at the App's
        door): the warning to show. `by`: who unlocked it, for the log."""
        if not self.practice.settings.unlock(ACCOUNT):
            raise InputInvalid("the practice ID is not locked", hint="It can be changed as it is.")
        log.warning("the SMS practice ID was unlocked by %s", by or "the desk")
        return UNLOCK_WARNING

    def abort(self) -> None:
        """From another thread (the service's stop): a call waiting for the provider fails now."""
        provider = self._provider
        if provider is not None:
            provider.abort()

    def close(self) -> None:
        if self._provider is not None:
            self._provider.close()
            if self._built_from is not None:
                self._provider, self._built_at = None, None

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.practice.settings.get("practice.timezone"))

    def _quiet(self) -> tuple[Any, Any] | None:
        return rules.parse_quiet_hours(self.practice.settings.get("sms.quiet_hours") or "")

    def in_quiet_hours(self, now: datetime) -> bool:
        return rules.in_quiet_hours(now, self._tz(), self._quiet())

    # -- queueing --------------------------------------------------------------------------------
    def check_text(self, text: str) -> rules.Segments:
        if not text.strip():
            raise InputInvalid("the text is empty", hint="Type the message.")
        if _CONTROL.search(text):
            raise InputInvalid("the text has a control or direction character", hint="Type it again in plain words.")
        seg = rules.segments(text)
        most = int(self.practice.settings.get("sms.max_segments"))
        if seg.parts > most:
            raise InputInvalid(f"the text needs {seg.parts} messages; the practice allows {most}",
                               hint="Shorten it (an emoji or a character like ç makes every part shorter).")
        return seg

    def queue(self, patient_id: str, text: str, now: datetime, *, deliver_after: datetime | None = None,
              automatic: bool = False, even_in_quiet_hours: bool = False, meta: dict[str, Any] | None = None,
              not_after: datetime | None = None) -> int:
        """One text to a patient's mobile. Automatic: moved past quiet hours (refused when that would
        be at or after `not_after`, an appointment's start). Manual: refused inside them unless
        `even_in_quiet_hours`."""
        t = self._checked(self.practice.directory.require("patients", patient_id), text, now, deliver_after,
                          automatic, even_in_quiet_hours, meta, not_after)
        return self.outbox.add_sms(t.to, t.text, now, sender=t.sender, parts=t.parts, deliver_after=t.deliver_after,
                                   patient_id=t.patient_id, automatic=t.automatic, meta=meta)

    def queue_many(self, wanted: list[tuple[str, str, datetime, dict[str, Any]]],
                   now: datetime) -> tuple[list[int], list[tuple[int, InputInvalid]]]:
        """Automatic texts (patient id, text, deliver-after, meta), checked as `queue` checks them and
        queued in one durable write (a recall run's): the ids, and (index, why) of those refused."""
        directory = self.practice.directory
        # each look-up scans the patients: many texts read them all once instead
        patients = {p["id"]: p for p in directory.list("patients")} if len(wanted) > FEW else {}
        ok, refused = [], []
        for i, (patient_id, text, at, meta) in enumerate(wanted):
            try:
                patient = patients.get(patient_id) or directory.require("patients", patient_id)
                ok.append(self._checked(patient, text, now, at, True, False, meta, None))
            except InputInvalid as exc:
                refused.append((i, exc))
        return self.outbox.add_sms_many(ok, now) if ok else [], refused

    def _checked(self, patient: dict[str, Any], text: str, now: datetime, deliver_after: datetime | None,
                 automatic: bool, even_in_quiet_hours: bool, meta: dict[str, Any] | None,
                 not_after: datetime | None) -> NewText:
        patient_id = patient["id"]
        if not patient.get("mobile"):
            raise InputInvalid(f"patient {patient_id} has no mobile number", hint="Add the mobile number first.")
        if preference(patient) == "none":
            raise InputInvalid(f"patient {patient_id} has opted out of messages",
                               hint="The patient asked for no messages (a STOP reply, or their preference).")
        seg = self.check_text(text)
        at = deliver_after or now
        if automatic:
            at = rules.quiet_ends(at, self._tz(), self._quiet())
            if not_after is not None and at >= not_after:
                raise InputInvalid("after quiet hours it would be too late", hint="A reminder rule with an earlier "
                                   "time (outside sms.quiet_hours) avoids this.")
        elif self.in_quiet_hours(at) and not even_in_quiet_hours:
            raise InputInvalid(f"it is quiet hours ({self.practice.settings.get('sms.quiet_hours')})",
                               hint="Send it anyway only if the patient expects it (--even-in-quiet-hours).")
        return NewText(patient["mobile"], text, self.practice.settings.get("sms.sender"), seg.parts, at, patient_id,
                       automatic, meta)

    # -- sending (the engine's hook calls this) ------------------------------------------------------
    def send_due(self, clock: Callable[[], datetime], manual: bool,
                 recent_texts: list[datetime] | None = None) -> TextReport:
        """Send the due texts. `recent_texts`: text pacing's memory (the engine's), each text sent
        appended to it; an automatic pass sends only what sms.per_minute lets go now (at most one
        when paced: the next one's slot is later) and the worker wakes for the next slot."""
        report = TextReport()
        now = clock()
        due = self.outbox.due_sms(now, manual)
        if not due:
            return report
        if not manual and self.in_quiet_hours(now):
            later = rules.quiet_ends(now, self._tz(), self._quiet())
            # not due until they end: the worker sleeps instead of spinning
            self.outbox.defer(due, later, now, why="quiet hours")
            return report
        recent = recent_texts if recent_texts is not None else []
        s = self.practice.settings.snapshot().schedule
        if not manual and s.sms_per_minute:
            slot = pacing.next_automatic_send(now, recent, s.sms_per_minute)
            if slot > now:
                return report  # not yet: the schedule rule wakes the worker at the slot
            due = [min(due, key=lambda rid: (Due.of(rid, self.outbox.get(rid)).at, rid))]  # the worker's order
        provider: SmsProvider | None = None
        setup_error: Exception | None = None
        try:
            provider = self.provider()
        except SmsNotSetUp as exc:
            setup_error = exc
        claimed, journal, done = self.outbox.claim(due, now), TextJournal(self.outbox), 0
        try:
            for item in claimed:  # each with its number and words, from the claim
                journal.attempt(item[RID], clock())  # before the text goes: a kill from here on flags it
                recent.append(clock())  # every text counts for text pacing the moment it goes
                journal.outcome(self._send_one(item, (item["envelope_to"][0], item["text"]), provider, setup_error,
                                               clock, report))
                done += 1
        finally:  # an exception too: what the provider took is recorded, the rest goes back to ready
            journal.finish([item[RID] for item in claimed[done:]], clock())
        return report

    def _send_one(self, item: dict[str, Any], message: tuple[str, str], provider: SmsProvider | None,
                  setup_error: Exception | None,
                  clock: Callable[[], datetime], report: TextReport) -> SmsOutcome:
        """One text to the provider; its outcome (journalled by the caller)."""
        try:
            if provider is None:
                raise setup_error or SmsNotSetUp("no SMS provider is set up")
            accepted = provider.send(*message)
        except (SmsRefused, SmsNotSetUp) as exc:  # this text, or nothing to send it with: reset once fixed
            return self._failed(item, Event.PERMANENT_FAILURE, clock(), exc, report)
        except (SmsUnreachable, SmsAccountRefused) as exc:
            return self._failed(item, Event.TEMPORARY_FAILURE, clock(), exc, report)
        report.sent += 1
        return SmsOutcome(item[RID], Event.DELIVERED, clock(), provider_sid=accepted.sid,
                          provider_status=accepted.status)

    def _failed(self, item: dict[str, Any], event: Event, now: datetime, exc: PracticeMailError,
                report: TextReport) -> SmsOutcome:
        if event is Event.PERMANENT_FAILURE or item.get("attempts", 0) + 1 >= MAX_ATTEMPTS:
            report.failed += 1
        report.errors.append({"id": item[RID], "error": exc.message, "hint": exc.hint})
        log.warning("text %d: %s", item[RID], exc.message)
        return SmsOutcome(item[RID], event, now, exc.message, exc.hint, getattr(exc, "code", None))

    # -- delivery status -------------------------------------------------------------------------------
    def poll_statuses(self, now: datetime, min_age: timedelta | None = None) -> int:
        """Ask the provider about every sent text not yet final (sent at least `min_age` ago, when
        given: one sent a moment ago is still queued); the changes in one write. How many changed."""
        changes: list[SmsStatus] = []
        provider: SmsProvider | None = None
        for item in self.outbox.texts_awaiting_status(now, min_age):
            provider = provider or self.provider()  # the settings read once, not per text
            d = provider.status(item["provider_sid"])
            if d.status != item.get("provider_status"):
                reason = f"{d.error_message} (error {d.error_code})" if d.error_code else d.error_message
                changes.append(SmsStatus(item.id, d.status, reason))
        if changes:
            self.outbox.record_sms_statuses(changes, now)
        return len(changes)

    # -- replies -------------------------------------------------------------------------------------------
    def fetch_replies(self, now: datetime) -> ReplyReport:
        """New replies from the provider, filed by number (in the inbox, tagged SMS, and in
        `sms_replies`, which `list_replies` reads); STOP opts out; C/YES confirms."""
        report = ReplyReport()
        known = {r.get("sid") for r in self.replies.all()}
        patients = self.practice.directory.list("patients")
        words = self.reply_words()
        for m in self.provider().incoming():
            if m.sid in known:
                continue
            report.fetched += 1
            try:
                number = rules.normalise_mobile(m.from_number, self.practice.settings.get("practice.country"))
            except rules.NotAMobile:
                number = m.from_number
            matches = sorted(p["id"] for p in patients if p.get("mobile") == number)
            record = {"sid": m.sid, "from": number, "body": m.body, "received": m.received.isoformat(),
                      "fetched": now.isoformat(), "patient_id": matches[0] if len(matches) == 1 else "",
                      "candidates": matches if len(matches) > 1 else [], "tags": ["SMS"]}
            answer = rules.classify_reply(m.body, words[0], words[1])
            if answer == rules.OPT_OUT_REPLY and matches:
                for pid in matches:  # a shared family number: everyone on it asked
                    self.practice.directory.update("patients", pid, {"preference": "none"})
                    report.opted_out.append(pid)
                record["tags"].append("opt-out")
            elif answer == rules.CONFIRM_REPLY and matches:
                aid = self._confirm_next(matches, now)
                if aid:
                    record["appointment_id"] = aid
                    record["tags"].append("confirmed")
                    report.confirmed.append(aid)
            # the inbox first: a pass stopped between the two fetches it again, and the inbox takes it once
            self.inbox().take_text(TextReply(number, m.body, m.received, m.sid, record["patient_id"],
                                           tuple(record["candidates"]), tuple(record["tags"][1:])), now)
            self.replies.insert(record)
            report.filed += 1 if record["patient_id"] else 0
            log.info("text reply %s filed to %s", m.sid, record["patient_id"] or "nobody (not one patient)")
        return report

    def reply_words(self) -> tuple[frozenset[str], frozenset[str]]:
        """(confirmation words, opt-out words) as the practice set them (sms.confirm_words,
        sms.opt_out_words)."""
        s = self.practice.settings
        return (frozenset(rules.parse_words(s.get("sms.confirm_words") or "")),
                frozenset(rules.parse_words(s.get("sms.opt_out_words") or "")))

    def _confirm_next(self, patient_ids: list[str], now: datetime) -> str:
        """The coming appointment of the patient(s) on that number the reply answers (the one last
        reminded by text before it was read, else the soonest: engine/core/sms.py), marked confirmed.
        Our own clock, not the provider's time of the reply: the two need not agree."""
        appts = self.practice.store.collection("appointments")
        coming = [a for a in appts.find(lambda r: r.get("patient_id") in patient_ids and r.get("status") != "cancelled")
                  if datetime.fromisoformat(a["start"]) > now]
        reminded: dict[str, datetime] = {}
        for a in coming:
            for item in self.outbox.for_appointment(a["id"]):  # its texts for the time as it stands
                sent = item.record.get("sent_at")
                if item.kind != "sms" or not sent or item.record.get("appointment_version") != a.get("version", 1):
                    continue
                at = datetime.fromisoformat(sent)
                if at <= now:
                    reminded[a["id"]] = max(at, reminded.get(a["id"], at))
        aid = rules.appointment_to_confirm([(a["id"], datetime.fromisoformat(a["start"])) for a in coming], reminded)
        if not aid:
            return ""
        rec = next(a for a in coming if a["id"] == aid)
        appts.update(rec[RID], {"confirmed": True, "confirmed_at": now.isoformat()})
        return str(aid)

    def check_provider(self, now: datetime, manual: bool) -> ReplyReport | None:
        """Replies fetched and delivery statuses polled: at every manual pass, and otherwise at most
        every `schedule.check_every_minutes` (the worker wakes at least each minute for its heartbeat).
        A provider failure is logged and tried at the next check; it never stops the service."""
        s = self.practice.settings
        if s.get("sms.provider") == "none":
            return None
        state = self.practice.store.collection("sms_state")
        found = state.all()
        last = datetime.fromisoformat(found[0]["last_check"]) if found and found[0].get("last_check") else None
        every = timedelta(minutes=int(s.get("schedule.check_every_minutes") or 15))
        if not manual and last is not None and now - last < every:
            return None
        try:
            report = self.fetch_replies(now)
            self.poll_statuses(now, min_age=timedelta(minutes=1))
        except PracticeMailError as exc:
            log.warning("checking the SMS provider failed: %s", exc.message)
            report = None
        if found:
            state.update(found[0][RID], {"last_check": now.isoformat()})
        else:
            state.insert({"last_check": now.isoformat()})
        return report

    def list_replies(self) -> list[dict[str, Any]]:
        return sorted(({k: v for k, v in r.items() if k != RID} for r in self.replies.all()),
                      key=lambda r: r["received"], reverse=True)
