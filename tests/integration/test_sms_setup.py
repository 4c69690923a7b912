"""Setting up text messages through the Twilio-shaped fake provider over a real socket (#18):
a successful Test shows the balance and locks the practice ID (every door refuses to change it;
unlocking gives a warning), the practice's own reply words, a confirmation reply answering the
appointment its text asked about, and a text from a number nobody has waiting in the inbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from engine.errors import InputInvalid, SettingsInvalid, SmsAccountRefused
from engine.service.app import App, SignedIn
from engine.service.practice import Practice
from tests.integration.stepping import SteppingClock
from tests.integration.test_sms import T0, configure_sms
from tools.fakemail import FakeMail


@pytest.fixture
def app(practice: Practice, fakemail: FakeMail) -> Iterator[App]:
    configure_sms(practice, fakemail)
    a = App(practice, SteppingClock(T0))
    yield a
    a.close()


def test_a_successful_test_shows_the_balance_and_locks_the_practice_id(app: App, fakemail: FakeMail) -> None:
    s = app.settings
    account = s.get("sms.account")
    s.set("sms.secret", "not-the-token")
    with pytest.raises(SmsAccountRefused):
        app.test_sms()
    assert not app.sms_account_locked()  # a failed test locks nothing
    s.set("sms.secret", fakemail.info()["sms"]["auth_token"])
    balance = app.test_sms()
    assert (balance.amount, balance.currency) == ("10.00", "GBP")
    assert app.sms_account_locked()
    with pytest.raises(SettingsInvalid, match="sms.account: is locked") as refused:
        app.set_settings({"practice.name": "Changed", "sms.account": "AC" + "0" * 32})
    assert "super user" in refused.value.hint and "\n" not in str(refused.value.message)
    assert s.get("sms.account") == account and s.get("practice.name") != "Changed"  # nothing changed
    app.set_settings({"sms.account": account, "sms.sender": s.get("sms.sender")})  # the same ID: fine (the wizard)
    with pytest.raises(InputInvalid, match="only a super user") as refused:  # the desk: reception
        app.unlock_sms_account(app.roles.desk())
    assert "Sign in" in refused.value.hint and app.sms_account_locked()
    app.roles.add_user("Tess", "reception", "1357")
    with pytest.raises(InputInvalid, match=r"Tess \(reception\) may not"):
        app.unlock_sms_account(app.roles.sign_in("Tess", "1357"))
    # a SignedIn made up with the permission is read again from the stored groups: still reception's
    with pytest.raises(InputInvalid, match="only a super user"):
        app.unlock_sms_account(SignedIn("Tess", "reception", frozenset({"unlock_sms_account"})))
    assert app.sms_account_locked()
    warning = app.unlock_sms_account(app.roles.sign_in("super user", ""))
    assert "old account" in warning and not app.sms_account_locked()
    with pytest.raises(InputInvalid, match="not locked"):
        app.unlock_sms_account(app.roles.sign_in("super user", ""))
    app.set_settings({"sms.account": "AC" + "1" * 32})
    assert s.get("sms.account") == "AC" + "1" * 32


def test_the_practices_own_reply_words(app: App, fakemail: FakeMail) -> None:
    s = app.settings
    s.set_many({"sms.confirm_words": "oui, c", "sms.opt_out_words": "STOP, ARRÊT"})
    assert s.get("sms.confirm_words") == "OUI, C"
    first = app.reminders.book("P040", "2026-11-27T11:00", 30, T0)
    fakemail.sms.deliver_reply("+447700900041", "Yes")  # no longer a confirmation: words to read
    fakemail.sms.deliver_reply("+447700900002", "Arrêt!")
    report = app.texts.fetch_replies(T0)
    assert (report.confirmed, report.opted_out) == ([], ["P001"])
    assert not app.reminders.get(first).get("confirmed")
    fakemail.sms.deliver_reply("+447700900041", " Oui. ")
    assert app.texts.fetch_replies(T0).confirmed == [first]
    assert app.appointments_on(datetime(2026, 11, 27).date())[0].record["confirmed"] is True
    with pytest.raises(SettingsInvalid, match="opt_out_words"):
        s.set("sms.opt_out_words", "")  # nobody could ever opt out
    s.set("sms.confirm_words", "C, STOP")
    problems = {p.column: p.message for p in app.settings.check()}
    assert "also an opt-out word" in problems["sms.confirm_words"]


def test_a_confirmation_answers_the_appointment_its_text_asked_about(app: App, fakemail: FakeMail) -> None:
    """Two appointments coming: the reminder text went for the later one (its rule's day came
    first), so "C" confirms that one, not the sooner; moving it takes the confirmation away."""
    app.directory.update("patients", "P040", {"preference": "sms"})
    app.reminder_rules.add({"channel": "sms", "days": 1, "at": "10:00", "template": "APPTSMS", "provider_id": "DR2"})
    sooner = app.reminders.book("P040", "2026-11-27T11:00", 30, T0, "DR1")
    later = app.reminders.book("P040", "2026-11-28T09:00", 30, T0, "DR2")
    app.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))
    assert app.send_receive_now()["sent"] == 1
    fakemail.sms.deliver_reply("+447700900041", "C")
    app.clock.advance(timedelta(minutes=5))
    assert app.texts.fetch_replies(app.now()).confirmed == [later]
    assert not app.reminders.get(sooner).get("confirmed") and app.reminders.get(later)["confirmed"] is True
    app.reminders.move(later, "2026-12-04T09:00", app.now())
    assert not app.reminders.get(later).get("confirmed")  # they confirmed the old time, not this one


def test_a_text_from_an_unknown_number_waits_in_the_inbox_to_be_filed(app: App, fakemail: FakeMail) -> None:
    fakemail.sms.deliver_reply("+447700900777", "Is this the dentist? It's Ana, new number")
    fakemail.sms.deliver_reply("+447700900777", "STOP")  # nobody's number: opts nobody out, still shown
    app.texts.fetch_replies(T0)
    shown = app.inbox_messages()  # the default view, as reception opens the inbox
    assert [(m.sender, m.patient_id) for m in shown] == [("+447700900777", ""), ("+447700900777", "")]
    assert all(m.tags == ("SMS",) for m in shown)
    filed = app.file_message(shown[1].id, patient_id="P040")
    assert filed.patient_id == "P040" and "Patient" in filed.tags
    assert [m.id for m in app.inbox_messages()] == [shown[0].id]  # filed: on the patient's file now
