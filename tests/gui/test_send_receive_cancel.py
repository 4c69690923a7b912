"""Cancel for a Send/Receive hung on a server that stopped answering (#19 item 8): the pass is
cut short, the status bar and the light say so, and the item waits, ready, for the next pass."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.integration.helpers import draft
from tools.fakemail import FakeMail


def test_a_hung_send_receive_is_cancelled_and_nothing_is_lost(qtbot: QtBot, window: MainWindow,
                                                              fakemail: FakeMail) -> None:
    app = window.app
    app.engine.smtp_timeout = 60  # longer than the test may wait: only the Cancel ends the pass
    rid = app.engine.outbox.add_draft(draft(to="angus.macleod@patientmail.example", subject="Estimate"),
                                      app.now(), patient_id="P033")
    fakemail.faults.add("smtp", "any", "hang", times=None)
    assert not window.cancel_pass.isEnabled()
    window.last_pass = None
    window.send_receive.trigger()
    assert window.cancel_pass.isEnabled() and not window.send_receive.isEnabled()
    qtbot.wait_until(lambda: app.engine._session is not None, timeout=10000)  # the pass is under way
    window.cancel_pass.trigger()
    qtbot.wait_until(lambda: window.last_pass is not None, timeout=15000)
    assert window.last_pass["cancelled"] and window.last_pass["sent"] == 0
    assert "cancelled" in window.status_line.text() and "nothing was lost" in window.status_line.text()
    assert "cancelled" in window.light.toolTip()
    assert window.send_receive.isEnabled() and not window.cancel_pass.isEnabled()
    assert app.outbox_item(rid).status.value == "ready"
    assert app.running  # the service itself was not stopped: only the pass
    fakemail.faults.clear()


def test_a_ready_item_says_it_waits_for_send_receive_when_automatic_sending_is_off(window: MainWindow) -> None:
    app = window.app
    rid = app.engine.outbox.add_draft(draft(to="angus.macleod@patientmail.example", subject="Estimate"),
                                      app.now(), patient_id="P033")
    app.set_settings({"schedule.send_immediately": False})
    assert app.waiting_words(app.outbox_item(rid)) == "waits for Send/Receive (automatic sending is off)"
    window.refresh_outbox()
    m = window.outbox.model_
    assert "waits for Send/Receive (automatic sending is off)" in [m.text(0, c) for c in range(m.columnCount())]
    app.set_settings({"schedule.send_immediately": True})
    assert app.waiting_words(app.outbox_item(rid)) == ""
