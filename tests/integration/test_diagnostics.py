"""The support bundle: what support needs is there; nothing private is, without the opt-in."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from engine.admin.facade import Admin
from engine.service.app import App
from engine.admin.diagnostics import export, run_runbook
from engine.service.demo import load_demo
from engine.service.engine import Engine
from tests.conftest import ROOT
from tests.integration.helpers import configure, configure_incoming, draft, open_practice
from tools.fakemail import FakeMail

PASSWORD = "Sup3r-Secret-Pa55"
SUBJECT = "Results of Bartholomew's root canal"


def planted(data_dir: Path, fakemail: FakeMail) -> None:
    with open_practice(data_dir) as p:
        load_demo(p)
        configure(p, fakemail)
        configure_incoming(p, fakemail, "imap")
        fakemail.user().password = PASSWORD  # the server's password is the practice's
        p.settings.set("account.password", PASSWORD)
        e = Engine(p)
        e.start()
        fakemail.deliver("practice", f"From: Bartholomew <bartholomew.fitzgerald-smythe@patientmail.example>\r\n"
                                     f"Subject: {SUBJECT}\r\nMessage-ID: <x1@p>\r\n\r\nprivate words\r\n".encode())
        e.outbox.add_draft(draft(to="zoe.lefevre@patientmail.example", subject="Zoë's crown"), e.clock.now(),
                           patient_id="P035")
        fakemail.faults.add("smtp", "data", "reply", code=552)
        e.send_receive_now()
        e.stop()


def test_no_patient_data_or_secret_without_the_opt_in(data_dir: Path, fakemail: FakeMail, tmp_path: Path) -> None:
    planted(data_dir, fakemail)
    with open_practice(data_dir) as p:
        path = export(Admin(App(p)), tmp_path / "diag.zip")
        with_opt_in = export(Admin(App(p)), tmp_path / "diag-full.zip", include_patient_data=True)
    secrets_and_people = [PASSWORD, "Bartholomew", "Fitzgerald-Smythe", "bartholomew.fitzgerald-smythe@", SUBJECT,
                          "zoe.lefevre@", "Zoë's crown", "private words", "14 River Street"]
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        everything = "\n".join(z.read(n).decode("utf-8", "replace") for n in names)
    for secret in secrets_and_people[:-1]:
        assert secret not in everything, secret
    assert "552" in everything and "[address]" in everything  # the server's words stay, addresses go
    assert {"runbooks/outbox_health.html", "runbooks/service_health.html", "settings.json", "heartbeat.json",
            "versions.json"} <= set(names)
    with zipfile.ZipFile(with_opt_in) as z:
        full = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert PASSWORD not in full and "zoe.lefevre@" in full  # opt-in shows addresses; never the password


def test_outbox_runbook_says_what_failed_in_the_servers_words(data_dir: Path, fakemail: FakeMail) -> None:
    planted(data_dir, fakemail)
    with open_practice(data_dir) as p:
        page, results = run_runbook(Admin(App(p)), "outbox_health", role="reception")
    assert "552" in page and "larger than your provider accepts" in page
    assert "<script" not in page and "Zoë" not in page
    assert results[-1].state == "refused"  # the reset action needs a super user


def test_cli_export_and_run(data_dir: Path, fakemail: FakeMail, tmp_path: Path) -> None:
    planted(data_dir, fakemail)
    out = subprocess.run([sys.executable, "-m", "engine", "export-diagnostics", "-o", str(tmp_path / "d.zip"),
                          "--data", str(data_dir)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr and zipfile.is_zipfile(tmp_path / "d.zip")
    run = subprocess.run([sys.executable, "-m", "engine", "admin", "run", "service_health", "--html",
                          str(tmp_path / "s.html"), "--data", str(data_dir)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert "state" in run.stdout and (tmp_path / "s.html").read_text().startswith("<!doctype html>")
    one = subprocess.run([sys.executable, "-m", "engine", "admin", "run", "outbox_health", "--cell", "2",
                          "--data", str(data_dir)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert one.returncode == 0 and "no failed items" not in one.stdout  # only the counts ran
    bad = subprocess.run([sys.executable, "-m", "engine", "admin", "run", "outbox_health", "--cell", "99",
                          "--data", str(data_dir)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode != 0 and "no cell" in bad.stderr and "Traceback" not in bad.stderr
