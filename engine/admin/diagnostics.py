"""The support bundle and the redaction every admin output passes.

The bundle is built by allow-list: each file is assembled from fields named here and known
to be safe (counts, states, codes, timings, versions, settings other than secrets); a field
not named is left out. Free text inside those fields (a server's last words, an exception's
message, log lines, runbook output) passes `engine.core.redaction`, which replaces every
name, address, phone number and date of birth in the practice directory, the subjects of
stored mail, and every address-, phone- or date-shaped token. With the opt-in, the free text
stays as written. Passwords and tokens are never included, opt-in or not.
"""

from __future__ import annotations

import io
import json
import platform
import re
import sys
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from engine import __version__
from engine.admin import html as html_export
from engine.admin.facade import Admin
from engine.admin.runner import Runner, available, digest, parse
from engine.core import redaction
from engine.core.settings import CATALOGUE
from engine.errors import InputInvalid
from engine.service.app import App, atomic_write, redact_secrets

Redactor = Callable[[str], str]
# A field's kind: "text" (free text: redacted), "code" (one of our own words), "time", "count",
# "counts" (state -> count), or a nested dict / one-element list of kinds.
Schema = Any
HEARTBEAT: dict[str, Schema] = {
    "state": "code", "at": "time", "pid": "count", "outbox": "counts", "reason": "text", "hint": "text",
    "last_error": {"at": "time", "phase": "code", "error": "text", "hint": "text"},
    "last_send": {"at": "time", "sent": "count", "problems": "count", "error": "text"},
    "last_receive": {"at": "time", "received": "count", "error": "text"},
    "history": [{"at": "time", "event": "code", "state": "code", "phase": "code", "error": "text"}],
    "recent_sends": ["time"], "recent_texts": ["time"],
}
SYNC: list[Schema] = [{"key": "text", "uidvalidity": "count", "last_uid": "count", "seen": "count",
                       "count": "count", "last_uidl": "code", "last_fetch": "time"}]
SETTING_AS_TEXT = frozenset({"text", "email", "path", "host"})
_CODE = re.compile(r"^[A-Za-z0-9 ._:/-]{0,60}$")
PEOPLE = ("patients", "providers", "specialists")


def private_data(admin: Admin) -> redaction.PrivateData:
    """The directory's people, the subjects of stored mail, and the practice's own addresses."""
    practice = admin.practice
    people = [p for kind in PEOPLE for p in practice.directory.list(kind)]
    subjects = [r.get("subject", "") for r in admin.engine.inbox.messages.find(lambda r: True)]
    subjects += admin.engine.outbox.subjects()
    own = [practice.settings.get(k) for k in ("practice.email", "support.address", "account.username")]
    return redaction.private_data(people, subjects, [a for a in own if isinstance(a, str)])


def make_redactor(admin: Admin, include_patient_data: bool) -> Redactor:
    """Secrets always; without the opt-in, everything `engine.core.redaction` replaces."""
    if include_patient_data:
        return redact_secrets
    private = private_data(admin)
    return lambda text: redaction.redact(redact_secrets(text), private)


def pick(value: Any, schema: Schema, redact: Redactor) -> Any:
    """`value` reduced to the fields `schema` names, free text redacted; anything else is dropped."""
    if isinstance(schema, dict):
        if not isinstance(value, Mapping):
            return None
        return {k: pick(value[k], kind, redact) for k, kind in schema.items() if k in value}
    if isinstance(schema, list):
        return [pick(v, schema[0], redact) for v in value] if isinstance(value, list) else None
    if schema == "count":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if schema == "counts":
        return {str(k): v for k, v in value.items() if _CODE.match(str(k)) and isinstance(v, int)} \
            if isinstance(value, Mapping) else None
    if schema == "time":
        try:
            return datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            return None
    if schema == "code" and isinstance(value, str) and _CODE.match(value):
        return value
    return None if value is None else redact(str(value))


def settings_fields(admin: Admin, redact: Redactor) -> dict[str, Any]:
    """Every setting except secrets; free-text kinds redacted, typed values as they are."""
    values = admin.practice.settings.values()
    out: dict[str, Any] = {}
    for s in CATALOGUE:
        if s.secret or s.key not in values:
            continue
        v = values[s.key]
        out[s.key] = redact(str(v)) if s.kind in SETTING_AS_TEXT and isinstance(v, str) else v
    return out


