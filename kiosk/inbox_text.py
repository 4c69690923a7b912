"""The inbox search's text stage in the kiosk (issue 19 finding 8): with "Search the text too"
ticked, the messages' text is searched as well (App.inbox_text_search), after the fast header
search has shown its rows. The walk runs on the jobs thread STEP messages at a time, so a
click's command waits behind one step at most and the GUI never waits at all; what each step
finds joins the list as it comes, and the line beside the box says how far it has got. Stop,
a new search, another filter or the tick taken off ends it (the step under way stops at its
next message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton

from engine.errors import PracticeMailError
from engine.service.app import App, InboxMessage, TextSearch
from kiosk.jobs import Jobs
from kiosk.tables import ROWS

STEP = 100  # messages read in one job (~0.1 s of mail with attachments: tools/bench/inbox_text.py)
Rows = tuple[list[tuple[int, list[str]]], list[str], dict[int, InboxMessage]]  # shown, tips, by id


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class TextWalk:
    """The tick, the status line and the Stop button, and the walk they drive."""

    def __init__(self, app: App, jobs: Jobs, shape: Callable[[list[InboxMessage]], Rows],
                 show: Callable[[], None]) -> None:
        self.app, self.jobs, self.shape, self.show = app, jobs, shape, show
        self.tick = QCheckBox("Search the text too")
        self.tick.setToolTip("Also look for the words in each message's text: slower, so the messages found "
                             "join the list as the search goes on (Stop ends it)")
        self.status = QLabel()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop)
        self.key: tuple[Any, ...] | None = None  # the search and view being walked (or walked)
        self.generation = 0  # a step of an older walk stops and its answer is dropped
        self.found: Rows = ([], [], {})
        self.searched = 0
        self.running = False

    def widgets(self, row: QHBoxLayout) -> None:
        for w in (self.tick, self.status, self.stop_button):
            row.addWidget(w)

    def follow(self, search: str, view: dict[str, Any]) -> None:
        """The search box and the filters as they are now: a new walk when they changed."""
        key = (search.strip(), tuple(sorted((k, str(v)) for k, v in view.items())))
        if not (self.tick.isChecked() and search.strip()):
            self._end("")
            self.key, self.found = None, ([], [], {})
            return
        if key == self.key:
            return  # the same search (the tab shown again): the walk goes on, or its answer stays
        self._end("")
        self.key, self.found, self.searched, self.running = key, ([], [], {}), 0, True
        self.generation += 1
        generation = self.generation
        self.status.setText("Searching the messages' text...")
        self.stop_button.setVisible(True)
        walk = self.app.inbox_text_search(search, limit=ROWS, **view)
        self._next(walk, generation)

    def _next(self, walk: TextSearch[InboxMessage], generation: int) -> None:
        def step() -> tuple[Rows, int, bool]:
            taken = walk.step(STEP, lambda: generation != self.generation)
            return self.shape(list(taken.found)), taken.searched, taken.done

        self.jobs.run(step, lambda answer: self._took(walk, generation, *answer),
                      lambda exc: self._failed(generation, exc))

    def _took(self, walk: TextSearch[InboxMessage], generation: int, rows: Rows, searched: int, done: bool) -> None:
        if generation != self.generation:
            return
        self.found = (self.found[0] + rows[0], self.found[1] + rows[1], {**self.found[2], **rows[2]})
        self.searched = searched
        if rows[0]:
            self.show()
        if done:
            self.running = False
            self.stop_button.setVisible(False)
            self.status.setText(f"Text searched: {plural(searched, 'message')}, {len(self.found[0])} found")
            return
        self.status.setText(f"Searching the text: {plural(searched, 'message')}, {len(self.found[0])} found")
        self._next(walk, generation)

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation == self.generation:
            self._end(f"Text search stopped: {exc}")

    def stop(self) -> None:
        """Stop clicked: what was found stays shown."""
        if self.running:
            self._end(f"Stopped: {plural(self.searched, 'message')} searched, {len(self.found[0])} found")

    def _end(self, said: str) -> None:
        self.generation += 1  # a step under way stops at its next message; its answer is dropped
        self.running = False
        self.stop_button.setVisible(False)
        self.status.setText(said)

    def ids(self) -> tuple[int, ...]:
        """The messages the walk has found so far (a refresh reads them again: read, tagged, deleted)."""
        return tuple(self.found[2])

    def reread(self, ids: tuple[int, ...]) -> Rows:
        """Those messages as they are now, the deleted ones gone (jobs thread). A search's view is
        every message not deleted, so that is the one filter to check again."""
        fresh = []
        for rid in ids:
            try:
                message = self.app.inbox_message(rid)
            except PracticeMailError:  # removed since
                continue
            if not message.deleted:
                fresh.append(message)
        return self.shape(fresh)

    def renew(self, ids: tuple[int, ...], fresh: Rows) -> None:
        """The found rows read again by a refresh: those it read replaced (or gone, when deleted);
        those found since kept; none of an older walk's brought back."""
        asked, tips = set(ids), dict(zip((rid for rid, _ in fresh[0]), fresh[1]))
        now = dict(zip((rid for rid, _ in fresh[0]), (values for _, values in fresh[0])))
        rows, row_tips, messages = [], [], {}
        for n, (rid, values) in enumerate(self.found[0]):
            if rid in asked and rid not in now:
                continue
            rows.append((rid, now.get(rid, values)))
            row_tips.append(tips.get(rid, self.found[1][n] if n < len(self.found[1]) else ""))
            messages[rid] = fresh[2].get(rid, self.found[2][rid])
        self.found = (rows, row_tips, messages)

    def merged(self, header: Rows) -> Rows:
        """The header search's rows with the text stage's, newest first, each message once."""
        shown, tips, messages = header
        if self.key is None or not self.found[0]:
            return header
        tip_of = dict(zip((rid for rid, _ in shown), tips)) if tips else {}
        tip_of.update(zip((rid for rid, _ in self.found[0]), self.found[1]))
        rows = {rid: values for rid, values in self.found[0]}
        rows.update(dict(shown))
        order = sorted(rows, reverse=True)[:ROWS]
        return [(rid, rows[rid]) for rid in order], [tip_of.get(rid, "") for rid in order], \
            {**self.found[2], **messages}
