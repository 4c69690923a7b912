"""The support bundle and the redaction every admin output passes.

Without the opt-in, nothing about patients leaves the practice: names, email
addresses and postal addresses from the directory, message subjects, and any
email address at all (server replies quote them) are replaced. Passwords and
tokens are never included, opt-in or not.
"""

from __future__ import annotations

import io
import json
import platform
import re
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from engine import __version__
from engine.adapters.logs import redact as redact_secrets
from engine.admin import html as html_export
from engine.admin.facade import Admin
from engine.admin.runner import Runner, available, digest, parse
from engine.errors import InputInvalid

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def make_redactor(admin: Admin, include_patient_data: bool) -> Callable[[str], str]:
    practice = admin.practice
    own = {practice.settings.get("practice.email").lower(), practice.settings.get("support.address").lower()} - {""}
    words: list[tuple[str, str]] = []
    if not include_patient_data:
        for p in practice.directory.list("patients"):
            for f in ("first_name", "last_name"):
                if len(p.get(f, "")) >= 3:
                    words.append((p[f], "[name]"))
        for kind in ("providers", "specialists"):
            for p in practice.directory.list(kind):
                if len(p.get("last_name", "")) >= 3:
                    words.append((p["last_name"], "[name]"))
        for r in admin.engine.inbox.messages.find(lambda r: True):
            if len(r.get("subject", "")) >= 4:
                words.append((r["subject"], "[subject]"))
        for r in admin.engine.outbox.items.find(lambda r: True):
            if len(r.get("subject", "")) >= 4:
                words.append((r["subject"], "[subject]"))
    words.sort(key=lambda w: len(w[0]), reverse=True)
    patterns = [(re.compile(re.escape(w), re.IGNORECASE), rep) for w, rep in dict(words).items()]

    def redact(text: str) -> str:
        text = redact_secrets(text)
        if include_patient_data:
            return text
        for pattern, rep in patterns:
            text = pattern.sub(rep, text)
        return EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in own else "[address]", text)

    return redact


def run_runbook(admin: Admin, name: str, role: str, include_patient_data: bool = False,
                confirm: Callable | None = None, timeout: float = 30.0,  # type: ignore[type-arg]
                only: int | None = None) -> tuple[str, list]:  # type: ignore[type-arg]
    """The runbook's page and results; `only`: run just the cell with that index (the others
    are shown as not run), as support does to repeat one check or one action."""
    path = available()[name]
    text = path.read_text("utf-8")
    runner = Runner(admin, role, confirm, make_redactor(admin, include_patient_data), timeout)
    cells = parse(text)
    if only is not None and not any(c.index == only for c in cells):
        raise InputInvalid(f"the runbook {name} has no cell {only}", hint="Pick a cell from the runbook's list.")
    results = runner.run_all(cells if only is None else [c for c in cells if c.index == only or c.kind == "markdown"])
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in parse(text) if c.kind == "markdown"), name)
    return html_export.render(title, digest(text), results, datetime.now(timezone.utc)), results


def export(admin: Admin, target: Path, include_patient_data: bool = False) -> Path:
    redact = make_redactor(admin, include_patient_data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in available():
            page, _ = run_runbook(admin, name, role="reception", include_patient_data=include_patient_data)
            z.writestr(f"runbooks/{name}.html", page)
        logs = admin.practice.folder / "logs"
        for log in sorted(logs.glob("practicemail.log*")) if logs.exists() else []:
            z.writestr(f"logs/{log.name}", redact(log.read_text("utf-8", "replace")))
        record = admin.engine.heartbeat.record() or {}
        z.writestr("heartbeat.json", redact(json.dumps({k: v for k, v in record.items() if k != "_rid"}, indent=2)))
        z.writestr("settings.json", redact(json.dumps(admin.practice.settings.values(), indent=2)))
        z.writestr("outbox-counts.json", json.dumps(admin.outbox_counts(), indent=2))
        z.writestr("inbox-sync.json", redact(json.dumps(admin.sync_state(), indent=2)))
        versions = {"practicemail": __version__, "python": sys.version, "platform": platform.platform(),
                    "patient data included": include_patient_data}
        for dist in ("tinydb", "imapclient", "aiosmtpd", "jinja2", "icalendar", "PyQt6", "cryptography"):
            try:
                versions[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                versions[dist] = "not installed"
        z.writestr("versions.json", json.dumps(versions, indent=2))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buf.getvalue())
    return target


def email_support(admin: Admin, now: datetime, include_patient_data: bool = False) -> int:
    """The bundle, queued to `support.address` (sent at the next pass like any email)."""
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
