"""The refresh token at rest: one small file, encrypted with the secrets key (the same Fernet
key as `account.password`, engine/adapters/secrets.py), written atomically and owner-only.
Beside the token it keeps who signed in and when the token was last refreshed, so `status` can
say so without decrypting anything. The access token is never written anywhere.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.adapters.durable import atomic_write
from engine.adapters.secrets import SecretBox
from engine.errors import StoreCorrupt

FILE_NAME = "oauth-signin.json"


class SignInFile:
    """A RefreshTokenStore (engine/adapters/oauth.py) on disk."""

    def __init__(self, folder: Path, secrets: SecretBox) -> None:
        self.path = Path(folder) / FILE_NAME
        self._secrets = secrets
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StoreCorrupt(f"the sign-in file {self.path.name} cannot be read",
                               hint="Sign in to the mail account again.") from exc
        return doc if isinstance(doc, dict) else {}

    def load(self) -> str:
        with self._lock:
            sealed = self._read().get("refresh_token", "")
        return self._secrets.decrypt(sealed) if sealed else ""

    def save(self, refresh_token: str, account: str | None = None) -> None:
        with self._lock:
            doc = self._read()
            doc["refresh_token"] = self._secrets.encrypt(refresh_token) if refresh_token else ""
            doc["refreshed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds") if refresh_token else ""
            if account is not None:
                doc["account"] = account
            if not refresh_token:
                doc["account"] = ""
            atomic_write(self.path, json.dumps(doc).encode("utf-8"), mode=0o600)

    def summary(self) -> dict[str, str]:
        """Who is signed in and when the token was last saved; never the token."""
        with self._lock:
            doc = self._read()
        return {"signed_in": bool(doc.get("refresh_token")), "account": str(doc.get("account", "")),
                "refreshed_at": str(doc.get("refreshed_at", ""))}
