"""A disk that fills while the engine runs, at the storage boundary, on either backend.

While `full`, writing a change to the outbox's records fails the way the backend fails on a full
disk, and nothing else does (the claim of an item, ready -> sending, still goes: the disk filled
mid-pass, so the end-of-pass save is what meets it):

    TinyDB      the outbox partition's write raises OSError ENOSPC (what os.write raises in
                engine/adapters/durable.py), through a wrapper of the store's `outbox` collection
    PostgreSQL  the server itself refuses: a trigger on the outbox table raises SQLSTATE 53100
                (disk_full) for every row written with a status other than `sending`

No code of ours is replaced: the engine, the Outbox and the adapters run as they are.
"""

from __future__ import annotations

import errno
from typing import Any

import psycopg

from engine.service.practice import Practice
from tests.backends import Backend

_FULL = """
CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
CREATE TRIGGER disk_full BEFORE UPDATE ON c_outbox FOR EACH ROW
WHEN (NEW.data->>'status' IS DISTINCT FROM 'sending') EXECUTE FUNCTION disk_full();
"""


class _Records:
    def __init__(self, inner: Any, disk: FullDisk) -> None:
        self._inner, self._disk = inner, disk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __len__(self) -> int:
        return len(self._inner)

    def modify_many(self, record_ids: Any, change: Any, copies: bool = True) -> Any:
        ids = list(record_ids)
        if self._disk.full and ids:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._inner.modify_many(ids, change, copies)


class _Store:
    def __init__(self, inner: Any, disk: FullDisk) -> None:
        self._inner, self._disk = inner, disk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def partitioned(self, name: str, *args: Any, **kw: Any) -> Any:
        records = self._inner.partitioned(name, *args, **kw)
        return _Records(records, self._disk) if name == "outbox" else records

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)


class FullDisk:
    def __init__(self, practice: Practice, backend: Backend) -> None:
        self.backend = backend
        self.full = False
        if backend.url is None:
            practice.store = _Store(practice.store, self)  # type: ignore[assignment]

    def _sql(self, statement: str) -> None:
        assert self.backend.url is not None
        with psycopg.connect(self.backend.url, autocommit=True) as conn:
            conn.execute(statement)

    def fill(self) -> None:
        self.full = True
        if self.backend.url is not None:
            self._sql(_FULL)

    def free(self) -> None:
        self.full = False
        if self.backend.url is not None:
            self._sql("DROP TRIGGER IF EXISTS disk_full ON c_outbox")
