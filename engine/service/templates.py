"""Templates as stored: added from TOML files (or the kiosk), checked on every save."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from engine.adapters.storage import RID, Storage
from engine.core import templates as rules
from engine.errors import InputInvalid, NotFound, Problem

MAX_FILE = 1_000_000


class Templates:
    def __init__(self, store: Storage) -> None:
        self._c = store.collection("templates")

    def list(self) -> list[rules.Template]:
        return sorted((rules.Template.from_dict(r) for r in self._c.all()), key=lambda t: (t.category, t.code))

    def get(self, code: str) -> rules.Template:
        found = self._c.find_by("code", code)
        if not found:
            raise NotFound(f"no template {code!r}", hint="`templates list` shows the codes.")
        return rules.Template.from_dict(found[0])

    def exists(self, code: str) -> bool:
        return bool(self._c.find_by("code", code))

    def save(self, t: rules.Template) -> None:
        """Checked first: a template with a problem is refused with its part and line, and nothing changes."""
        rules.require_valid(t)
        found = self._c.find_by("code", t.code)
        if found:
            self._c.update(found[0][RID], t.as_dict())
        else:
            self._c.insert(t.as_dict())

    def delete(self, code: str) -> None:
        """The template removed (the caller has checked it is not in use: App.delete_template)."""
        found = self._c.find(lambda r: r.get("code") == code)
        if not found:
            raise NotFound(f"no template {code!r}", hint="`templates list` shows the codes.")
        for r in found:
            self._c.remove(r[RID])

    def add_file(self, path: Path) -> rules.Template:
        try:
            if path.stat().st_size > MAX_FILE:
                raise InputInvalid(f"{path.name} is larger than 1 MB", hint="A template is text; check the file.")
            data: dict[str, Any] = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise InputInvalid(f"{path} does not exist", hint="Check the file name.") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputInvalid(f"{path.name} is not a TOML template: {exc}",
                               hint="See the template format in the contract (code, description, category, subject, body).") from None
        unknown = sorted(set(data) - {"code", "description", "category", "subject", "body", "html", "kind"})
        if unknown or "code" not in data:
            problems = [Problem(None, k, "is not a template key") for k in unknown]
            problems += [Problem(None, "code", "is missing")] if "code" not in data else []
            raise InputInvalid(f"{path.name} is not a template", problems,
                               hint="Keys are code, description, category, subject, body and html.")
        t = rules.Template.from_dict(data)
        self.save(t)
        return t

    def check_all(self) -> dict[str, list[Problem]]:
        return {t.code: rules.check(t) for t in self.list()}