def _admin(admin: Admin | App) -> Admin:
    """The kiosk hands its App; the command line and the tests an Admin: both are served."""
    return admin if isinstance(admin, Admin) else Admin(admin)


def run_runbook(admin: Admin | App, name: str, role: Any, include_patient_data: bool = False,
                confirm: Callable | None = None, timeout: float = 30.0,  # type: ignore[type-arg]
                only: int | None = None, redact: Redactor | None = None) -> tuple[str, list]:  # type: ignore[type-arg]
    """The runbook's page and results; `only`: run just the cell with that index (the others
    are shown as not run), as support does to repeat one check or one action."""
    admin = _admin(admin)
    path = available()[name]
    text = path.read_text("utf-8")
    runner = Runner(admin, role, confirm, redact or make_redactor(admin, include_patient_data), timeout)
    cells = parse(text)
    if only is not None and not any(c.index == only for c in cells):
        raise InputInvalid(f"the runbook {name} has no cell {only}", hint="Pick a cell from the runbook's list.")
    results = runner.run_all(cells if only is None else [c for c in cells if c.index == only or c.kind == "markdown"])
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in parse(text) if c.kind == "markdown"), name)
    return html_export.render(title, digest(text), results, datetime.now(timezone.utc)), results


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def export(admin: Admin | App, target: Path, include_patient_data: bool = False) -> Path:
    admin = _admin(admin)
    if not target.name or target.is_dir():
        raise InputInvalid(f"{target} is a folder, not a file to write the bundle to",
                           hint="Give a file name, e.g. -o diagnostics.zip.")
    redact = make_redactor(admin, include_patient_data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in available():
            page, _ = run_runbook(admin, name, role="reception", redact=redact)
            z.writestr(f"runbooks/{name}.html", page)
        logs = admin.practice.folder / "logs"
        for log in sorted(logs.glob("practicemail.log*")) if logs.exists() else []:
            z.writestr(f"logs/{log.name}", redact(log.read_text("utf-8", "replace")))
        z.writestr("heartbeat.json", _dump(pick(admin.engine.heartbeat.record() or {}, HEARTBEAT, redact)))
        z.writestr("settings.json", _dump(settings_fields(admin, redact)))
        z.writestr("outbox-counts.json", _dump(pick(admin.outbox_counts(), "counts", redact)))
        z.writestr("inbox-sync.json", _dump(pick(admin.sync_state(), SYNC, redact)))
        z.writestr("versions.json", _dump(versions(include_patient_data)))
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, buf.getvalue())  # a full disk leaves the old file or none, never half a zip
    return target


def versions(include_patient_data: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"practicemail": __version__, "python": sys.version, "platform": platform.platform(),
                             "patient data included": include_patient_data}
    for dist in ("tinydb", "imapclient", "aiosmtpd", "jinja2", "icalendar", "PyQt6", "cryptography"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def email_support(admin: Admin | App, now: datetime, include_patient_data: bool = False) -> int:
    """The bundle, queued to `support.address` (sent at the next pass like any email)."""
    admin = _admin(admin)
    import tempfile

    from engine.core.message import Attachment, Draft, Recipient

    s = admin.practice.settings
    to = s.get("support.address")
    if not to:
        raise InputInvalid("no support address is set", hint="Set support.address (the setup wizard or config set).")
    with tempfile.TemporaryDirectory() as tmp:
        path = export(admin, Path(tmp) / "practicemail-diagnostics.zip", include_patient_data)
        data = path.read_bytes()
    name = s.get("practice.name") or "a practice"
    draft = Draft(s.get("practice.email"), s.get("practice.name"), [Recipient(to)],
                  f"Diagnostics from {name}",
                  f"The diagnostic bundle from {name} is attached"
                  f"{' (with patient data, as agreed)' if include_patient_data else ' (no patient data)'}.\n",
                  attachments=[Attachment(f"diagnostics-{now:%Y%m%d-%H%M}.zip", data, "application/zip")])
    return admin.engine.outbox.add_draft(draft, now, kind="support")
