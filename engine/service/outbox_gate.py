"""The confidentiality gate as the Outbox applies it: the directory's book, cached, and the verdict.

Split from engine/service/outbox.py. Why the gate sits in the Outbox at all: every path that
queues mail (compose, reply, forward, mass mail, reminders, `outbox add`, the support email,
drafts revised and sent) ends there, so it is checked where none can pass by.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from engine.adapters.storage import Collection, Storage
from engine.core import confidentiality
from engine.core.message import Draft


_EMPTY = ("empty",)


def _mark(collection: Collection) -> Hashable | None:
    """A collection's change signature; for one without a signature (TinyDB's before its file
    exists: a practice with no specialists) that is empty now, a mark that says so. The book is
    kept under that mark only if it was built from that collection empty, and the mark matches
    again only while it stays empty: so a practice without specialists no longer builds the
    book for every batch (20 times in a 10,000-patient recall run, issue 18)."""
    mark = collection.signature()
    return _EMPTY if mark is None and len(collection) == 0 else mark


class Gate:
    def __init__(self, store: Storage) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._book_cache: tuple[tuple[Any, ...], confidentiality.Book] | None = None

    def book(self) -> confidentiality.Book:
        """The directory as the gate sees it (the same store the Directory reads), built again
        only when one of its collections changed (their change signatures, which see another
        process's writes on either backend). (5,000 patients take ~130 ms to build; a batch of
        confirmations would otherwise pay that per item.)"""
        colls = [self.store.collection(k) for k in ("patients", "providers", "specialists")]
        marks = [_mark(c) for c in colls]
        signature = tuple(marks) if all(m is not None for m in marks) else None  # None: never cached
        with self._lock:
            if signature is not None and self._book_cache is not None and self._book_cache[0] == signature:
                return self._book_cache[1]
        contents = [c.all() for c in colls]
        if any(m is _EMPTY and rows for m, rows in zip(marks, contents)):
            signature = None  # written to between the two reads: this book is not kept
        book = confidentiality.Book.build(*contents)
        with self._lock:
            self._book_cache = (signature, book) if signature is not None else None
        return book


def judge(draft: Draft, about: confidentiality.About, book: confidentiality.Book) -> list[dict[str, Any]]:
    """Refuse a draft the rules refuse; the history lines an allowed one carries.

    Each path still says what the mail is about (`About`,
    a typed value; by default the `patient_id` it is filed under), because only it knows."""
    verdict = confidentiality.gate([r.address for r in draft.to], [r.address for r in draft.cc],
                                   [r.address for r in draft.bcc], bool(draft.attachments), about, book)
    verdict.raise_if_refused()
    names = ", ".join(p.name or p.id for p in book.about(about.patient_ids))
    return [{"event": "confirmed outside", "detail": f"reception confirmed that {names}'s mail may go to {a}"}
            for a in verdict.confirmed]


def about_of(about: confidentiality.About | None, patient_id: str | None,
             family: list[str] | None = None) -> confidentiality.About:
    """What a draft is about when its path did not say: the family it is for, or its patient."""
    if about is not None:
        return about
    return confidentiality.About(tuple(family or ([patient_id] if patient_id else [])))
