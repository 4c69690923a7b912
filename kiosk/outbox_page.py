"""The Outbox tab: what is waiting, sent, failed (with the server's reason) or drafted; find
by date, open a draft in the compose window, forward, the item's history, print, delete,
reset what failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PyQt6.QtCore import QDate
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import (QCheckBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                             QMessageBox, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from engine.core import incoming
from engine.core.outbox import Event, State
from engine.errors import PracticeMailError
from engine.service.app import App, OutboxItem
from kiosk import plain, printing
from kiosk.compose import ComposeDialog
from kiosk.compose_fields import Naming
from kiosk.jobs import Jobs, Pending, Refresher, gone, show_now
from kiosk.tables import ROWS, RecordTable
from kiosk.forward_compose import ForwardDialog
from kiosk.widgets import forward_confirmed, keyed, keyed_box, no_checked



FAILED = ("failed", "link_failed")
KINDS = ("email", "confirmation", "cancellation", "welcome", "support", "reply", "forward", "sms", "reminder", "recall")


LATER = "\U0001F552 "  # a clock: the item waits for its deliver-after time (a staggered recall, a reminder)


def later(item: OutboxItem, now: datetime) -> str:
    """The clock before a ready item's deliver-after time while that time is still to come."""
    when = item.get("deliver_after")
    return LATER if item.status == "ready" and when and datetime.fromisoformat(when) > now else ""


def type_text(kind: str) -> str:
    """The Type column: SMS or Email first (one outbox holds both), then what the email is for."""
    if kind == "sms":
        return "SMS"
    return "Email" if kind == "email" else f"Email: {kind.replace('_', ' ')}"


def status_text(status: str) -> str:
    """'link_failed' as 'link failed': words, not identifiers."""
    return status.replace("_", " ")


TIPS = {"Open...": "A draft opens to edit and send; anything else opens to read",
        "Category...": "The email's category and description in the patient's contact history",
        "Reset Failed": "Try the selected failed items again at the next Send/Receive"}


