"""One open data folder: the store, settings and directory, opened together.

A writer holds the folder's writer lock for as long as the Practice is open;
readers (status, lists, config show, exports) open without it and never write.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

from engine.adapters.logs import setup_logging, teardown_logging
from engine.adapters.secrets import SecretBox
from engine.adapters.store import Store
from engine.service.directory import Directory
from engine.service.settings import Settings

log = logging.getLogger("practicemail.service")
DATA_ENV = "PRACTICEMAIL_DATA"


def default_data_folder() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("practicemail", appauthor=False))


class Practice:
    def __init__(self, folder: Path, writer: bool, command: str = "practicemail") -> None:
        self.folder = Path(folder).resolve()
        self.writer = writer
        if writer:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store = Store.open(self.folder, writer=writer, command=command)
        if writer:
            setup_logging(self.folder)
        self.secrets = SecretBox(self.folder, create=writer)
        self.settings = Settings(self.store, self.secrets)
        self.directory = Directory(self.store, lambda: self.settings.get("practice.timezone"),
                                   lambda: self.settings.get("practice.country"))
        if writer:
            log.info("data folder opened by %s (pid %d)", command, os.getpid())

    def close(self) -> None:
        if self.writer:
            teardown_logging(self.folder)
        self.store.close()

    def __enter__(self) -> "Practice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
