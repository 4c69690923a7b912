"""The Outbox tab: what is waiting, sent, failed (with the server's reason) or drafted; find
by date, open a draft in the compose window, forward, the item's history, print, delete,
reset what failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from PyQt6.QtCore import QDate
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import (QCheckBox, QDateEdit, QHBoxLayout, QLabel, QMessageBox, QPushButton,
                             QVBoxLayout, QWidget)

from engine.adapters.store import RID
from engine.core import incoming
from engine.core.outbox import Event
from engine.errors import PracticeMailError
from engine.service.compose import Composer
from engine.service.engine import Engine
from kiosk import plain, printing
from kiosk.compose import ComposeDialog
from kiosk.tables import ROWS, RecordTable
from kiosk.widgets import ask_forward_address, no_checked



class OutboxPage(QWidget):
    def __init__(self, engine: Engine, composer: Composer, when: Callable[[str], str],
                 say: Callable[[str], None]) -> None:
        super().__init__()
        self.engine = engine
        self.composer = composer
        self.when = when
        self.say = say
        self.last_compose: ComposeDialog | None = None
        self.table = RecordTable(("", "Status", "Type", "Created", "From", "To", "Subject", "Deliver after", "Reason"))
        layout = QVBoxLayout(self)
        finder = QHBoxLayout()
        self.by_day = QCheckBox("Only the day")
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.show_deleted = QCheckBox("Deleted items")
        self.show_deleted.setToolTip("Show the items deleted from the outbox, to restore one")
        for w in (QLabel("Find by date:"), self.by_day, self.day):
            finder.addWidget(w)
        finder.addStretch(1)
        finder.addWidget(self.show_deleted)
        layout.addLayout(finder)
        row = QHBoxLayout()
        for label, slot in (("Open Draft...", self.open_selected_draft), ("Forward...", self.forward_selected),
                            ("Info", self.info_selected), ("Print...", self.print_selected),
                            ("Reset Failed", self.reset_failed), ("Delete", self.delete_selected),
                            ("Restore", self.restore_selected)):
            b = QPushButton(label)
            b.clicked.connect(no_checked(slot))
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.by_day.toggled.connect(self.refresh)
        self.show_deleted.toggled.connect(self.refresh)
        self.day.dateChanged.connect(lambda _d: self.by_day.isChecked() and self.refresh())
        self.table.doubleClicked.connect(lambda _i: self.open_selected_draft())

    def wanted(self) -> Callable[[dict[str, Any]], bool]:
        """Not deleted (or only the deleted, when asked); and, when a day is chosen, created on
        that day (the practice's day)."""
        deleted = self.show_deleted.isChecked()
        if not self.by_day.isChecked():
            return lambda r: (r["status"] == "deleted") == deleted
        day = self.day.date().toString("yyyy-MM-dd")
        return lambda r: (r["status"] == "deleted") == deleted and self.when(r["created"]).startswith(day)

    def refresh(self) -> None:
        rows = []
        for r in self.engine.outbox.items.iter_newest(self.wanted()):
            rows.append(r)
            if len(rows) >= ROWS:
                break
        self.table.fill([(r[RID], ("⚠" if r["status"] == "failed" else "", r["status"],
                                   r.get("kind", "email").replace("_", " "), self.when(r["created"]), r.get("from", ""),
                                   ", ".join(r["to"]), r["subject"], self.when(r.get("deliver_after")),
                                   r.get("last_error", ""))) for r in rows],
                        [f"{r.get('last_error', '')}\n{r.get('last_hint', '')}".strip() for r in rows])

    def _selected(self) -> int | None:
        ids = self.table.selected_ids()
        return ids[0] if ids else None

    # -- drafts ---------------------------------------------------------------------------
    def open_selected_draft(self) -> ComposeDialog | None:
        rid = self._selected()
        if rid is None:
            return None
        if self.engine.outbox.get(rid)["status"] != "draft":
            self.say("Only drafts open in the compose window; Info shows the others.")
            return None
        return self.open_draft(rid)

    def open_draft(self, rid: int) -> ComposeDialog:
        dialog = ComposeDialog(self.composer, None, self.window(), draft_id=rid)
        dialog.accepted.connect(self.refresh)
        dialog.show()
        self.last_compose = dialog
        return dialog

    # -- forward, info, print, delete, reset ------------------------------------------------
    def forward_selected(self) -> None:
        rid = self._selected()
        to = ask_forward_address(self) if rid is not None else None
        if to:
            self.forward(rid, to)

    def forward(self, rid: int, to: str) -> int | None:
        """Refused in plain words when the rules say no (a patient outside the family)."""
        try:
            queued = self.composer.forward_sent(rid, to, datetime.now(timezone.utc))
        except PracticeMailError as exc:
            self.say(f"Not forwarded: {exc.message}. {exc.hint}")
            return None
        self.refresh()
        return queued

    def info_selected(self) -> QMessageBox | None:
        rid = self._selected()
        return self.show_info(rid) if rid is not None else None

    def show_info(self, rid: int) -> QMessageBox:
        """The item's history: created, edited, queued, each attempt and its answer, sent."""
        item = self.engine.outbox.get(rid)
        lines = []
        for h in item.get("history", []):
            extra = h.get("to") or h.get("error") or ""
            lines.append(f"{self.when(h['at'])}  {h['event']}" + (f" - {plain.shown(extra)}" if extra else ""))
        head = [plain.shown(item["subject"]), f"To {plain.shown(', '.join(item['to']))}",
                f"Status: {item['status']}, attempts: {item['attempts']}"]
        if item.get("last_error"):
            head.append(f"Last answer: {plain.shown(item['last_error'])}\n{item.get('last_hint', '')}")
        box = plain.box(QMessageBox.Icon.Information, "Outbox item", "\n".join(head) + "\n\n" + "\n".join(lines),
                        self)
        box.show()
        return box

    def document(self, rid: int) -> QTextDocument:
        item = self.engine.outbox.get(rid)
        text = incoming.content(self.engine.outbox.blob(item)).text if item.get("blob") else ""
        return printing.document([("To", ", ".join(item["to"])), ("Cc", ", ".join(item.get("cc", []))),
                                  ("Subject", item["subject"]), ("Created", self.when(item["created"])),
                                  ("Status", item["status"])], text)

    def print_selected(self) -> bool:
        rid = self._selected()
        return rid is not None and printing.print_with_dialog(self.document(rid), self)

    def delete_selected(self) -> None:
        self._apply_selected(Event.DELETE)

    def restore_selected(self) -> None:
        """A deleted item goes back to the state it was deleted from (a draft stays a draft)."""
        self._apply_selected(Event.RESTORE)

    def _apply_selected(self, event: Event) -> None:
        now = datetime.now(timezone.utc)
        for rid in self.table.selected_ids():
            try:
                self.engine.outbox.apply(rid, event, now)
            except PracticeMailError as exc:
                self.say(f"{exc.message}. {exc.hint}")
        self.refresh()

    def reset_failed(self) -> None:
        self.engine.outbox.reset_failed([], datetime.now(timezone.utc))
        self.refresh()
