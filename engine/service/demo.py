"""The demo practice: a fresh data folder filled from `fixtures/demo/`.

Only the seeding lives here (the engine's side: settings, directory, templates, a staged
outbox); the demo command that starts the fake servers and the kiosk is tools/demo.py. The
fixtures are package data of the `fixtures` package, read through `importlib.resources`, not
by a path relative to this file, so an installed package finds them too."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import tomllib
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from engine.adapters.documents import patient_folder
from engine.errors import InputInvalid
from engine.service.practice import Practice

FIXTURES: Traversable = resources.files("fixtures") / "demo"
DEMO_MARK = "DEMO-PRACTICE.txt"
DATE_LINE = re.compile(rb"^Date: ([^\r\n]+)", re.MULTILINE)  # a fixture message's own date, moved to the demo's day
FIXTURE_MONDAY = date(2026, 11, 30)  # the Monday the fixture appointments were written for


def _shifted_appointments(today: date) -> list[tuple[int, dict[str, str]]]:
    """The fixture week moved to the current week (Mon-Fri), keeping weekday and time."""
    monday = today - timedelta(days=today.weekday())
    shift = monday - FIXTURE_MONDAY
    rows = []
    text = (FIXTURES / "appointments.csv").read_text("utf-8")
    for n, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        start = datetime.fromisoformat(row["start"]) + shift
        rows.append((n, {**row, "start": start.isoformat(timespec="minutes")}))
    return rows


def _files(folder: Traversable, suffix: str) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(suffix)), key=lambda f: f.name)


def load_demo(practice: Practice, today: date | None = None, templates: Any = None) -> None:
    """The demo practice's data into `practice` (its templates through `templates`, the
    App's Templates when an App is open on it). The importers take paths: `as_file` gives the
    fixture's own file when the package is a folder, a temporary copy when it is zipped."""
    settings = tomllib.loads((FIXTURES / "settings.toml").read_text("utf-8"))
    practice.settings.set_many(settings)
    for kind in ("locations", "providers", "specialists", "patients"):
        with resources.as_file(FIXTURES / f"{kind}.csv") as path:
            practice.directory.import_csv(kind, path)
    practice.directory.import_rows("appointments", _shifted_appointments(today or date.today()), "appointments.csv")
    if templates is None:  # a bare Practice, being filled before any App opens on it
        from engine.service.templates import Templates

        templates = Templates(practice.store)
    for f in _files(FIXTURES / "templates", ".toml"):
        with resources.as_file(f) as path:
            templates.add_file(path)


def demo_inbox(now: datetime | None = None) -> list[bytes]:
    """The overnight replies the demo's fake server holds when the kiosk opens. Given `now`,
    their Date headers move with it, the last half an hour before `now` and the others as far
    before it as the fixtures have them (#19 item 11: 'overnight' replies were dated days ago)."""
    raw = [f.read_bytes() for f in _files(FIXTURES / "inbox", ".eml")]
    if now is None:
        return raw
    dates = [parsedate_to_datetime(m[1].decode()) for m in (DATE_LINE.search(r) for r in raw) if m]
    if not dates:
        return raw
    shift = now - timedelta(minutes=30) - max(dates)
    return [DATE_LINE.sub(lambda m: b"Date: " + format_datetime(parsedate_to_datetime(m[1].decode()) + shift).encode(),
                          r, count=1) for r in raw]


def prepare_demo_folder(folder: Path | None = None) -> Path:
    """A fresh folder with the demo practice. An explicit folder is emptied first."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="practicemail-demo-"))
    else:
        if folder.exists() and any(folder.iterdir()):
            if not (folder / DEMO_MARK).exists():
                raise InputInvalid(f"{folder} is not empty and is not a demo folder",
                                   hint="Give an empty or new folder; the demo never touches a real practice's data.")
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARK).write_text("This folder holds the practicemail demo and is replaced by each demo run.\n")
    with Practice(folder, writer=True, command="practicemail demo") as practice:
        load_demo(practice)
    copy_documents(folder)
    return folder


def copy_documents(folder: Path) -> None:
    """The demo patients' documents folders (Mrs Patel's x-ray, #19 item 11), as a practice keeps them."""
    for patient in (FIXTURES / "documents").iterdir():
        if not patient.is_dir():
            continue
        target = patient_folder(folder, patient.name)
        target.mkdir(parents=True, exist_ok=True)
        for f in patient.iterdir():
            if f.is_file():
                (target / f.name).write_bytes(f.read_bytes())


def configure_for_fakemail(practice: Practice, info: dict[str, object]) -> None:
    """Point the practice at the bundled fake servers (their ports change every run)."""
    user = info["users"][0]  # type: ignore[index]
    practice.settings.set_many({
        "practice.email": user["address"],
        "account.username": user["username"],
        "account.password": user["password"],
        "incoming.protocol": "imap",
        "incoming.host": "localhost",
        "incoming.port": str(info["imap"]["imaps"]),  # type: ignore[index]
        "incoming.security": "implicit",
        "outgoing.host": "localhost",
        "outgoing.port": str(info["smtp"]["submission"]),  # type: ignore[index]
        "outgoing.security": "starttls",  # the submission port, wherever it landed
        "tls.ca_file": str(info["ca_file"]),
    })


def stage_outbox(practice: Practice, now: datetime) -> list[int]:
    """A morning's outbox for the demo: two emails that will go on the first pass, one the
    server will refuse (the demo arms a 550 for it, so Reset Failed has something to do),
    and a draft waiting to be finished. Written through an App over the practice, so its
    Outbox, Inbox, Templates and Composer are the graph's own, built once."""
    from engine.service.app import App

    app = App(practice)
    try:
        composer = app.composer
        return [
            composer.from_patient("P029", now, subject="Your new patient forms",
                                  text="Please bring the forms to your first visit."),
            composer.from_patient("P010", now, subject="Your hygiene appointment",
                                  text="Thank you for booking; see you on Thursday."),
            composer.from_patient("P005", now, subject="Re: Running late tomorrow",
                                  text="No problem at all; we will see you when you arrive."),
            composer.from_patient("P001", now, subject="Your x-ray", text="Dear Priya,\n\nAs discussed, ",
                                  attachments=[d.path for d in app.documents("P001")], as_draft=True),
        ]
    finally:
        app.outbox.close()
        app.close()


def stage_answered(practice: Practice, now: datetime) -> bytes:
    """Yesterday's email about the Patels' younger child, Anika, sent, and the family's overnight
    reply to it from their shared address: the reply the journey expects already filed to her,
    by the thread (#19 item 11). Returns the reply, for the demo's server to hold."""
    from engine.core.outbox import Event
    from engine.service.app import App

    yesterday = now - timedelta(hours=15)
    app = App(practice)
    try:
        rid = app.composer.from_patient("P003", yesterday, subject="Anika's check-up on Thursday",
                                        text="Dear Priya,\n\nAnika's check-up is on Thursday at 15:30.")
        app.outbox.claim([rid], yesterday)
        app.outbox.apply(rid, Event.DELIVERED, yesterday)
        item = app.outbox.get(rid)
    finally:
        app.outbox.close()
        app.close()
    return (f"From: The Patels <{item['to'][0]}>\r\nTo: {item['from']}\r\n"
            f"Subject: Re: {item['subject']}\r\nMessage-ID: <demo-anika@mailhome.example>\r\n"
            f"In-Reply-To: {item['message_id']}\r\nReferences: {item['message_id']}\r\n"
            f"Date: {format_datetime(now - timedelta(minutes=45))}\r\n\r\n"
            "Thursday is fine; I will bring her after school.\r\nPriya\r\n").encode()
