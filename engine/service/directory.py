"""The practice directory as stored: patients, providers, specialists, locations, appointments."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.adapters.csvfile import read_rows
from engine.adapters.storage import RID, Storage
from engine.core import directory as rules
from engine.core.addresses import is_valid_address, normalise_address
from engine.errors import InputInvalid, NotFound
from engine.service.patient_index import Entry, PatientIndex, entry, mailbox

log = logging.getLogger("practicemail.store")

# Held around every write of the patients and the index patched for it (Directory._wrote): the
# one writer process (TinyDB's folder lock, PostgreSQL's advisory lock; a desk never writes a
# patient) writes them only here, so no other write lands between a write's signature before and
# after, and a patched index is never kept under a signature that holds a change it has not seen.
_WRITING = threading.RLock()


class _Stored:
    """Whether a record of a kind has a key (`in`): what one row's check asks of rules.Known and
    of a kind's existing keys, answered for the few keys the row names by an equality look-up
    (PostgreSQL's index), where sets of every key read every record: 0.5-0.8 s a save at 20,000
    patients (issue 19)."""

    def __init__(self, coll: Any, column: str) -> None:
        self._coll, self._column = coll, column

    def __contains__(self, key: object) -> bool:
        return bool(self._coll.ids_by(self._column, key))


class Directory:
    def __init__(self, store: Storage, timezone: Callable[[], str], region: Callable[[], str] | None = None) -> None:
        self._store = store
        self._timezone = timezone
        self._region = region or (lambda: "GB")  # mobiles without +code are read as this country's
        self._created_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._index: tuple[Any, PatientIndex] | None = None
        # each stored patient's index entry, by the identity of the record it was made from
        self._entries: dict[int, tuple[Mapping[str, Any], str, str, tuple[str, str, str] | None, str | None]] = {}

    def _coll(self, kind: str):  # noqa: ANN202 - Collection
        if kind not in rules.KINDS:
            raise InputInvalid(f"unknown kind {kind!r}", hint=f"Use one of: {', '.join(rules.KINDS)}.")
        return self._store.collection(kind)

    def list(self, kind: str) -> list[dict[str, Any]]:
        return self._coll(kind).all()

    def keys(self, kind: str) -> frozenset[str]:
        key = rules.KEY_COLUMN[kind]
        return frozenset(r[key] for r in self._coll(kind).all())

    def exists(self, kind: str, key: str) -> bool:
        """A record of `kind` has this key: looked up (find_by's index), not every key read."""
        return key in self._stored(kind)

    def count(self, kind: str) -> int:
        return len(self._coll(kind))

    def find(self, kind: str, key: str) -> dict[str, Any] | None:
        col = rules.KEY_COLUMN[kind]
        found = self._coll(kind).find_by(col, key)
        return found[0] if found else None

    def require(self, kind: str, key: str) -> dict[str, Any]:
        rec = self.find(kind, key)
        if rec is None:
            raise NotFound(f"no {kind[:-1]} with {rules.KEY_COLUMN[kind]} {key!r}")
        return rec

    def _known(self, extra_locations: frozenset[str] = frozenset(), extra_patients: frozenset[str] = frozenset(),
               extra_providers: frozenset[str] = frozenset()) -> rules.Known:
        return rules.Known(
            providers=self.keys("providers") | extra_providers,
            patients=self.keys("patients") | extra_patients,
            locations=self.keys("locations") | extra_locations,
        )

    def _stored(self, kind: str) -> _Stored:
        return _Stored(self._coll(kind), rules.KEY_COLUMN[kind])

    def _checked(self, kind: str, row: Mapping[str, Any], new: bool,
                 but_not: str | None = None) -> tuple[dict[str, Any], list[Any]]:
        """One row checked as an import checks it (rules.validate_rows: the same answers), reading
        only what its rules need: the keys it names, and the patients whose address reaches its
        address's mailbox (the shared-address rule), not `but_not` (the patient being changed)."""
        known = rules.Known(providers=self._stored("providers"), patients=self._stored("patients"),
                            locations=self._stored("locations"))
        records, problems = rules.validate_rows(kind, [(1, row)], known, self._stored(kind) if new else (),
                                                region=self._region())
        rec = records[0]
        if kind == "patients" and rec.get("email") and is_valid_address(rec["email"]):
            sharing = [p for p in self.same_mailbox(rec["email"]) if but_not is None or p.get("id") != but_not]
            problems.extend(rules.shared_address_problems([(1, rec)], sharing))
        return rec, problems

    def same_mailbox(self, email: str) -> list[dict[str, Any]]:
        """The stored patients whose address reaches the mailbox `email` does (mailbox_key),
        oldest first: found in the patients' index, so only they are read."""
        coll = self._coll("patients")
        rids = self._patient_index().mailboxes.get(mailbox(email), ())
        return [r for r in (coll.get(rid) for rid in rids) if r is not None]

    def import_rows(self, kind: str, rows: list[tuple[int, Mapping[str, Any]]], source: str = "import") -> int:
        """All rows or none; raises InputInvalid naming every bad row and column."""
        coll = self._coll(kind)
        records, problems = rules.validate_rows(kind, rows, self._known(), self.keys(kind),
                                                ZoneInfo(self._timezone()),
                                                self.list("patients") if kind == "patients" else [],  # shared addresses
                                                self._region())
        if problems:
            raise InputInvalid(f"{source}: {len(problems)} problem(s), nothing imported", problems)
        for r in records:
            r["source"] = "import"
        with _WRITING:  # not patched: the next search rebuilds (imports are rare)
            coll.insert_many(records)
        log.info("imported %d %s from %s", len(records), kind, source)
        return len(records)

    def import_csv(self, kind: str, path: Path) -> int:
        self._coll(kind)
        rows = read_rows(path, rules.COLUMNS[kind], rules.REQUIRED[kind])
        return self.import_rows(kind, rows, path.name)

    def add_patient(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A new patient entered by reception (not an import): listeners may send the welcome email."""
        rec, problems = self._checked("patients", fields, new=True)
        if problems:
            raise InputInvalid("the patient was not added", [p.__class__(None, p.column, p.message) for p in problems],
                               hint="Correct the details named and try again.")
        rec["source"] = "reception"
        coll = self._coll("patients")
        with _WRITING:
            before = coll.signature()
            rec[RID] = coll.insert(rec)
            self._wrote(before, [rec[RID]])
        log.info("patient added (record %d)", rec[RID])
        for listener in list(self._created_listeners):
            listener(rec)
        return rec

    def update(self, kind: str, key: str, fields: Mapping[str, Any]) -> None:
        rec = self.require(kind, key)
        merged = {**rec, **fields}
        row = {c: merged.get(c, "") for c in rules.COLUMNS[kind]}
        normal, problems = self._checked(kind, row, new=False, but_not=key)  # a mobile as E.164, a preference lower
        if problems:
            raise InputInvalid(f"the {kind[:-1]} was not changed",
                               [p.__class__(None, p.column, p.message) for p in problems])
        changes = {**fields, **{k: normal[k] for k in ("mobile", "preference") if k in fields and k in normal}}
        if kind == "patients" and "email" in changes and rec.get("email_bad") and \
                normalise_address(str(changes["email"] or "")) != normalise_address(rec.get("email") or ""):
            changes["email_bad"] = None  # a corrected address is a good one until it bounces itself
        coll = self._coll(kind)
        with _WRITING:
            before = coll.signature() if kind == "patients" else None
            coll.update(rec[RID], changes)
            if kind == "patients":
                self._wrote(before, [rec[RID]])

    def mark_address_bad(self, address: str, reason: str, outbox_id: int, now: datetime) -> list[str]:
        """Every patient whose address this is, marked: it bounced for good (`email_bad`, shown on
        the patient file and in compose; automatic mail to it is held). A patient whose address has
        been corrected since is left alone. Returns the ids marked."""
        wanted = normalise_address(address)
        if not wanted:
            return []
        marked, rids = [], []
        coll = self._coll("patients")
        with _WRITING:
            before = coll.signature()
            for rec in coll.find(lambda r: normalise_address(r.get("email") or "") == wanted):
                coll.update(rec[RID], {"email_bad": {"address": rec["email"], "reason": reason,
                                                     "at": now.isoformat(), "outbox_id": outbox_id}})
                marked.append(rec["id"])
                rids.append(rec[RID])
            self._wrote(before, rids)
        if marked:
            log.info("address of patient(s) %s marked bad: %s", ", ".join(marked), reason)
        return marked

    def on_patient_created(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self._created_listeners.append(listener)

    def family(self, patient: Mapping[str, Any]) -> list[dict[str, Any]]:
        fam = patient.get("family_id")  # by the family column, not every patient read (a file opened at 20,000)
        return [dict(p) for p in rules.family_members(self._coll("patients").find_by("family_id", fam) if fam else [],
                                                      patient)]

    def names(self, kind: str, keys: Iterable[str]) -> dict[str, str]:
        """Each key's person as reception reads them ('Mrs Priya Patel'); only the records asked
        for are copied (the kiosk names the few on screen, not 20,000)."""
        return {key: rules.person_name(r) or key for key, r in self.people(kind, keys).items()}

    def people(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each key's record, for the few on screen (as `names`, the fields kept)."""
        wanted = {k for k in keys if k}
        if not wanted:
            return {}
        col = rules.KEY_COLUMN[kind]
        return {r[col]: r for r in self._coll(kind).find(lambda r: rules.is_one_of(r.get(col), wanted))}

    def search(self, text: str, limit: int = 200) -> list[dict[str, Any]]:
        """Patients matching every word typed, each word found in the name, date of birth
        (as stored, YYYY-MM-DD, or as typed at the desk, DD/MM/YYYY), mobile (spaces ignored)
        or email address; by last then first name, at most `limit`. The words are looked up in
        an index of the patients file, rebuilt only when the file changes: 20,000 patients
        searched in a few milliseconds, where building each one's text took 90."""
        words = rules.search_words(text)
        if not words:
            return []
        hits = self._patient_index().entries
        for w in words:  # one pass per word over what is left: a comprehension, not a call per patient
            hits = [e for e in hits if w in e[1]]
        coll = self._coll("patients")
        return [r for r in (coll.get(rid) for _order, _hay, rid in hits[:limit]) if r is not None]

    def first_patients(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` patients by last then first name (the Patients view before anything
        is typed): from the index, so only those records are read."""
        coll = self._coll("patients")
        return [r for r in (coll.get(rid) for _order, _hay, rid in self._patient_index().entries[:limit])
                if r is not None]

    def family_first_names(self, family_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """Each family asked for as its members' (code, first name), from the index (the Patients
        view names the others of each row's family: 500 rows were a read of every patient)."""
        members = self._patient_index().families
        return {f: list(members[f]) for f in {f for f in family_ids if f} if f in members}

    def _wrote(self, before: Hashable | None, rids: Iterable[int]) -> None:
        """This Directory has just written the patients `rids`: when the index was current
        (its signature `before`, read just before the write), it is patched for those records
        alone, so the next keystroke searches at once where it waited for a whole rebuild
        (297 ms at 20,000 patients: issue 19). Otherwise it is left for the next search to
        rebuild. Called under _WRITING, with the write."""
        cached = self._index
        if cached is None or before is None or cached[0] != before:
            return
        coll = self._coll("patients")
        after = coll.signature()
        if after is None:
            self._index = None
            return
        changed = {rid: coll.get(rid) for rid in rids}
        self._index = (after, cached[1].patched(changed))

    def _patient_index(self) -> "PatientIndex":
        """(sort order, searchable text, id) per patient, sorted, and the families' members; kept
        while the collection's signature is unchanged (any write, by any process, changes it).
        Each patient's text is kept by the fields it is made from (patient_index.py), so a rebuild
        after one patient changed works out one text, not 20,000 (a mobile's national forms
        cost ~50 us each: a second for a large practice). The Directory's own writes patch it
        (`_wrote`): no rebuild after an edit at the desk."""
        coll = self._coll("patients")
        signature = coll.signature()
        cached = self._index
        if cached is not None and signature is not None and cached[0] == signature:
            return cached[1]
        self._index = self._build(coll, signature)
        return self._index[1]

    def _build(self, coll: Any, signature: Hashable | None) -> tuple[Hashable | None, PatientIndex]:
        made: list[Entry] = []
        kept, seen = self._entries, {}

        def collect(r: Mapping[str, Any]) -> bool:  # sees each stored record without copying it
            known = kept.get(id(r))
            if known is None or known[0] is not r:  # records are replaced, never changed in place (tiny.py)
                known = (r, *entry(r))
            seen[id(r)] = known
            made.append(known[1:])
            return True

        record_ids = coll.ids(collect)  # in the order the records were seen
        self._entries = seen  # holds the records it names, so no id is reused while kept
        by_rid = dict(zip(record_ids, made, strict=True))
        entries = sorted((order, hay, rid) for rid, (order, hay, _f, _m) in by_rid.items())
        members: dict[str, list[int]] = {}
        mailboxes: dict[str, list[int]] = {}
        for rid in sorted(by_rid):
            _o, _h, family, box = by_rid[rid]
            if family is not None:
                members.setdefault(family[0], []).append(rid)
            if box is not None:
                mailboxes.setdefault(box, []).append(rid)
        index = PatientIndex(entries, {f: tuple((by_rid[i][2] or ("", "", ""))[1:] for i in m)  # type: ignore[misc]
                                        for f, m in members.items()},
                              by_rid, {f: tuple(m) for f, m in members.items()},
                              {k: tuple(m) for k, m in mailboxes.items()})
        return signature, index

    def families(self, family_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The members of each family asked for (only those records are copied)."""
        wanted = {f for f in family_ids if f}
        out: dict[str, list[dict[str, Any]]] = {}
        if wanted:
            for r in self._coll("patients").find(lambda r: r.get("family_id") in wanted):
                out.setdefault(r["family_id"], []).append(r)
        return out
