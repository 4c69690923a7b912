"""The demo practice's addresses as a person would have typed them (#19 item 11: 'jrgen.mller@'
for Greta Müller, 'luca.garca@' for Lucía García: letters dropped where an accent stood)."""

from __future__ import annotations

import csv
import io
import unicodedata

from engine.service.demo import FIXTURES, demo_inbox


def folded(text: str) -> str:
    """Lower-case ASCII letters and digits: 'Müller' -> 'muller', "O'Brien" -> 'obrien'."""
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def test_every_demo_address_carries_its_patients_name_unmangled() -> None:
    rows = list(csv.DictReader(io.StringIO((FIXTURES / "patients.csv").read_text("utf-8"))))
    mangled = []
    for r in rows:
        if not r["email"]:
            continue
        local = folded(r["email"].split("@")[0].replace("ue", "u"))  # Müller may be written mueller
        if not any(folded(name) and folded(name) in local for name in (r["first_name"], r["last_name"])):
            mangled.append(f"{r['id']} {r['first_name']} {r['last_name']}: {r['email']}")
    assert mangled == []


def test_the_overnight_replies_are_dated_overnight() -> None:
    """Dated the fixtures' own November days, the demo's 'overnight' replies read as days old."""
    from datetime import datetime, timedelta, timezone
    from email import message_from_bytes
    from email.utils import parsedate_to_datetime

    now = datetime(2027, 3, 9, 7, 55, tzinfo=timezone.utc)
    dates = [parsedate_to_datetime(message_from_bytes(m)["Date"]) for m in demo_inbox(now)]
    assert len(dates) == len(demo_inbox()) >= 3
    assert max(dates) == now - timedelta(minutes=30) and min(dates) > now - timedelta(hours=12)
    assert dates == sorted(dates)  # in the order they came, as the fixtures have them
    assert [message_from_bytes(m)["Subject"] for m in demo_inbox(now)] == \
        [message_from_bytes(m)["Subject"] for m in demo_inbox()]  # nothing else touched


def test_the_x_ray_draft_has_its_x_ray_from_the_patients_documents_folder(tmp_path) -> None:  # noqa: ANN001
    """The demo's 'Your x-ray' draft had no x-ray, and no patient had a documents folder to attach one from."""
    from datetime import datetime, timezone

    from engine.service.app import App
    from engine.service.demo import prepare_demo_folder, stage_outbox
    from engine.service.practice import Practice

    folder = prepare_demo_folder(tmp_path / "demo")
    with Practice(folder, writer=True, command="test") as practice:
        ids = stage_outbox(practice, datetime.now(timezone.utc))
        app = App(practice)
        try:
            assert [d.name for d in app.documents("P001")] == ["bitewing-x-ray.png"]
            (draft,) = [app.engine.outbox.get(i) for i in ids if app.engine.outbox.get(i)["status"] == "draft"]
            raw = app.engine.outbox.blob(draft)
            assert draft["subject"] == "Your x-ray" and b'filename="bitewing-x-ray.png"' in raw
        finally:
            app.outbox.close()
            app.close()


def test_the_reply_about_the_younger_child_is_filed_to_her_by_its_thread(tmp_path) -> None:  # noqa: ANN001
    """JOURNEYS.md, reception's 08:00: 'a reply to yesterday's email about the family's younger
    child is already filed to that child'. The demo had no such email nor reply."""
    from datetime import datetime, timezone

    from engine.service.app import App
    from engine.service.demo import configure_for_fakemail, prepare_demo_folder, stage_answered, stage_outbox
    from engine.service.practice import Practice
    from tools.fakemail import FakeMail

    folder = prepare_demo_folder(tmp_path / "demo")
    now = datetime.now(timezone.utc)
    with FakeMail(spool=tmp_path / "spool") as fm, Practice(folder, writer=True, command="test") as practice:
        configure_for_fakemail(practice, fm.info())
        stage_outbox(practice, now)
        answered = stage_answered(practice, now)
        for sample in [*demo_inbox(now), answered]:
            fm.deliver(fm.user().username, sample)
        app = App(practice)
        try:
            app.send_receive_now()
            (sent,) = [i for i in app.engine.outbox.list() if i["patient_id"] == "P003"]
            assert sent["status"] == "sent" and "Anika" in sent["subject"]
            assert fm.sent() and not [m for m in fm.sent() if b"Anika's check-up" in bytes(m["data"])]  # not again
            (reply,) = [m for m in app.engine.inbox.list(show_all=True) if m["subject"] == f"Re: {sent['subject']}"]
            assert reply["patient_id"] == "P003"  # Anika, the younger: not left among the Patels' candidates
            family = app.engine.inbox.list(show_all=True)
            assert [m["candidates"] for m in family if m["subject"].startswith("Question about the children")] \
                and reply not in [m for m in family if m.get("candidates")]
        finally:
            app.outbox.close()
            app.close()
