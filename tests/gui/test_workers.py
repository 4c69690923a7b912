"""Work off the GUI thread (kiosk/workers.py): every answer comes back on the GUI thread, in the
order the jobs ended, those waiting together in one go (issue 15: one GIL take for a batch,
not one per job); a slow job does not hold up another background job; a closed owner's answers
are dropped; the desk's jobs run one at a time in the order asked."""

from __future__ import annotations

import threading

from PyQt6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kiosk.bridge import run_in_background
from kiosk.jobs import Jobs
from kiosk.workers import Answers, Workers


def test_answers_waiting_come_back_on_the_gui_thread_in_order_in_one_go(qtbot: QtBot) -> None:
    answers, workers = Answers(), Workers(1, "test-jobs")
    wakes: list[int] = []
    answers.arrived.connect(lambda: wakes.append(1))
    got: list[tuple[int, int]] = []
    for n in range(50):
        workers.run(lambda n=n: n * n, answers, lambda value: got.append((value, threading.get_ident())),
                    lambda exc: got.append((-1, 0)))
    assert workers.wait(10)  # all fifty ran and answered before the GUI thread looked
    qtbot.wait_until(lambda: len(got) == 50, timeout=5000)
    assert [v for v, _ in got] == [n * n for n in range(50)]
    assert {t for _, t in got} == {threading.get_ident()}  # the GUI thread's
    assert len(wakes) == 1  # one signal ran the fifty


def test_a_failing_job_and_a_failing_answer_leave_the_others_be(qtbot: QtBot) -> None:
    answers, workers = Answers(), Workers(1, "test-jobs")
    got: list[str] = []

    def refuse() -> None:
        raise ValueError("no")

    def bad_answer(_value: object) -> None:
        got.append("bad")
        raise RuntimeError("a slot's mistake")

    workers.run(refuse, answers, lambda _v: got.append("done?"), lambda exc: got.append(f"failed: {exc}"))
    workers.run(lambda: 1, answers, bad_answer, lambda exc: got.append("x"))
    workers.run(lambda: 2, answers, lambda v: got.append(f"then {v}"), lambda exc: got.append("x"))
    with qtbot.capture_exceptions() as raised:
        qtbot.wait_until(lambda: len(got) == 3, timeout=5000)
    assert got == ["failed: no", "bad", "then 2"]
    assert [str(e[1]) for e in raised] == ["a slot's mistake"]  # reported as a slot's would be


def test_a_long_background_job_does_not_hold_up_the_next(qtbot: QtBot) -> None:
    """A Send/Receive runs for minutes in the background; a message opened meanwhile is read."""
    owner = QWidget()
    qtbot.add_widget(owner)
    released, got = threading.Event(), []
    run_in_background(lambda: released.wait(10), got.append, got.append, owner=owner)
    run_in_background(lambda: (released.set(), "read")[1], got.append, got.append, owner=owner)
    qtbot.wait_until(lambda: len(got) == 2, timeout=5000)
    assert got == ["read", True]


def test_a_closed_owner_hears_no_answer(qtbot: QtBot) -> None:
    owner = QWidget()
    go, got = threading.Event(), []
    run_in_background(lambda: go.wait(10), lambda v: got.append(v), got.append, owner=owner)
    other = QWidget()
    qtbot.add_widget(other)
    run_in_background(lambda: go.wait(10), lambda v: got.append(("other", v)), got.append, owner=other)
    owner.deleteLater()
    qtbot.wait_until(lambda: _deleted(owner), timeout=5000)
    go.set()
    qtbot.wait_until(lambda: got == [("other", True)], timeout=5000)


def _deleted(widget: QWidget) -> bool:
    from PyQt6 import sip
    return sip.isdeleted(widget)


def test_the_desks_jobs_run_one_at_a_time_in_the_order_asked(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.add_widget(owner)
    jobs = Jobs(owner)
    running, most, order = [0], [0], []

    def job(n: int) -> int:
        running[0] += 1
        most[0] = max(most[0], running[0])
        threading.Event().wait(0.002)
        running[0] -= 1
        return n

    for n in range(20):
        jobs.run(lambda n=n: job(n), order.append)
    assert not jobs.idle()
    qtbot.wait_until(jobs.idle, timeout=5000)
    assert order == list(range(20)) and most == [1]


def test_a_table_cell_gives_every_role_in_one_call(qtbot: QtBot) -> None:
    """Qt draws a cell asking multiData once (the table's own answers every role it asks)."""
    from PyQt6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, Qt
    from PyQt6.QtGui import QIcon

    from kiosk.tables import ROLE_ID, RecordTable

    table = RecordTable(("", "Subject"))
    qtbot.add_widget(table)
    table.model_.icon = lambda first: QIcon() if first == "SMS" else None
    table.fill([(7, ["SMS", "Hello\u202e"]), (9, ["", "Second"])], ["why 7", "why 9"])
    model = table.model_
    roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, ROLE_ID, Qt.ItemDataRole.DecorationRole,
             Qt.ItemDataRole.FontRole]
    for row, column in ((0, 0), (0, 1), (1, 0)):
        span = QModelRoleDataSpan([QModelRoleData(r) for r in roles])
        model.multiData(model.index(row, column), span)
        got = [span[n].data() for n in range(len(span))]
        assert got[:3] == [model.data(model.index(row, column), r) for r in roles[:3]]
        assert got[0] == model.rows[row][1][column] and got[2] == (7, 9)[row] and got[4] is None
        assert isinstance(got[3], QIcon) == ((row, column) == (0, 0))
    assert not model.index(2, 0).isValid() and not model.index(0, 2).isValid()
    assert not model.index(0, 0, model.index(0, 0)).isValid()
    assert model.index(1, 1).row() == 1 and QModelIndex() == model.index(-1, 0)
