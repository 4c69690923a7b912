"""Settings as the rest of the engine sees them: typed, validated, secrets sealed.

All values live in one record of the `settings` collection, so changing several
keys is one atomic write. Passwords are stored as Fernet tokens (see
adapters/secrets.py) and come out only through `secret()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.adapters.secrets import SecretBox
from engine.adapters.storage import Storage
from engine.core import settings as catalogue
from engine.errors import Problem

log = logging.getLogger("practicemail.settings")
MASK = "***"
_RECORD = 1
_PLAIN = catalogue.Setting("", "text", "", "")


class Settings:
    def __init__(self, store: Storage, secrets: SecretBox) -> None:
        self._collection = store.collection("settings")
        self._secrets = secrets
        self._listeners: list[Callable[[set[str]], None]] = []
        self._snapshot: tuple[dict[str, Any], catalogue.PracticeSettings] | None = None

    def _stored(self) -> dict[str, Any]:
        rec = self._collection.get(_RECORD)
        return dict(rec["values"]) if rec else {}

    def get(self, key: str) -> Any:
        s = catalogue.setting(key)
        if s.secret:
            raise KeyError(f"{key} is a secret: use secret()")
        return catalogue.effective(self._stored())[key]

    def snapshot(self) -> catalogue.PracticeSettings:
        """The typed, frozen settings the engine reads by attribute, parsed once per change.

        Made again after our own write (`set_many` drops it) and whenever the stored values
        differ from those it was made from, so another process's write is seen too; comparing
        the stored values costs far less than parsing periods and time zones on every read."""
        stored = self._stored()
        cached = self._snapshot
        if cached is not None and cached[0] == stored:
            return cached[1]
        made = catalogue.snapshot({k: v for k, v in stored.items() if not catalogue.BY_KEY.get(k, _PLAIN).secret})
        self._snapshot = (stored, made)
        return made

    def secret(self, key: str) -> str:
        catalogue.setting(key)
        stored = self._stored().get(key) or ""
        return self._secrets.decrypt(stored) if stored else ""

    def values(self) -> dict[str, Any]:
        """Every effective value; secrets as *** when set, empty when not."""
        out = catalogue.effective(self._stored())
        for s in catalogue.CATALOGUE:
            if s.secret:
                out[s.key] = MASK if out[s.key] else ""
        return out

    def is_default(self, key: str) -> bool:
        return key not in self._stored()

    def set(self, key: str, raw: Any) -> Any:
        return self.set_many({key: raw})[key]

    def set_many(self, raws: Mapping[str, Any]) -> dict[str, Any]:
        """Validate every value first; then one write. A bad value changes nothing."""
        parsed = {key: catalogue.parse(key, raw) for key, raw in raws.items()}
        stored = self._stored()
        for key, value in parsed.items():
            if catalogue.setting(key).secret:
                stored[key] = self._secrets.encrypt(value) if value else ""
            else:
                stored[key] = value
        if self._collection.get(_RECORD) is None:
            self._collection.insert({"values": stored}, _RECORD)
        else:
            self._collection.update(_RECORD, {"values": stored})
        self._snapshot = None
        shown = {k: (MASK if catalogue.setting(k).secret and v else v) for k, v in parsed.items()}
        log.info("settings changed: %s", ", ".join(f"{k}={v!r}" for k, v in shown.items()))
        for listener in list(self._listeners):
            listener(set(parsed))
        return parsed

    def check(self, template_exists: Callable[[str], bool] | None = None) -> list[Problem]:
        return catalogue.check(self.values(), template_exists)

    def on_change(self, listener: Callable[[set[str]], None]) -> None:
        """Called with the changed keys after each successful write (the service wakes on it)."""
        self._listeners.append(listener)
