"""The wizard's sign-in page with pytest-qt; where the system browser would open, the test's
HTTP client plays the browser (and, for the device code, the phone)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.service.practice import Practice
from kiosk.main_window import MainWindow
from kiosk.wizard import SetupWizard
from tests.integration.helpers import draft
from tests.integration.oauth_helpers import browse, browser_for, oauth_config
from tools.fakemail import FakeMail


def to_signin_page(qtbot: QtBot, window: MainWindow, fakemail: FakeMail, issuer: str = ""):  # noqa: ANN201
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    wizard.account.username.setText(fakemail.user().address)
    wizard.account.signs_in.setChecked(True)
    wizard.next()  # the connection page: no proxy
    wizard.next()
    page = wizard.signin
    assert wizard.currentPage() is page
    page.client_id.setText("practicemail-test")
    page.issuer.setText(issuer or fakemail.oauth.issuer)
    return wizard, page


def test_password_accounts_skip_the_sign_in_page(qtbot: QtBot, window: MainWindow) -> None:
    wizard = window.open_wizard()
    qtbot.add_widget(wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.proxy  # the connection first
    wizard.next()
    assert wizard.currentPage() is wizard.test


def test_sign_in_with_another_provider_then_the_test_passes(qtbot: QtBot, window: MainWindow, practice: Practice,
                                                            fakemail: FakeMail) -> None:
    wizard, page = to_signin_page(qtbot, window, fakemail)
    page.open_browser, errors = browser_for(fakemail)
    qtbot.mouseClick(page.buttons["custom"], Qt.MouseButton.LeftButton)
    assert page.cancel.isEnabled() and not page.buttons["google"].isEnabled()  # waiting, with Cancel
    qtbot.wait_until(lambda: page.signed_in, timeout=20000)
    assert not errors and page.status.text() == f"Signed in as {fakemail.user().address}."
    assert practice.settings.get("outgoing.auth") == "oauth2" and practice.settings.get("oauth.provider") == "custom"
    wizard.next()
    qtbot.mouseClick(wizard.test.run, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: wizard.test.result is not None, timeout=20000)
    names = [s["name"] for s in wizard.test.result["steps"]]
    assert wizard.test.passed and "get an access token" in names and fakemail.sent() == []


def test_device_code_with_qr_finished_on_a_phone(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    oauth_config(fakemail, device_interval=1)
    wizard, page = to_signin_page(qtbot, window, fakemail)
    page.device.setChecked(True)
    qtbot.mouseClick(page.buttons["custom"], Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: page.device_code is not None and not page.qr.pixmap().isNull(), timeout=20000)
    device = page.device_code
    assert device.user_code in page.code.text() and device.verification_uri in page.code.text()
    user = fakemail.user()
    browse(device.verification_uri_complete, user.username, user.password)  # the phone
    qtbot.wait_until(lambda: page.signed_in, timeout=20000)


def test_cancel_while_waiting_for_the_browser(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    wizard, page = to_signin_page(qtbot, window, fakemail)
    page.tenant.setText("contoso.onmicrosoft.com")
    opened: list[str] = []
    page.open_browser = opened.append
    qtbot.mouseClick(page.buttons["microsoft"], Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: bool(opened), timeout=20000)
    url = urlsplit(opened[0])
    query = parse_qs(url.query)
    assert url.netloc == "login.microsoftonline.com" and url.path.startswith("/contoso.onmicrosoft.com/")
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert "https://outlook.office.com/SMTP.Send" in query["scope"][0].split()
    qtbot.mouseClick(page.cancel, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: page.buttons["microsoft"].isEnabled(), timeout=20000)
    assert "cancelled" in page.status.text() and not page.signed_in


def test_the_light_offers_sign_in_again_and_opens_setup_there(qtbot: QtBot, window: MainWindow, practice: Practice,
                                                               fakemail: FakeMail) -> None:
    """#17: an expired or withdrawn sign-in turns the light amber with a button that opens Email
    setup at the sign-in page; any other failure shows no such button."""
    from engine.service import signin
    from tests.integration.oauth_helpers import post_form
    from tests.integration.test_oauth_engine import configure_oauth, sign_in

    plain_failure = window.open_service_dialog()
    assert not plain_failure.sign_in.isVisibleTo(plain_failure)
    plain_failure.close()
    configure_oauth(practice, fakemail)
    sign_in(practice, fakemail)
    post_form(f"{fakemail.oauth.issuer}/oauth/revoke", {"token": signin.sign_in_file(practice).load()})
    post_form(f"{fakemail.oauth.issuer}/oauth/expire", {})
    signin.keeper(practice).forget()
    window.app.engine.outbox.add_draft(draft(subject="Held"), window.app.engine.clock.now())
    window.app.engine.send_receive_now()
    window.refresh_status()
    assert window.light.status["action"] == "sign_in"
    dialog = window.open_service_dialog()
    assert dialog.sign_in.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)  # nobody signed in: reception may not (#19)
    assert not [w for w in window.findChildren(SetupWizard) if w.isVisible()]
    assert "allowed email setup" in window.status_line.text()
    assert window.sign_in("super user", "")
    dialog = window.open_service_dialog()
    qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)
    wizard = next(w for w in window.findChildren(SetupWizard) if w.isVisible())
    qtbot.add_widget(wizard)
    assert wizard.currentPage() is wizard.signin
