"""Logging by category to a rotating file in the data folder, with secrets redacted.

Categories are child loggers of `practicemail`: store, settings, smtp, imap,
pop3, service, kiosk, admin. Every record passes a redaction filter that
replaces any secret we have seen (passwords as they are encrypted or decrypted)
and anything shaped like an AUTH exchange with `***`.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path

CATEGORIES = ("store", "settings", "smtp", "imap", "pop3", "service", "kiosk", "admin")
LOG_FILE = "practicemail.log"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_AUTH_LINE = re.compile(r"(?i)\b(AUTH(?:ENTICATE)?\s+(?:PLAIN|LOGIN|XOAUTH2)\s+)\S+|\b(LOGIN\s+\S+\s+)\S+|\b(PASS\s+)\S+")


def redact_value(secret: str) -> None:
    """Remember a secret so no log line can carry it."""
    if secret and len(secret) >= 3:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for s in known:
        if s in text:
            text = text.replace(s, "***")
    return _AUTH_LINE.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class PrivateQuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, owner-only (0600), and quiet when it cannot be written.

    On a full disk the standard handler prints "--- Logging error ---" and a traceback
    on stderr for every record, burying the one line the command has to say. A log
    line that cannot be written is dropped and counted instead; the work goes on.
    Closing does not raise either: on PostgreSQL the change is already committed when
    the last buffered lines fail to reach the full disk, and an error then would tell
    the person that a stored change failed (`lost_lines` is how the command says it).
    """

    dropped = 0
    reason: int | None = None  # the errno of the last line dropped (ENOSPC: the disk is full)

    def _open(self):  # noqa: ANN202 - the stream logging expects
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        _count_lost(sys.exc_info()[1])

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            _count_lost(exc)

    def close(self) -> None:
        try:
            super().close()  # the stream's file is closed even when its last flush fails
        except OSError as exc:
            _count_lost(exc)


def _count_lost(exc: BaseException | None) -> None:
    PrivateQuietFileHandler.dropped += 1
    if isinstance(exc, OSError) and exc.errno is not None:
        PrivateQuietFileHandler.reason = exc.errno


def lost_lines() -> tuple[int, int | None]:
    """How many log lines (or buffered runs of them) this process could not write since
    `forget_lost_lines`, and the errno of the last one (None when none were lost)."""
    return PrivateQuietFileHandler.dropped, PrivateQuietFileHandler.reason


def forget_lost_lines() -> None:
    PrivateQuietFileHandler.dropped, PrivateQuietFileHandler.reason = 0, None


_configured: dict[Path, logging.Handler] = {}


def setup_logging(data_folder: Path, level: int = logging.INFO) -> Path:
    """Attach the rotating file handler for this data folder (idempotent)."""
    folder = data_folder / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOG_FILE
    root = logging.getLogger("practicemail")
    root.setLevel(level)
    if path not in _configured:
        handler = PrivateQuietFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
        _configured[path] = handler
    return path


def teardown_logging(data_folder: Path) -> None:
    path = data_folder / "logs" / LOG_FILE
    handler = _configured.pop(path, None)
    if handler is not None:
        logging.getLogger("practicemail").removeHandler(handler)
        handler.close()