class OutboxPage(QWidget):
    def __init__(self, app: App, when: Callable[[str], str], say: Callable[[str], None],
                 jobs: Jobs | None = None) -> None:
        super().__init__()
        self.app = app
        self.jobs = jobs if jobs is not None else Jobs(self)  # clicks' commands and refresh reads
        self.refresher = Refresher(self.jobs, self._read, self._fill, lambda exc: self.say(f"Outbox not read: {exc}"))
        self.pending = Pending()
        self.outbox = app.outbox
        self.composer = app.composer
        self.when = when
        self.short: Callable[[str | None], str] = when  # the window gives its 'Today 08:14'
        self.say = say
        # set by the main window: open compose for (patient id or None) with the PDF attached
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        self.last_compose: ComposeDialog | None = None
        self.last_read: QDialog | None = None
        self.last_forward: ForwardDialog | None = None
        # no From column: it is always the practice
        self.table = RecordTable(("", "Status", "Type", "Created", "To", "Subject", "Deliver after", "Reason"),
                                 {1: [*(status_text(s.value) for s in State), "draft (held)"], 2: [type_text(k) for k in KINDS]})
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
        self.buttons: dict[str, QPushButton] = {}
        for label, slot, key in (("Open...", self.open_selected, "Ctrl+O"),
                                 ("Forward...", self.forward_selected, "Ctrl+Shift+F"),
                                 ("Info", self.info_selected, "Ctrl+I"), ("Category...", self.describe_selected, "Ctrl+Shift+C"),
                                 ("Print...", self.print_selected, "Ctrl+P"),
                                 ("Email as PDF...", self.email_selected_as_pdf, "Ctrl+Shift+E"),
                                 ("Reset Failed", self.reset_failed, "Ctrl+Shift+R"), ("Delete", self.delete_selected, "Del"),
                                 ("Restore", self.restore_selected, "Ctrl+Shift+Z")):
            b = QPushButton(label)
            b.clicked.connect(no_checked(slot))
            row.addWidget(b)
            self.buttons[label] = b
            b.setToolTip(TIPS.get(label, ""))
            keyed(b, key)  # after the tooltip: the key is added to it
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.by_day.toggled.connect(self.refresh)
        self.show_deleted.toggled.connect(self.refresh)
        self.day.dateChanged.connect(lambda _d: self.by_day.isChecked() and self.refresh())
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.on_selection())
        self.on_selection()

    def wanted(self) -> Callable[[OutboxItem], bool]:
        """Not deleted (or only the deleted, when asked); and, when a day is chosen, created on
        that day (the practice's day)."""
        deleted = self.show_deleted.isChecked()
        if not self.by_day.isChecked():
            return lambda r: (r.status == "deleted") == deleted
        day = self.day.date().toString("yyyy-MM-dd")
        return lambda r: (r.status == "deleted") == deleted and self.when(r.created).startswith(day)

    def refresh(self) -> None:
        """Read and shown now (a filter reception just chose); engine events use refresh_later."""
        self._fill(self._rows(self.wanted()))

    def refresh_later(self) -> None:
        """Read on the jobs thread, filled here when read (after a pass, a send, a command)."""
        self.refresher.request()

    def _read(self) -> Callable[[], Any]:
        wanted = self.wanted()  # the filters as they are now, on the GUI thread
        return lambda: self._rows(wanted)

    def _rows(self, wanted: Callable[[OutboxItem], bool]) -> tuple[list[Any], list[str]]:
        """The rows as text; safe off the GUI thread (store reads and `when` only)."""
        rows = self.app.outbox_items(wanted, limit=ROWS)
        now = self.app.now()
        why = [r.reason or self.app.waiting_words(r) for r in rows]  # elided in a narrow window: the tooltip has it
        return ([(r.id, ["⚠" if r.status in (*FAILED, "bounced") or r.held else "",
                         status_text(r.status) + (" (held)" if r.held and r.status == "draft" else ""),
                         type_text(r.kind), self.short(r.created), ", ".join(r.to), r.subject,
                         later(r, now) + self.short(r["deliver_after"]), reason])
                 for r, reason in zip(rows, why)],
                [f"{r.last_error}\n{r.last_hint}".strip() or reason for r, reason in zip(rows, why)])

    def _fill(self, result: tuple[list[Any], list[str]]) -> None:
        self.table.fill(*self.pending.over(*result))
        self.on_selection()

    def on_selection(self) -> None:
        """Reset Failed only when a failed item is selected: it resets those, not every failure."""
        self.buttons["Reset Failed"].setEnabled(bool(self._failed_selected()))

    def _failed_selected(self) -> list[int]:
        """By the Status cell shown (a selection change reads no store)."""
        failed = {status_text(s) for s in FAILED}
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.table.id_at(n) for n in rows if self.table.model_.text(n, 1) in failed]

    def _selected(self) -> int | None:
        ids = self.table.selected_ids()
        return ids[0] if ids else None

    # -- drafts and reading --------------------------------------------------------------
    def open_selected(self) -> QDialog | None:
        """A draft opens in the compose window; anything else (sent, waiting, failed) to read."""
        rid = self._selected()
        if rid is None:
            return None
        if self.outbox.get(rid)["status"] != "draft":
            return self.read(rid)
        return self.open_draft(rid)

    open_selected_draft = open_selected

    def read(self, rid: int) -> QDialog:
        """The item as it went (or will go): who to, the subject, the words; read-only."""
        item = self.outbox.get(rid)
        text = incoming.content(self.outbox.blob(item)).text if item.get("blob") else ""
        dialog = QDialog(self.window())
        dialog.setWindowTitle("Outbox item")
        layout = QVBoxLayout(dialog)
        head = [f"To: {', '.join(item['to'])}"] + ([f"Cc: {', '.join(item['cc'])}"] if item.get("cc") else []) \
            + [f"Subject: {item['subject']}", f"Created: {self.when(item['created'])}",
               f"Status: {status_text(item['status'])}"]
        layout.addWidget(plain.label("\n".join(head), wrap=True))
        dialog.body = QPlainTextEdit(text)  # type: ignore[attr-defined] - plain text by nature
        dialog.body.setReadOnly(True)  # type: ignore[attr-defined]
        layout.addWidget(dialog.body)  # type: ignore[attr-defined]
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.reject)
        layout.addWidget(keyed_box(close))
        dialog.resize(640, 480)
        dialog.show()
        self.last_read = dialog
        return dialog

    def open_draft(self, rid: int) -> ComposeDialog:
        dialog = ComposeDialog(self.app, None, self.window(), draft_id=rid)
        dialog.accepted.connect(self.refresh)
        dialog.show()
        self.last_compose = dialog
        return dialog

    # -- forward, info, print, delete, reset ------------------------------------------------
    def forward_selected(self) -> ForwardDialog | None:
        """The inbox's forward window for the item: To, an editable "Fwd:" subject, the item's
        words quoted and editable; the item goes attached as it went, its files with it."""
        rid = self._selected()
        if rid is None:
            return None
        item = self.outbox.get(rid)
        if item.get("kind") == "sms" or not item.get("blob"):
            self.say("Not forwarded: a text message is not forwarded by email." if item.get("kind") == "sms" else
                     "Not forwarded: this item has no message yet. Wait until it is ready, then forward.")
            return None
        content = incoming.content(self.outbox.blob(item))
        shown = {"from": item["from"], "from_name": self.app.settings.get("practice.name"), "to": item["to"],
                 "date": self.when(item.get("sent_at") or item["created"]), "subject": item["subject"]}
        dialog = ForwardDialog(shown, content.text, lambda to, subject, text: self._forward(rid, to, subject, text,
                                                                                            dialog),
                               self.window(), files=[a.filename for a in content.attachments])
        dialog.accepted.connect(self.refresh)
        dialog.accepted.connect(lambda: self.say(f"Forward of \"{item['subject']}\" is in the outbox."))
        dialog.show()
        self.last_forward = dialog
        return dialog

    def _forward(self, rid: int, to: str, subject: str, text: str, parent: QWidget) -> int:
        """Through the gate; an outside address asked about, naming the patient. Refusals raised."""
        return forward_confirmed(
            parent, lambda confirmed: self.app.forward_sent(rid, to, confirmed_outside=confirmed, subject=subject,
                                                            text=text),
            lambda: self.composer.forward_patients(item_id=rid), to)

    def forward(self, rid: int, to: str) -> int | None:
        """Forwarded as it went (no window); refused in plain words when the rules say no."""
        try:
            queued = self._forward(rid, to, "", "", self)
        except PracticeMailError as exc:
            self.say(f"Not forwarded: {exc.message}. {exc.hint}")
            return None
        self.refresh()
        return queued

    def describe_selected(self) -> QDialog | None:
        """The selected email's category and description, changed for this email only."""
        rid = self._selected()
        if rid is None:
            return None
        item = self.app.outbox_item(rid)
        dialog = QDialog(self.window())
        dialog.setWindowTitle("Category and description")
        form = QFormLayout(dialog)
        form.addRow(plain.label(plain.shown(item.subject), wrap=True))
        dialog.naming = naming = Naming(form, self.app.categories(), {})  # type: ignore[attr-defined]
        naming.show(item.record.get("category") or "", item.record.get("description") or "")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(lambda: self._describe(dialog, rid, *naming.values()))
        buttons.rejected.connect(dialog.reject)
        form.addRow(keyed_box(buttons))
        dialog.show()
        self.last_read = dialog
        return dialog

    def _describe(self, dialog: QDialog, rid: int, category: str, description: str) -> None:
        try:
            self.app.describe_email(rid, category, description)
        except PracticeMailError as exc:
            self.say(f"Not changed: {exc.message}. {exc.hint}")
            return
        dialog.accept()
        self.refresh()

    def info_selected(self) -> QMessageBox | None:
        rid = self._selected()
        return self.show_info(rid) if rid is not None else None

    def show_info(self, rid: int) -> QMessageBox:
        """The item's history: created, edited, queued, each attempt and its answer, sent."""
        item = self.outbox.get(rid)
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
        item = self.outbox.get(rid)
        text = incoming.content(self.outbox.blob(item)).text if item.get("blob") else ""
        return printing.document([("To", ", ".join(item["to"])), ("Cc", ", ".join(item.get("cc", []))),
                                  ("Subject", item["subject"]), ("Created", self.when(item["created"])),
                                  ("Status", item["status"])], text)

    def print_selected(self) -> bool:
        rid = self._selected()
        return rid is not None and printing.print_with_dialog(self.document(rid), self)

    def email_selected_as_pdf(self) -> Any:
        """The printed item as a PDF in a compose window, to the patient it was for."""
        rid = self._selected()
        if rid is None:
            return None
        item = self.outbox.get(rid)
        return self.on_email_pdf(item.get("patient_id") or None, printing.pdf_attachment(self.document(rid),
                                                                                          "outbox-item.pdf"))

    may_delete = True  # the signed-in group's "delete" permission (kiosk/roles_desk.py)

    def delete_selected(self) -> None:
        if not self.may_delete:
            self.say("Your group may not delete outbox items.")
            return
        self._apply_selected(Event.DELETE)

    def restore_selected(self) -> None:
        """A deleted item goes back to the state it was deleted from (a draft stays a draft)."""
        self._apply_selected(Event.RESTORE)

    def _apply_selected(self, event: Event) -> None:
        """Deleted or restored; the item that took the first one's place is selected next."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        chosen = self.table.selected_ids()
        self.command(chosen, gone, lambda: [self._apply(rid, event) for rid in chosen],
                     lambda done: self.say(f"{len(done)} item{'s' if len(done) != 1 else ''} "
                                           f"{'deleted' if event == Event.DELETE else 'restored'}."))
        left = self.table.model_.rowCount()
        if rows and left and not self.table.selected_ids():
            self.table.selectRow(min(rows[0], left - 1))

    def _apply(self, rid: int, event: Event) -> int:
        self.app.apply_to_outbox(rid, event)
        return rid

    def command(self, rids: list[int], change: Any, fn: Callable[[], Any], said: Callable[[Any], None]) -> None:
        """A click's command on the jobs thread (in the order clicked), its effect shown at once;
        when the store refuses it, the rows come back as the store has them and the bar says why."""
        tokens = [(rid, self.pending.add(rid, change)) for rid in rids]
        for rid in rids:
            show_now(self.table, rid, change)

        def settle() -> None:
            for rid, token in tokens:
                self.pending.drop(rid, token)
            self.refresh_later()

        def ok(result: Any) -> None:
            settle()
            said(result)

        def failed(exc: Exception) -> None:
            settle()
            self.say(f"Not done: {exc.message}. {exc.hint}" if isinstance(exc, PracticeMailError) else f"Not done: {exc}")

        self.jobs.run(fn, ok, failed)

    def reset_failed(self) -> None:
        """The selected failed items are tried again at the next pass; nothing else is touched."""
        chosen = self._failed_selected()
        if not chosen:
            return
        self.command(chosen, lambda v: ["", status_text("ready"), *v[2:]], lambda: self.app.reset_failed(chosen),
                     lambda done: self.say(f"{len(done)} failed item{'s' if len(done) != 1 else ''} will be tried "
                                           "again at the next Send/Receive."))
