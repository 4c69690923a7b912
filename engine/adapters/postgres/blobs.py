"""Raw messages and attachments in PostgreSQL: table `blobs`, bytea keyed by SHA-256.

Content-addressed as on TinyDB (blobs.py): the same bytes are stored once, and a batch commits
before put_many returns, so a record written afterwards never names a missing blob.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from engine.adapters.postgres.db import Db
from engine.adapters.storage import ReadOnlyStore
from engine.errors import NotFound


def _check(sha: str) -> None:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise NotFound(f"not a blob name: {sha!r}")


class PgBlobs:
    def __init__(self, db: Db, read_only: bool) -> None:
        self.db = db
        self.read_only = read_only

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, datas: list[bytes]) -> list[str]:
        if self.read_only:
            raise ReadOnlyStore("cannot store a file: this process opened the data read-only")
        shas = [hashlib.sha256(d).hexdigest() for d in datas]
        new = dict(zip(shas, datas))
        if not new:
            return shas
        with self.db.conn() as c, c.transaction(), c.cursor() as cur:
            cur.execute("SELECT sha FROM blobs WHERE sha = ANY(%s)", (list(new),))
            for (sha,) in cur.fetchall():
                new.pop(sha, None)
            if new:
                cur.executemany("INSERT INTO blobs (sha, size, data) VALUES (%s, %s, %s) ON CONFLICT (sha) DO NOTHING",
                                [(sha, len(d), d) for sha, d in new.items()])
        return shas

    def _rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.db.rows(query, params)

    def get(self, sha: str) -> bytes:
        _check(sha)
        rows = self._rows("SELECT data FROM blobs WHERE sha = %s", (sha,))
        if not rows:
            raise NotFound(f"stored file {sha[:12]} is missing")
        return bytes(rows[0][0])

    def get_many(self, shas: list[str]) -> dict[str, bytes]:
        """Those of the blobs that exist, in one round trip (a send pass reads ahead with it)."""
        for sha in shas:
            _check(sha)
        return {sha: bytes(data) for sha, data in self._rows("SELECT sha, data FROM blobs WHERE sha = ANY(%s)",
                                                              (list(set(shas)),))}

    def exists(self, sha: str) -> bool:
        return bool(self._rows("SELECT 1 FROM blobs WHERE sha = %s", (sha,)))

    def names(self) -> Iterator[str]:
        yield from (r[0] for r in self._rows("SELECT sha FROM blobs ORDER BY sha"))

    def count(self) -> int:
        rows = self._rows("SELECT count(*) FROM blobs")
        return int(rows[0][0]) if rows else 0
