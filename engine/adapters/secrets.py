"""Passwords at rest: encrypted with a key that lives outside the database.

The key is a Fernet key (AES-128-CBC with HMAC-SHA256) in `<data>/keys/secret.key`,
owner-only (0600, folder 0700), never copied into exports or backups of the
database files. `PRACTICEMAIL_KEY_FILE` moves it elsewhere (a practice server
may keep keys on another volume). Every secret that is decrypted is registered
with the log redactor so it can never reach a log line.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from engine.adapters.durable import atomic_write
from engine.adapters.logs import redact_value
from engine.errors import StoreCorrupt

KEY_ENV = "PRACTICEMAIL_KEY_FILE"
ENC_PREFIX = "fernet:"


def key_path(data_folder: Path) -> Path:
    override = os.environ.get(KEY_ENV)
    return Path(override) if override else data_folder / "keys" / "secret.key"


class SecretBox:
    def __init__(self, data_folder: Path, create: bool) -> None:
        self.path = key_path(data_folder)
        self._fernet: Fernet | None = None
        self._create = create

    def _key(self) -> Fernet:
        if self._fernet is not None:
            return self._fernet
        if not self.path.exists():
            if not self._create:
                raise StoreCorrupt(
                    "the key for stored passwords is missing",
                    hint="Enter the passwords again in the setup wizard (the key file was removed or not copied).",
                )
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.path.parent, 0o700)
            atomic_write(self.path, Fernet.generate_key(), mode=0o600)
        os.chmod(self.path, 0o600)
        self._fernet = Fernet(self.path.read_bytes().strip())
        return self._fernet

    def encrypt(self, plain: str) -> str:
        redact_value(plain)
        return ENC_PREFIX + self._key().encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(ENC_PREFIX):
            raise StoreCorrupt("a stored password is not encrypted", hint="Enter the password again in the setup wizard.")
        try:
            plain = self._key().decrypt(stored[len(ENC_PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise StoreCorrupt(
                "a stored password cannot be decrypted with this folder's key",
                hint="Enter the password again in the setup wizard.",
            ) from exc
        redact_value(plain)
        return plain
