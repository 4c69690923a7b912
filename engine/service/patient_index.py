"""The patients' index (issue 19): each patient's sort order, searchable text, family and mailbox,
kept by the Directory (engine/service/directory.py) while the patients are unchanged and patched
for its own writes: what a keystroke in the Patients view searches, what names a row's family,
and what finds the patients a new address would share a mailbox with (the shared-address rule
of a save), so none of those reads every patient."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core import directory as rules
from engine.core.addresses import mailbox_key

_SEARCHED = ("title", "first_name", "last_name", "date_of_birth", "mobile", "email", "id")  # what haystack reads


@functools.lru_cache(maxsize=1 << 16)
def _haystack(values: tuple[Any, ...]) -> str:
    """A patient's searchable text (rules.haystack) by the values it is made from: kept, so a
    rebuild of the index works out only the patients that changed. Values a record can hold
    are JSON (a list is unhashable: worked out, not kept)."""
    return rules.haystack(dict(zip(_SEARCHED, values)))


def _searched(values: tuple[Any, ...]) -> str:
    try:
        return _haystack(values)
    except TypeError:  # an unhashable value (a list where a name should be)
        return rules.haystack(dict(zip(_SEARCHED, values)))


@functools.lru_cache(maxsize=1 << 16)
def mailbox(email: str) -> str:
    """An address's mailbox (mailbox_key), kept like _haystack: a rebuild works out the changed."""
    return mailbox_key(email)


Family = tuple[str, str, str]  # (family, code, first name)
Entry = tuple[str, str, Family | None, str | None]  # (sort order, searchable text, family, mailbox)


def entry(r: Mapping[str, Any]) -> Entry:
    """One patient's index entry, from the stored record."""
    order = "\x00".join((str(r.get("last_name", "")).casefold(), str(r.get("first_name", "")).casefold(),
                         str(r.get("id", ""))))  # one string: sorted as the tuple was, faster
    family = (str(r["family_id"]), str(r.get("id", "")), str(r.get("first_name") or "")) \
        if r.get("family_id") else None
    email = r.get("email")
    box = mailbox(email) if isinstance(email, str) and email else None
    return order, _searched(tuple(r.get(f) for f in _SEARCHED)), family, box


def _put(groups: dict[str, tuple[int, ...]], key: str, rid: int) -> None:
    groups[key] = tuple(sorted((*groups.get(key, ()), rid)))


def _take(groups: dict[str, tuple[int, ...]], key: str, rid: int) -> None:
    left = tuple(i for i in groups.get(key, ()) if i != rid)
    if left:
        groups[key] = left
    else:
        groups.pop(key, None)


@dataclass(frozen=True)
class PatientIndex:
    """Never changed once made: a patch makes a new one (a search on another thread reads the old)."""

    entries: list[tuple[str, str, int]]  # (sort order: last, first, code, searchable text, record id), sorted
    families: dict[str, tuple[tuple[str, str], ...]]  # family -> its members' (code, first name), by record id
    by_rid: dict[int, Entry]  # each record id's entry: what a patch takes out
    members: dict[str, tuple[int, ...]]  # family -> its members' record ids, increasing
    mailboxes: dict[str, tuple[int, ...]]  # mailbox (mailbox_key of the email) -> record ids, increasing

    def patched(self, changed: Mapping[int, Mapping[str, Any] | None]) -> "PatientIndex":
        """This index with the records named replaced by what they hold now (None: removed):
        equal to a build from scratch of the collection so changed (test_patient_index.py)."""
        entries, by_rid = list(self.entries), dict(self.by_rid)
        members, mailboxes = dict(self.members), dict(self.mailboxes)
        touched: set[str] = set()
        for rid, rec in changed.items():
            old = by_rid.pop(rid, None)
            if old is not None:
                at = bisect.bisect_left(entries, (old[0], old[1], rid))
                if at < len(entries) and entries[at] == (old[0], old[1], rid):
                    del entries[at]
                if old[2] is not None:
                    members[old[2][0]] = tuple(i for i in members.get(old[2][0], ()) if i != rid)
                    touched.add(old[2][0])
                if old[3] is not None:
                    _take(mailboxes, old[3], rid)
            if rec is None:
                continue
            new = by_rid[rid] = entry(rec)
            bisect.insort(entries, (new[0], new[1], rid))
            if new[2] is not None:
                members[new[2][0]] = tuple(sorted((*members.get(new[2][0], ()), rid)))
                touched.add(new[2][0])
            if new[3] is not None:
                _put(mailboxes, new[3], rid)
        families = dict(self.families)
        for f in touched:
            if members.get(f):
                families[f] = tuple((by_rid[i][2] or ("", "", ""))[1:] for i in members[f])  # type: ignore[misc]
            else:
                members.pop(f, None)
                families.pop(f, None)
        return PatientIndex(entries, families, by_rid, members, mailboxes)
