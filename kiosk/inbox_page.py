"""The Inbox tab: the list with its filters (untagged by default, all, a filing tag, custom tags; actioned
on request), the reading pane, and what reception does with a message: reply, forward, file to a patient
or specialist, tag (buttons or right-click), read/unread, actioned, info, delete; the Deleted tab's list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QSplitter, QWidget

from engine.errors import PracticeMailError
from engine.service.app import RID, App, InboxMessage, allowed
from kiosk import plain
from kiosk.forward_compose import ForwardDialog
from kiosk.icons import speech_bubble
from kiosk.inbox_tags import TagDesk
from kiosk.inbox_text import TextWalk
from kiosk.jobs import Change, Jobs, Pending, Refresher, cell, gone, show_now
from kiosk.file_to import FileTo
from kiosk.message_view import MessageView
from kiosk.people import one_of
from kiosk.reply import ReplyDialog
from kiosk.tables import ROWS, RecordTable
from kiosk.widgets import forward_confirmed, with_buttons

SMS_MARK = "SMS"  # a text-message reply's own mark, beside "new"
FIRST = 60  # rows a filter or a search shows at once; the rest (to ROWS) follow from the jobs thread (#19)


def mark(message: InboxMessage) -> str:
    """The first column: new or not, a text reply (tagged SMS) marked as one, and whether
    reception has replied to it or forwarded it (from its timeline, #19 item 8)."""
    words = [SMS_MARK] if "SMS" in message.tags else []
    done = {str(e.get("event", "")) for e in message.timeline}
    return " ".join([*words, *([] if message.read else ["new"]),
                     *(w for w in ("replied", "forwarded") if w in done)])


def read_mark(read: bool) -> Change:
    """The first column's change when a message is marked read or unread: only its "new" word,
    its SMS, replied and forwarded marks kept."""
    def change(values: list[str]) -> list[str]:
        words = [w for w in values[0].split() if w != "new"]
        sms = [w for w in words if w == SMS_MARK]
        values[0] = " ".join([*sms, *([] if read else ["new"]), *(w for w in words if w != SMS_MARK)])
        return values
    return change


class InboxPage(TagDesk, QSplitter):
    def __init__(self, app: App, role: Callable[[], str], when: Callable[[str], str], say: Callable[[str], None],
                 sent: Callable[[], None], jobs: Jobs | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.app = app
        self.jobs = jobs if jobs is not None else Jobs(self)  # clicks' commands and refresh reads
        self.refresher = Refresher(self.jobs, self._read, self._refilled,
                                   lambda exc: self.say(f"Inbox not read: {exc}"))
        self.deleted_read = False  # the Deleted tab read on the jobs thread only (it reads every message, #19)
        self.deleted_reads = Refresher(self.jobs, lambda: self._read_deleted, lambda rows: self.deleted.fill(
            self.pending_deleted.over(rows, [])[0]), lambda exc: self.say(f"Deleted messages not read: {exc}"))
        self.pending, self.pending_deleted = Pending(), Pending()
        self.messages: dict[int, InboxMessage] = {}  # what the list shows, by id (opening reads no store)
        self.inbox, self.composer = app.inbox, app.composer
        self.text = TextWalk(app, self.jobs, self._shape, lambda: self._fill(self.header))
        self.header: tuple[Any, ...] = ([], [], {})  # the fast search's (or the filter's) rows, as last read
        self.when, self.say = when, say
        self.short: Callable[[str | None], str] = when  # the window gives its 'Today 08:14'
        self.sent = sent  # something was queued (a reply, a forward): the outbox should show it
        self.table = RecordTable(("", "Received", "From", "Subject", "Patient", "Specialist", "Tags"))
        # a text reply's own icon before its mark
        self.table.model_.icon = lambda first: speech_bubble() if first.startswith(SMS_MARK) else None
        self.deleted = RecordTable(("Received", "From", "Subject"))
        self.deleted_tab = with_buttons(self.deleted, [("Restore", self.restore_selected)], keys={"Restore": "Ctrl+Shift+Z"})
        inbox_box = with_buttons(self.table, [("Reply...", self.reply_selected), ("Forward...", self.forward_selected),
                                              ("File...", self.file_selected), ("Select All", self.table.selectAll),
                                              ("Mark read", lambda: self.mark_selected_read(True)),
                                              ("Mark unread", lambda: self.mark_selected_read(False)),
                                              ("Actioned", self.action_selected), ("Tags...", self.tag_selected),
                                              ("Info", self.info_selected), ("Delete", self.delete_selected)],
                                 keys={"Reply...": "Ctrl+R", "Forward...": "Ctrl+Shift+F", "File...": "Ctrl+G",
                                       "Select All": "Ctrl+Shift+A", "Mark read": "Ctrl+M", "Mark unread": "Ctrl+U",
                                       "Actioned": "Ctrl+K", "Tags...": "Ctrl+T", "Info": "Ctrl+I", "Delete": "Del"})
        self.role = role
        self.message_view = MessageView(app.inbox.content, role, when)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.on_selection())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(lambda pos: self.menu().popup(
            self.table.viewport().mapToGlobal(pos)))
        inbox_box.layout().insertLayout(0, self._filters())
        self.addWidget(inbox_box)
        self.addWidget(self.message_view)
        self.setSizes([380, 320])
        # the keys are the buttons' own (widgets.keyed): a QShortcut for the same key beside them
        # would make it ambiguous and neither would fire

    def _filters(self) -> QHBoxLayout:
        """The row above the list: which messages show (tags, actioned) and the search box."""
        filters = QHBoxLayout()
        self.tag_filter = QComboBox()
        for label, data in (("Untagged (new mail)", "untagged"), ("All messages", "all"), ("Patient", "Patient"),
                            ("Specialist", "Specialist"), ("Auto-reply", "Auto-reply"), ("Bounce", "Bounce"),
                            ("Calendar", "Calendar")):
            self.tag_filter.addItem(label, data)
        self.custom_tags = QLineEdit(placeholderText="custom: tags, all of them")
        self.show_actioned = QCheckBox("Show actioned")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: sender, subject, date (Enter)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Every word is looked for in the sender, the subject and the day received "
                               "(30/11/2026); all messages are searched, whatever the filter")
        self.search.setMinimumWidth(260)
        for w in (QLabel("Show:"), self.tag_filter, self.custom_tags, self.show_actioned):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.search)
        self.text.widgets(filters)
        for chosen in (self.tag_filter.currentIndexChanged, self.custom_tags.editingFinished,
                       self.show_actioned.toggled, self.search.editingFinished, self.text.tick.toggled):
            chosen.connect(lambda *_: self.refresh())
        self.search.textChanged.connect(lambda text: text or self.refresh())  # cleared: the filter again
        return filters

    def view(self) -> dict[str, Any]:
        """The filter as the inbox understands it (default: untagged, not actioned)."""
        choice = self.tag_filter.currentData()
        if self.search.text().strip():
            return {"show_all": True, "search": self.search.text()}
        custom = [t.strip() for t in self.custom_tags.text().split(",") if t.strip()]
        if custom:
            return {"tags": custom, "include_actioned": self.show_actioned.isChecked()}
        if choice == "all":
            return {"any_tags": True, "include_actioned": self.show_actioned.isChecked()}
        if choice == "untagged":
            return {"include_actioned": self.show_actioned.isChecked()}
        return {"tags": [choice], "include_actioned": self.show_actioned.isChecked()}

    def refresh(self) -> None:
        """The first rows now (a filter just chosen), all from the jobs thread next; engine events: refresh_later."""
        view = self.view()
        self.text.follow(self.search.text(), {k: v for k, v in view.items() if k != "search"})
        self._fill(self._rows(view, FIRST))
        self.refresher.request()
        if not self.deleted_read:  # once here (the filter is not the Deleted tab's), then after each change
            self.deleted_read = True
            self.deleted_reads.request()

    def refresh_later(self) -> None:
        """Read on the jobs thread, filled here when read (after a pass, on new mail, after a command)."""
        self.refresher.request()
        self.deleted_reads.request()

    def _read(self) -> Callable[[], Any]:
        """The filters as they are now, on the GUI thread; the text search's finds are read again too."""
        return lambda view=self.view(), ids=self.text.ids(): (self._rows(view), ids, self.text.reread(ids))

    def _refilled(self, answer: tuple[Any, ...]) -> None:
        header, ids, found = answer
        if ids:
            self.text.renew(ids, found)
        self._fill(header)

    def _rows(self, view: dict[str, Any], limit: int = ROWS) -> tuple[Any, ...]:
        """The rows as text, ready to fill; safe off the GUI thread (store reads and `when` only)."""
        return self._shape(self.app.inbox_messages(limit=limit, **view))

    def _shape(self, rows: list[InboxMessage]) -> tuple[Any, ...]:
        """Messages as the list's rows, tooltips and records by id (safe off the GUI thread)."""
        d = self.app.directory
        patients = d.names("patients", [r.patient_id for r in rows])
        asked = d.people("patients", [c for r in rows for c in r.candidates])
        specialists = d.names("specialists", [r.specialist_id for r in rows])
        shown = [(r.id, [mark(r), self.short(r.received), r.sender_name or r.sender,
                         r.subject, self._patient_cell(r, patients, asked),
                         specialists.get(r.specialist_id, r.specialist_id), ", ".join(r.tags)])
                 for r in rows]
        return shown, [self._tip(r) for r in rows], {r.id: r for r in rows}

    def _read_deleted(self) -> list[tuple[int, list[str]]]:  # jobs thread; then the search index, all being read
        gone = self.app.inbox_messages(deleted=True, limit=ROWS)
        self.inbox.warm_search()
        return [(r.id, [self.when(r.received), r.sender, r.subject]) for r in gone]

    def _fill(self, result: tuple[Any, ...]) -> None:
        self.header = result
        shown, tips, messages = self.text.merged(result)
        self.messages = messages
        self.table.fill(*self.pending.over(shown, tips))
        self.on_selection()

    def command(self, rids: list[int], change: Change, fn: Callable[[int], Any], what: str,
                done: Callable[[int], None] | None = None, refresh: bool = True, deleted: bool = False) -> None:
        """A click's command on each message, on the jobs thread in the order clicked; its effect
        shown at once, taken back (and said) if the store refused it."""
        table, pending = (self.deleted, self.pending_deleted) if deleted else (self.table, self.pending)
        for rid in rids:
            token = pending.add(rid, change)
            show_now(table, rid, change)

            def ok(_result: Any, rid: int = rid, token: int = token) -> None:
                pending.drop(rid, token)
                if done is not None:
                    done(rid)
                if refresh:
                    self.refresh_later()

            def failed(exc: Exception, rid: int = rid, token: int = token) -> None:
                pending.drop(rid, token)
                self.say(f"Could not {what}: {getattr(exc, 'message', None) or exc}")
                self.refresh_later()  # the row as the store has it

            self.jobs.run(lambda rid=rid: fn(rid), ok, failed)

    @staticmethod
    def _patient_cell(r: InboxMessage, names: dict[str, str], asked: dict[str, dict[str, Any]]) -> str:
        """The patient by name; several who share the address as 'Priya, Arjun or Dev Patel?'."""
        if r.patient_id:
            return names.get(r.patient_id, r.patient_id)
        if r.candidates:
            return one_of([asked.get(c) or {"first_name": c} for c in r.candidates])
        return ""

    @staticmethod
    def _tip(r: InboxMessage) -> str:
        """Why it was filed as it was, and the codes support may ask for."""
        codes = [x for x in (r.patient_id, r.specialist_id) if x] or list(r.candidates)
        return "\n".join(x for x in (r.filing_reason, ("Codes: " + ", ".join(codes)) if codes else "") if x)

    def on_selection(self) -> None:
        """The message view follows the selection; opening a message marks it read."""
        ids = self.table.selected_ids()
        shown = self.message_view.record
        if len(ids) != 1:
            if shown is not None:
                self.message_view.show_record(None)
            return
        if shown is not None and shown[RID] == ids[0]:
            return
        message = self.messages.get(ids[0]) or self.app.inbox_message(ids[0])
        if not message.read:
            self.messages[message.id] = replace(message, read=True)  # opened again: not marked twice
            self.command([ids[0]], read_mark(True), lambda rid: self.app.mark_read(rid), "mark it read",
                         refresh=False)
        self.message_view.show_record({**message.record(), RID: message.id})

    def file_selected(self) -> FileTo | None:
        """File... : the address's family first, any patient found as typed, or a specialist (a
        modal window, shown without blocking: the list keeps drawing)."""
        ids = self.table.selected_ids()
        if not ids:
            return None
        rid = ids[0]
        msg = self.messages.get(rid) or self.app.inbox_message(rid)
        dialog = FileTo(self.app, msg.subject, list(msg.candidates), self)
        dialog.accepted.connect(lambda: self.file_message(rid, *dialog.chosen()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setModal(True)
        dialog.show()
        return dialog

    def file_message(self, rid: int, patient_id: str = "", specialist_id: str = "") -> None:
        """Filed, and said so in the status bar (the message leaves the view it was in)."""
        d = self.app.directory
        who = d.names("patients", [patient_id]).get(patient_id, patient_id) if patient_id \
            else "specialist " + d.names("specialists", [specialist_id]).get(specialist_id, specialist_id)
        subject = self.messages[rid].subject if rid in self.messages else ""
        self.command([rid], cell(4, who if patient_id else ""),
                     lambda r: self.app.file_message(r, patient_id=patient_id, specialist_id=specialist_id),
                     "file it", done=lambda _r: self.say(f"Filed \"{subject}\" to {who}."))

    def reply_selected(self) -> ReplyDialog | None:
        ids = self.table.selected_ids()
        return self.open_reply(ids[0]) if ids else None

    def open_reply(self, rid: int) -> ReplyDialog:
        msg = self.inbox.get(rid)
        original = self._original(rid)
        dialog = ReplyDialog(msg, original, lambda text, signature: self._reply(rid, text, signature),
                             bool(self.app.settings.get("signature.template")), self)
        dialog.accepted.connect(self.sent)
        dialog.accepted.connect(self.refresh_later)  # its "replied" mark
        dialog.accepted.connect(lambda: self.say(f"Reply to \"{msg['subject']}\" is in the outbox."))
        dialog.show()
        return dialog

    def _reply(self, rid: int, text: str, signature: bool) -> int:
        return self.app.reply(rid, text, signature=signature)

    def forward_selected(self) -> ForwardDialog | None:
        """The forward window: To, an editable "Fwd:" subject and the original quoted, editable."""
        ids = self.table.selected_ids()
        if not ids:
            return None
        rid = ids[0]
        msg = self.inbox.get(rid)
        dialog = ForwardDialog(msg, self._original(rid),
                               lambda to, subject, text: self._forward(rid, to, subject, text, dialog), self)
        dialog.accepted.connect(self.sent)
        dialog.accepted.connect(self.refresh_later)  # its "forwarded" mark
        dialog.accepted.connect(lambda: self.say(f"Forward of \"{msg['subject']}\" is in the outbox."))
        dialog.show()
        return dialog

    def _original(self, rid: int) -> str:
        """The message's text as the reading pane shows it (an HTML-only message: its text)."""
        shown = self.message_view
        return shown.plain_text() if shown.record is not None and shown.record[RID] == rid and shown.content \
            else self.inbox.content(rid).text

    def _forward(self, rid: int, to: str, subject: str, text: str, parent: QWidget) -> int:
        """Through the gate; an outside address asked about, naming the patient. Refusals raised."""
        return forward_confirmed(
            parent, lambda confirmed: self.app.forward(rid, to, confirmed_outside=confirmed, subject=subject,
                                                       text=text),
            lambda: self.composer.forward_patients(message_id=rid), to)

    def forward(self, rid: int, to: str) -> int | None:
        """Forwarded as it came (no window); refused in plain words when the rules say no."""
        try:
            queued = self._forward(rid, to, "", "", self)
        except PracticeMailError as exc:
            self.say(f"Not forwarded: {exc.message}. {exc.hint}")
            return None
        self.sent()
        self.refresh_later()  # its "forwarded" mark
        return queued

    def action_selected(self) -> None:
        view = self.view()
        stays = view.get("include_actioned") or view.get("show_all")
        self.command(self.table.selected_ids(), cell(0, "") if stays else gone,
                     lambda rid: self.app.set_actioned(rid, True), "mark it actioned")

    def delete_selected(self) -> None:
        """Deleted; the message that took the first one's place is selected, to read or delete next."""
        if not allowed(self.role(), "delete"):  # the button is greyed out too; the Delete key and menu ask here
            self.say("Your group may not delete messages.")
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        self.command(self.table.selected_ids(), gone, lambda rid: self.app.delete_message(rid), "delete it")
        left = self.table.model_.rowCount()
        if rows and left:
            self.table.selectRow(min(rows[0], left - 1))
        if rows:
            self.say(f"{len(rows)} message{'s' if len(rows) != 1 else ''} deleted (the Deleted tab can restore).")

    def info_selected(self) -> QMessageBox | None:
        ids = self.table.selected_ids()
        if not ids:
            return None
        return self.show_info(ids[0])

    def show_info(self, rid: int) -> QMessageBox:
        """The message's timeline: received, filed, read, replied, actioned."""
        msg = self.inbox.get(rid)
        lines = [f"{self.when(e['at'])}  {e['event']}" + (f" - {plain.shown(e['detail'])}" if e.get("detail") else "")
                 for e in msg.get("timeline", [])]
        sender = plain.shown(f"{msg.get('from_name', '')} <{msg['from']}>" if msg["from"] else "(unknown sender)")
        box = plain.box(QMessageBox.Icon.Information, "Message info",
                        f"{plain.shown(msg['subject'])}\nFrom {sender}\n\n" + "\n".join(lines), self)
        box.show()
        return box

    def restore_selected(self) -> None:
        """Deleted messages go back to the inbox, with their tags and filing as they were."""
        self.command(self.deleted.selected_ids(), gone, lambda rid: self.app.restore_message(rid), "restore it",
                     deleted=True)

    def mark_selected_read(self, read: bool = True) -> None:
        for rid in self.table.selected_ids():
            if rid in self.messages:  # opened again later, it is marked read again
                self.messages[rid] = replace(self.messages[rid], read=read)
        self.command(self.table.selected_ids(), read_mark(read),
                     lambda rid: self.app.mark_read(rid, read), "mark it read" if read else "mark it unread",
                     refresh=False)
