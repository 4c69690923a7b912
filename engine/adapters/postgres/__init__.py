"""The PostgreSQL backend of the storage interface (several desks, issue 21)."""

from engine.adapters.postgres.db import DatabaseUnreachable, redact, refuse_password
from engine.adapters.postgres.store import PgStore

__all__ = ["DatabaseUnreachable", "PgStore", "redact", "refuse_password"]
