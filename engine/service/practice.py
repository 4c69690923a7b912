"""One open practice: the store, settings and directory, opened together.

The store is the data folder's TinyDB files (one desk), or a PostgreSQL database when a URL is
given (`--database URL` or PRACTICEMAIL_DATABASE; several desks). The data folder stays in both
cases: it holds this machine's key file, logs and the store's local files.

A writer holds the store's writer lock for as long as the Practice is open;
readers (status, lists, config show, exports) open without it and never write.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

from engine.adapters.logs import setup_logging, teardown_logging
from engine.adapters.secrets import SecretBox
from engine.adapters.storage import Storage
from engine.adapters.store import Store
from engine.service.directory import Directory
from engine.service.settings import Settings

log = logging.getLogger("practicemail.service")
DATA_ENV = "PRACTICEMAIL_DATA"
DATABASE_ENV = "PRACTICEMAIL_DATABASE"


def default_data_folder() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("practicemail", appauthor=False))


def default_database() -> str | None:
    """The database URL from the environment (where a password may be; argv is not)."""
    return os.environ.get(DATABASE_ENV) or None


def open_store(folder: Path, database: str | None, writer: bool, command: str,
               wait: Callable[[str], bool] | None = None) -> Storage:
    """The TinyDB store in `folder`, or the PostgreSQL store at `database` (its local files in
    folder/postgres, apart from any TinyDB files). `wait`: a standby's wait for the writer's lock
    (engine/service/standby.py), PostgreSQL only: on TinyDB one folder means one machine, and a
    second writer there is refused at once as before."""
    if not database:
        return Store.open(folder, writer=writer, command=command)
    from engine.adapters.postgres import PgStore  # psycopg is loaded only by practices that use it

    return PgStore.open(database, writer=writer, folder=folder / "postgres", command=command, wait=wait)


class Practice:
    def __init__(self, folder: Path, writer: bool, command: str = "practicemail",
                 database: str | None = None, wait: Callable[[str], bool] | None = None) -> None:
        """`database`: a PostgreSQL URL; None reads PRACTICEMAIL_DATABASE; unset means TinyDB.
        `wait`: how a writer waits while another holds the lock (a standby); None refuses."""
        self.folder = Path(folder).resolve()
        self.writer = writer
        self.database = database if database is not None else default_database()
        if writer:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store: Storage = open_store(self.folder, self.database, writer, command, wait)
        if writer:
            setup_logging(self.folder)
        self.secrets = SecretBox(self.folder, create=writer)
        self.settings = Settings(self.store, self.secrets)
        self.directory = Directory(self.store, lambda: self.settings.get("practice.timezone"),
                                   lambda: self.settings.get("practice.country"))
        if writer:
            log.info("data folder opened by %s (pid %d)%s", command, os.getpid(),
                     " on a database" if self.database else "")

    def close(self) -> None:
        if self.writer:
            teardown_logging(self.folder)
        self.store.close()

    def __enter__(self) -> "Practice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
