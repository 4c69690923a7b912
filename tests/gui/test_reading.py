"""Reading mail at the desk: the message view, what each role sees, printing, right-click tags."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail

HTML_MAIL = (b"From: Grace Okafor <grace.okafor@example.com>\r\nSubject: Photo of my crown\r\n"
             b"Message-ID: <html1@example.com>\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
             b"--B\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
             b"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe crown feels loose. My bank: http://bank.example/\r\n"
             b"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             b"<p>The crown feels <b>loose</b>.</p><img src=\"http://track.example/p.gif\">"
             b"<script>alert(1)</script><a href=\"http://bank.example/\">my bank</a>\r\n--A--\r\n"
             b"--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"../../crown.png\"\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n")


def open_first(qtbot: QtBot, w: MainWindow) -> None:
    w.inbox_page.tag_filter.setCurrentIndex(w.inbox_page.tag_filter.findData("all"))
    w.inbox.selectRow(0)
    qtbot.wait_until(lambda: w.message_view.content is not None, timeout=5000)


def test_plain_text_for_reception_html_for_the_dentist_nothing_remote_ever(qtbot: QtBot, window: MainWindow,
                                                                           fakemail: FakeMail, tmp_path: Path) -> None:
    fakemail.deliver("practice", HTML_MAIL)
    send_receive(qtbot, window)
    open_first(qtbot, window)
    view = window.message_view
    assert "Photo of my crown" in view.header.text() and "Grace Okafor" in view.header.text()
    assert view.body.toPlainText().startswith("The crown feels loose.")  # plain text, by default
    assert not view.formatted.isEnabled()  # reception: no HTML
    opened = window.inbox.id_at(0)  # opening it marks it read, on the jobs thread
    qtbot.wait_until(lambda: window.app.engine.inbox.get(opened)["read"], timeout=5000)
    assert "1 picture" in view.note.text()

    window.apply_role("dentist")  # formatted mail is the super user's alone by default, as the reference's
    assert not view.formatted.isEnabled()
    window.roles.save_group("dentist", {"view_html"})  # ticked for the dentists: HTML, links still text
    window.apply_role("dentist")
    assert view.formatted.isEnabled()
    view.formatted.setChecked(True)
    shown = view.body.toHtml()
    assert "<b>" in view.safe.html and "track.example" not in shown and "alert" not in shown
    assert 'href' not in view.safe.html  # the dentist may see HTML, but links are text
    assert not view.follow_link(QUrl("http://bank.example/")) and view.opened_links == []
    assert view.body.blocked == []  # nothing was even asked to load

    window.apply_role("super user")  # allowed links: opened only once the real address is confirmed
    view.confirm_link = lambda address: False
    assert 'href="http://bank.example/"' in view.safe.html
    assert not view.follow_link(QUrl("http://bank.example/")) and view.opened_links == []

    saved = view.save_attachment(0, tmp_path / view.content.attachments[0].filename)
    assert saved.name == "crown.png" and saved.read_bytes().startswith(b"\x89PNG")
    pdf = tmp_path / "message.pdf"
    from kiosk import printing

    printing.save_pdf(view.printable(), pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


def test_right_click_tags_and_the_selection_survives_new_mail(qtbot: QtBot, window: MainWindow,
                                                              fakemail: FakeMail) -> None:
    for i in range(2):
        fakemail.deliver("practice", f"From: stranger{i}@example.com\r\nSubject: Question {i}\r\n"
                                     f"Message-ID: <q{i}@example.com>\r\n\r\nHello\r\n".encode())
    send_receive(qtbot, window)
    window.inbox.selectRow(1)
    chosen = window.inbox.selected_ids()
    menu = window.inbox_page.menu()
    tag_menu = next(a.menu() for a in menu.actions() if a.text() == "Tag")
    assert {"Patient", "Specialist"} <= {a.text() for a in tag_menu.actions() if a.isCheckable()}
    next(a for a in tag_menu.actions() if a.text() == "Specialist").setChecked(True)
    settle(qtbot, window)
    assert window.app.engine.inbox.get(chosen[0])["tags"] == ["Specialist"]
    assert window.inbox.model_.rowCount() == 1  # tagged mail leaves the untagged view

    window.inbox.selectRow(0)
    reading = window.inbox.selected_ids()
    fakemail.deliver("practice", b"From: late@example.com\r\nSubject: Late\r\nMessage-ID: <late@x>\r\n\r\nHi\r\n")
    send_receive(qtbot, window)
    assert window.inbox.model_.rowCount() == 2 and window.inbox.selected_ids() == reading
    assert window.message_view.record is not None and window.message_view.record["_rid"] == reading[0]

    window.inbox_page.mark_selected_read(False)
    settle(qtbot, window)
    assert not window.app.engine.inbox.get(reading[0])["read"]
    window.inbox.selectAll()
    assert len(window.inbox.selected_ids()) == 2 and window.message_view.record is None


def test_file_to_a_specialist_from_the_inbox(qtbot: QtBot, window: MainWindow, fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: Reception <desk@ortho-referrals.example>\r\nSubject: Referral letter\r\n"
                                 b"Message-ID: <ref1@ortho-referrals.example>\r\n\r\nAttached.\r\n")
    send_receive(qtbot, window)
    rid = window.inbox.id_at(0)
    window.inbox_page.file_message(rid, specialist_id="SP1")
    settle(qtbot, window)
    got = window.app.engine.inbox.get(rid)
    assert got["specialist_id"] == "SP1" and "Specialist" in got["tags"]
    assert window.inbox.model_.rowCount() == 0  # filed: out of the untagged view


def test_deleted_messages_restore_and_a_flood_does_not_light_the_indicator(qtbot: QtBot, window: MainWindow,
                                                                          fakemail: FakeMail) -> None:
    fakemail.deliver("practice", b"From: someone@example.com\r\nSubject: Keep me\r\nMessage-ID: <k@x>\r\n\r\nHi\r\n")
    send_receive(qtbot, window)
    assert "1 new message" in window.new_mail.text()
    window.inbox.selectRow(0)
    window.inbox_page.delete_selected()
    settle(qtbot, window)
    assert window.inbox.model_.rowCount() == 0 and window.deleted.model_.rowCount() == 1
    window.deleted.selectRow(0)
    window.inbox_page.restore_selected()
    settle(qtbot, window)
    assert window.inbox.model_.rowCount() == 1 and window.deleted.model_.rowCount() == 0

    window.new_mail.setText("")
    window.on_new_mail({"received": 35, "filed": 0, "flooded": 35})
    assert window.new_mail.text() == "" and "35 from a sender" in window.new_mail.toolTip()
