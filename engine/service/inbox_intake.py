"""Intake: one IMAP or POP3 pass for an account, and the sync state that says where it ended.

No lock a command needs is held across the network. A pass holds only `Intake.pass_lock`,
which nothing but a pass takes: it serialises the accounts' sync state and the intake's
memory (engine/service/inbox_shelf.py). What reception does with messages (read, tag, file)
never takes it; both meet only in the store's own short writes, one partition file at a time
(a chunk of new records is one such write). So a click waits for a disk write at most, never
for a server.

Acknowledge after commit: a chunk of messages is written (blobs fsynced, then one write of
their records) before the sync state moves on (IMAP: the last UID) or anything is deleted on
the server (POP3, when not leaving mail there). A crash between the two means the chunk is
fetched again and dropped as known by its bytes: nothing lost, nothing doubled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from engine.adapters.incoming import ImapMailbox, IncomingSettings, Pop3Mailbox
from engine.adapters.readahead import ReadAhead
from engine.adapters.storage import Collection, RID
from engine.errors import MailServerError
from engine.service.inbox_shelf import CHUNK, CHUNK_BYTES, ReceiveReport, Shelf

log = logging.getLogger("practicemail.service")
RESYNC_LIMIT = 2000  # after a UIDVALIDITY change, look back this many messages at most
POP3_AHEAD = 8  # messages read ahead of the one being stored (bounded memory)


def _uidls(stored: str | list[str]) -> set[str]:
    """POP3 UIDLs already stored here. Kept as one line-per-UIDL string: a mailbox of 10,000
    is one JSON string to write, not 10,000 (the first format, a list, is still read)."""
    if isinstance(stored, list):
        return set(stored)
    return set(stored.split("\n")) if stored else set()


class Intake:
    def __init__(self, sync: Collection, shelf: Shelf) -> None:
        self.sync = sync
        self.shelf = shelf
        # Taken by passes only (the worker's, or a Send/Receive run on the caller's thread when
        # the worker is not running): never by a command, so it may be held across the network.
        self.pass_lock = threading.Lock()
        self._states: dict[str, dict[str, Any]] = {}

    # -- sync state ---------------------------------------------------------------------
    def _sync_record(self, key: str) -> dict[str, Any]:
        """The account's sync state, read from the store once and then kept here (intake is
        its only writer while the process holds the writer's lock)."""
        rec = self._states.get(key)
        if rec is None:
            found = self.sync.find(lambda r: r.get("key") == key)
            rec = found[0] if found else {"key": key}
            self._states[key] = rec
        return rec

    def _save_sync(self, rec: dict[str, Any]) -> None:
        body = {k: v for k, v in rec.items() if k != RID}
        if RID in rec:
            self.sync.update(rec[RID], body)
        else:
            rec[RID] = self.sync.insert(body)

    @contextmanager
    def _one_step(self) -> Iterator[None]:
        """A chunk's blobs, records and the sync state that acknowledges them, as one write where
        the store has transactions (PostgreSQL: one commit a chunk, not three). If any part
        fails, none is kept, and the shelf forgets what it took as held."""
        transaction = getattr(self.shelf.store, "transaction", None)
        if transaction is None:
            yield
            return
        try:
            with transaction():
                yield
        except BaseException:
            self.shelf.forget()
            raise

    def sync_state(self) -> list[dict[str, Any]]:
        return [{k: (len(_uidls(v)) if k == "seen" else v) for k, v in r.items() if k != RID}
                for r in self.sync.all()]

    @contextmanager
    def _pass(self, key: str, report: ReceiveReport) -> Iterator[tuple[dict[str, Any], Any]]:
        """One pass for one account: the pass lock, its sync state and what filing needs. A
        server's failure goes into the report; after any failure the state is read again from
        the store next time (what was saved is the truth, not what this pass got to)."""
        with self.pass_lock:
            state = self._sync_record(key)
            try:
                yield state, self.shelf.who()
            except MailServerError as exc:
                report.error = exc
                self._states.pop(key, None)
            except BaseException:
                self._states.pop(key, None)
                raise

    # -- IMAP -----------------------------------------------------------------------------
    def receive_imap(self, settings: IncomingSettings, now: datetime,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        report = ReceiveReport()
        key = f"imap:{settings.host}:{settings.credentials.username}:INBOX"
        with self._pass(key, report) as (state, who):
            with ImapMailbox(settings) as box:
                if on_session:
                    on_session(box)
                last = int(state.get("last_uid", 0))
                if state.get("uidvalidity") not in (None, box.uidvalidity):
                    log.warning("IMAP UIDVALIDITY changed (%s -> %s): re-syncing the last %d messages",
                                state.get("uidvalidity"), box.uidvalidity, RESYNC_LIMIT)
                    last = 0
                    uids = box.uids_after(0)[-RESYNC_LIMIT:]
                else:
                    uids = box.uids_after(last)
                state.update(uidvalidity=box.uidvalidity, last_uid=last, last_fetch=now.isoformat())
                saved = False  # each chunk's save carries the whole state; save once more only if none did
                with ReadAhead(box.fetch_chunks(uids), depth=2, name="imap-fetch", abandon=box.abort) as ahead:
                    for fetched in ahead:  # the next FETCH runs while this one is stored
                        if not fetched:
                            continue
                        with self._one_step():
                            self.shelf.commit([(f"imap uid {uid}", f"{key} uidvalidity {box.uidvalidity} uid {uid}",
                                                raw) for uid, raw in fetched], now, report, who)
                            state["last_uid"] = fetched[-1][0]
                            self._save_sync(state)
                        saved = True
                if not saved:
                    self._save_sync(state)
        return report

    # -- POP3 -----------------------------------------------------------------------------
    def receive_pop3(self, settings: IncomingSettings, now: datetime, leave_on_server: bool,
                     on_session: Callable[[Any], None] | None = None) -> ReceiveReport:
        report = ReceiveReport()
        key = f"pop3:{settings.host}:{settings.credentials.username}"
        with self._pass(key, report) as (state, who):
            with Pop3Mailbox(settings) as box:
                if on_session:
                    on_session(box)
                self._pop3_pass(box, key, state, who, now, leave_on_server, report)
        return report

    def _pop3_pass(self, box: Pop3Mailbox, key: str, state: dict[str, Any], who: Any, now: datetime,
                   leave_on_server: bool, report: ReceiveReport) -> None:
        """New messages fetched (RETRs pipelined and read ahead) and stored a chunk at a time;
        then what is durably here deleted on the server (unless left there), and QUIT."""
        seen = _uidls(state.get("seen", ""))
        listing, total = self._pop3_listing(box, state, leave_on_server)
        on_server = {uid for _, uid in listing}
        chunk: list[tuple[str, str, bytes]] = []
        chunk_meta: list[tuple[int, str]] = []
        chunk_bytes = 0
        to_delete: list[int] = [n for n, uid in listing if uid in seen] if not leave_on_server else []
        state["last_fetch"] = now.isoformat()
        saves = 0  # each chunk's save carries the whole state; save at the end only if none did

        def commit() -> None:
            nonlocal saves
            with self._one_step():
                held = [meta for meta, ok in zip(chunk_meta, self.shelf.commit(chunk, now, report, who)) if ok]
                seen.update(uid for _, uid in held)
                state["seen"] = "\n".join(sorted(seen & on_server if not leave_on_server else seen))
                self._save_sync(state)
            saves += 1
            if not leave_on_server:
                to_delete.extend(n for n, _ in held)

        wanted = [(number, uid) for number, uid in listing if uid not in seen]
        uid_of = dict(wanted)
        fetched = box.retrieve_many([number for number, _ in wanted])
        with ReadAhead(fetched, depth=POP3_AHEAD, name="pop3-retr", abandon=box.abort) as ahead:
            for number, raw in ahead:  # the next RETRs run while this one is stored
                uid = uid_of[number]
                chunk.append((f"pop3 uidl {uid}", f"{key} uidl {uid}", raw))
                chunk_meta.append((number, uid))
                chunk_bytes += len(raw)
                if len(chunk) >= CHUNK or chunk_bytes >= CHUNK_BYTES:
                    commit()
                    chunk, chunk_meta, chunk_bytes = [], [], 0
        if chunk:
            commit()
        for number in to_delete:  # only what is durably stored here
            box.delete(number)
        # everything up to `total` is stored now: the next check may start after it
        mark = {"count": total, "last_uidl": listing[-1][1] if listing else state.get("last_uidl", "")} \
            if leave_on_server and total else {"count": 0, "last_uidl": ""}
        if not saves or any(state.get(k) != v for k, v in mark.items()):
            state.update(mark)
            self._save_sync(state)
        box.quit()
        if to_delete:
            uid_at = dict(listing)
            self._forget_deleted(state, seen, {uid_at[n] for n in to_delete})

    def _forget_deleted(self, state: dict[str, Any], seen: set[str], uidls: set[str]) -> None:
        """After QUIT has applied our deletions: their UIDLs leave the seen set, so a server
        that gives one again to a new message (RFC 1939 asks it not to; some do) has that
        message fetched and stored, never deleted unread as one we already hold."""
        seen -= uidls
        state["seen"] = "\n".join(sorted(seen))
        self._save_sync(state)

    @staticmethod
    def _pop3_listing(box: Pop3Mailbox, state: dict[str, Any], leave_on_server: bool) -> tuple[list[tuple[int, str]], int]:
        """(number, UIDL) of the messages to consider, and how many the maildrop holds.

        Left on the server, a mailbox only grows: if the message at the position the last
        check ended on is still the same one, nothing before it changed (a deletion would have
        moved it), so only the positions after it are asked (`UIDL n`, pipelined), not the
        whole listing (10,000 lines a check for a practice that keeps its mail there). Any
        doubt, the whole listing."""
        known = int(state.get("count") or 0)
        if leave_on_server and known and state.get("last_uidl"):
            total = box.count()
            if total >= known and box.uidls_of([known]) == [(known, state["last_uidl"])]:
                return box.uidls_of(list(range(known + 1, total + 1))), total
            log.info("POP3 mailbox changed behind us (%d messages, was %d): reading the whole listing", total, known)
        listing = box.uidls()
        return listing, max((n for n, _ in listing), default=0)
