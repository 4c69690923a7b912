"""A click's command runs on the kiosk's jobs thread, never on the GUI thread (DESIGN.md,
Threads; issue 15: opening a message during Send/Receive waited for the worker's partition
write); the GUI shows the change at once and takes it back, saying so, when the store refuses.

The App's commands are wrapped in the test to note the thread each runs on and then run
for real (nothing of ours is replaced); the assertions are on threads and state, not time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from engine.service.app import NewEmail
from kiosk.main_window import MainWindow
from tests.gui.helpers import send_receive, settle
from tools.fakemail import FakeMail


def noting(window: MainWindow, names: tuple[str, ...]) -> dict[str, list[int]]:
    """Each named App command, noting the thread it ran on before it runs."""
    seen: dict[str, list[int]] = {name: [] for name in names}
    for name in names:
        real: Callable[..., Any] = getattr(window.app, name)

        def wrapped(*args: Any, _real: Callable[..., Any] = real, _name: str = name, **kwargs: Any) -> Any:
            seen[_name].append(threading.get_ident())
            return _real(*args, **kwargs)

        setattr(window.app, name, wrapped)
    return seen


def rids(window: MainWindow) -> list[int]:
    return [window.inbox.id_at(n) for n in range(window.inbox.model_.rowCount())]


def test_opening_tagging_and_deleting_a_message_write_on_the_jobs_thread(qtbot: QtBot, window: MainWindow,
                                                                          fakemail: FakeMail) -> None:
    for i in range(3):
        fakemail.deliver("practice", f"From: p{i}@example.com\r\nSubject: Q{i}\r\nMessage-ID: <t{i}@x>\r\n\r\nHi\r\n"
                         .encode())
    send_receive(qtbot, window)
    seen = noting(window, ("mark_read", "set_tags", "delete_message"))
    gui = threading.get_ident()
    first, second, third = rids(window)

    window.inbox.selectRow(0)  # opening it marks it read
    assert window.inbox.model_.text(0, 0) == ""  # shown read at once
    window.inbox_page.set_tags([second], ["Billing"])
    window.inbox.selectRow(2)
    window.inbox_page.delete_selected()
    assert third not in rids(window)  # gone from the list at once
    settle(qtbot, window)

    assert seen["mark_read"] and seen["set_tags"] and seen["delete_message"]
    assert gui not in {t for threads in seen.values() for t in threads}
    inbox = window.app.inbox
    assert inbox.get(first)["read"] and inbox.get(second)["tags"] == ["Billing"] and inbox.get(third)["deleted"]


def test_a_refused_outbox_delete_puts_the_row_back_and_says_why(qtbot: QtBot, window: MainWindow) -> None:
    window.app.stop()  # no pass: the item stays as this test leaves it
    rid = window.app.compose(NewEmail("P001", subject="Being sent", text="Hello"))
    window.app.outbox.claim([rid], window.app.now())  # a pass has it: sending, which may not be deleted
    seen = noting(window, ("apply_to_outbox",))
    window.refresh_outbox()
    row = [window.outbox.id_at(n) for n in range(window.outbox.model_.rowCount())].index(rid)
    window.outbox.selectRow(row)

    window.outbox_page.delete_selected()
    assert rid not in [window.outbox.id_at(n) for n in range(window.outbox.model_.rowCount())]  # at once
    settle(qtbot, window)

    assert seen["apply_to_outbox"] and threading.get_ident() not in seen["apply_to_outbox"]
    assert window.app.outbox.get(rid)["status"] == "sending"
    assert rid in [window.outbox.id_at(n) for n in range(window.outbox.model_.rowCount())]  # back
    assert window.status_line.text().startswith("Not done:")
