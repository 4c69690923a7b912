"""Settings as the rest of the engine sees them: typed, validated, secrets sealed.

All values live in one record of the `settings` collection, so changing several
keys is one atomic write. A key may be locked (the SMS provider's practice ID after a
successful test): its value then cannot be changed, by any door, until it is unlocked;
the locks live in the same record. Passwords are stored as Fernet tokens (see
adapters/secrets.py) and come out only through `secret()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.adapters.secrets import SecretBox
from engine.adapters.storage import Storage
from engine.core import settings as catalogue
from engine.core.settings_snapshot import PracticeSettings, snapshot
from engine.errors import Problem, SettingsInvalid

log = logging.getLogger("practicemail.settings")
MASK = "***"
_RECORD = 1
_PLAIN = catalogue.Setting("", "text", "", "")
LOCKED_HINT = {"sms.account": "A super user can unlock it (Setup, Text messages, Unlock; or `practicemail sms "
                              "unlock --yes --user NAME`): texts already sent stay with the old account."}


class Settings:
    def __init__(self, store: Storage, secrets: SecretBox) -> None:
        self._collection = store.collection("settings")
        self._secrets = secrets
        self._listeners: list[Callable[[set[str]], None]] = []
        self._snapshot: tuple[dict[str, Any], PracticeSettings] | None = None

    def _stored(self) -> dict[str, Any]:
        rec = self._collection.get(_RECORD)
        return dict(rec["values"]) if rec else {}

    def get(self, key: str) -> Any:
        s = catalogue.setting(key)
        if s.secret:
            raise KeyError(f"{key} is a secret: use secret()")
        return catalogue.effective(self._stored())[key]

    def snapshot(self) -> PracticeSettings:
        """The typed, frozen settings the engine reads by attribute, parsed once per change.

        Made again after our own write (`set_many` drops it) and whenever the stored values
        differ from those it was made from, so another process's write is seen too; comparing
        the stored values costs far less than parsing periods and time zones on every read."""
        stored = self._stored()
        cached = self._snapshot
        if cached is not None and cached[0] == stored:
            return cached[1]
        made = snapshot({k: v for k, v in stored.items() if not catalogue.BY_KEY.get(k, _PLAIN).secret})
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

    # -- locks -----------------------------------------------------------------------------
    def _locks(self) -> dict[str, Any]:
        rec = self._collection.get(_RECORD)
        return dict(rec.get("locks") or {}) if rec else {}

    def locked(self, key: str) -> dict[str, Any] | None:
        """Why and since when `key` is locked ({"why", "since"}), or None."""
        return self._locks().get(key)

    def lock(self, key: str, why: str, since: str) -> None:
        """`key`'s value cannot change until `unlock`; `why`: the words shown when a change is refused."""
        catalogue.setting(key)
        locks = {**self._locks(), key: {"why": why, "since": since}}
        self._write({"locks": locks})
        log.info("setting %s locked: %s", key, why)

    def unlock(self, key: str) -> bool:
        """False when it was not locked."""
        locks = self._locks()
        if locks.pop(key, None) is None:
            return False
        self._write({"locks": locks})
        log.warning("setting %s unlocked", key)
        return True

    def _write(self, fields: dict[str, Any]) -> None:
        if self._collection.get(_RECORD) is None:
            self._collection.insert({"values": {}, **fields}, _RECORD)
        else:
            self._collection.update(_RECORD, fields)

    def _refuse_locked(self, parsed: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
        """A locked key given a different value: refused, naming it and who can unlock it."""
        locks = self._locks()
        current = catalogue.effective(stored)
        for key, value in parsed.items():
            if key in locks and value != current.get(key):
                raise SettingsInvalid(key, f"is locked ({locks[key]['why']})", LOCKED_HINT.get(
                    key, "A super user can unlock it."))

    def is_default(self, key: str) -> bool:
        return key not in self._stored()

    def set(self, key: str, raw: Any) -> Any:
        return self.set_many({key: raw})[key]

    def set_many(self, raws: Mapping[str, Any]) -> dict[str, Any]:
        """Validate every value first; then one write. A bad value changes nothing."""
        parsed = {key: catalogue.parse(key, raw) for key, raw in raws.items()}
        stored = self._stored()
        self._refuse_locked(parsed, stored)
        for key, value in parsed.items():
            if catalogue.setting(key).secret:
                stored[key] = self._secrets.encrypt(value) if value else ""
            else:
                stored[key] = value
        self._write({"values": stored})
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
