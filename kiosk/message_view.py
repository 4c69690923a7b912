"""The selected inbox message: who and when, the text, the attachments.

Plain text by default, for everyone. The formatted (HTML) version only for roles
allowed it, and only after engine/core/html_safety has removed scripts, styles and
everything remote; the browser widget is also told to load nothing at all, so a
tracking pixel never reaches its sender even if something slipped through. Links
are clickable only for roles allowed hyperlinks, and then only after the real
address has been shown and confirmed. The message is parsed on a worker (a 20 MB
x-ray attachment must not freeze the desk).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QDesktopServices, QTextDocument
from PyQt6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton,
                             QTextBrowser, QVBoxLayout, QWidget)

from engine.core.html_safety import SafeHtml, sanitise
from engine.core.incoming import Content
from engine.core.names import saved_name
from engine.service.app import allowed
from kiosk import plain, printing
from kiosk.bridge import run_in_background
from kiosk.tables import size_text
from kiosk.widgets import keyed


class NothingRemote(QTextBrowser):
    """A text browser that loads no resource of any kind (no images, no stylesheets)."""

    def loadResource(self, kind: int, url: QUrl) -> Any:  # noqa: N802 - Qt's name
        self.blocked.append(url.toString())
        return None

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)


class MessageView(QWidget):
    def __init__(self, load: Callable[[int], Content], role: Callable[[], str], when: Callable[[str], str]) -> None:
        super().__init__()
        self._load = load
        self._role = role
        self._when = when
        self.record: dict[str, Any] | None = None
        self.content: Content | None = None
        self.safe: SafeHtml | None = None
        self.opened_links: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.header = plain.label("Select a message to read it.", wrap=True)  # the sender's words, never markup
        layout.addWidget(self.header)
        row = QHBoxLayout()
        self.formatted = QCheckBox("Show formatted (HTML)")
        self.formatted.setEnabled(False)
        self.formatted.toggled.connect(self._render)
        row.addWidget(self.formatted)
        self.note = plain.label()
        self.note.setStyleSheet("color: #6b5b00")
        row.addWidget(self.note)
        row.addStretch(1)
        self.print_button = QPushButton("Print...")
        self.print_button.clicked.connect(self.print_with_dialog)
        self.pdf_button = QPushButton("Save as PDF...")
        self.pdf_button.clicked.connect(self.ask_pdf)
        self.email_pdf_button = QPushButton("Email as PDF...")
        self.email_pdf_button.clicked.connect(self.email_as_pdf)
        # set by the main window: open compose for (patient id or None) with the PDF attached
        self.on_email_pdf: Callable[[str | None, Any], Any] = lambda _pid, _pdf: None
        for b, key in ((self.print_button, "Ctrl+P"), (self.pdf_button, "Ctrl+Shift+P"),
                       (self.email_pdf_button, "Ctrl+Shift+E")):
            keyed(b, key)
            b.setEnabled(False)
            row.addWidget(b)
        layout.addLayout(row)
        self.body = NothingRemote()
        self.body.anchorClicked.connect(self.follow_link)
        layout.addWidget(self.body, 1)
        files = QHBoxLayout()
        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(70)
        files.addWidget(self.attachments, 1)
        self.save_button = QPushButton("Save attachment...")
        self.save_button.clicked.connect(self.ask_save_attachment)
        keyed(self.save_button, "Ctrl+Shift+T")
        files.addWidget(self.save_button)
        layout.addLayout(files)

    # -- showing ------------------------------------------------------------------------
    def show_record(self, record: dict[str, Any] | None) -> None:
        """Show a message (None: nothing selected). Its content is read on a worker."""
        self.record, self.content, self.safe = record, None, None
        self.body.clear()
        self.attachments.clear()
        self.attachments.setVisible(False)
        self.save_button.setVisible(False)
        self.note.setText("")
        for b in (self.print_button, self.pdf_button, self.email_pdf_button):
            b.setEnabled(record is not None)
        if record is None:
            self.header.setText("Select a message to read it.")
            self.formatted.setEnabled(False)
            return
        when = self._when(record.get("date") or record["received"])
        sender = f"{record.get('from_name', '')} <{record['from']}>" if record.get("from") else "(unknown sender)"
        subject = plain.shown(record["subject"])
        self.header.setText(f"From: {plain.shown(sender)}\nDate: {when}\nSubject: {subject}")
        self.body.setPlainText("Opening...")
        rid = record["_rid"]
        run_in_background(lambda: self._load(rid), lambda c: self._loaded(rid, c),
                          lambda exc: self.body.setPlainText(f"The message could not be read: {exc}"), owner=self)

    def _loaded(self, rid: int, content: Content) -> None:
        if self.record is None or self.record["_rid"] != rid:
            return  # another message was chosen meanwhile
        self.content = content
        for a in content.attachments:
            item = QListWidgetItem(f"{plain.shown(a.filename)}  ({size_text(len(a.data))})")
            self.attachments.addItem(item)
        self.save_button.setEnabled(bool(content.attachments))
        self.attachments.setVisible(bool(content.attachments))
        self.save_button.setVisible(bool(content.attachments))
        self.refresh_role()

    def refresh_role(self) -> None:
        """What the current role may see: called when the role changes, too."""
        role = self._role()
        may_html = allowed(role, "view_html") and self.content is not None and bool(self.content.html)
        self.formatted.setEnabled(may_html)
        if not may_html:
            self.formatted.setChecked(False)
        self._render()

    def _render(self) -> None:
        c = self.content
        if c is None:
            return
        self.safe = sanitise(c.html, links=allowed(self._role(), "hyperlinks")) if c.html else None
        notes = []
        if self.formatted.isChecked() and self.safe is not None:
            self.body.setHtml(self.safe.html)
        else:
            self.body.setPlainText(self.plain_text())
            if c.html and not allowed(self._role(), "view_html"):
                notes.append("This message also has a formatted version; your group sees the text.")
        if self.safe is not None and self.safe.removed_remote:
            notes.append(f"{self.safe.removed_remote} picture(s) or other remote content not loaded.")
        if c.problems:
            notes.append("Parts of this message could not be read.")
        self.note.setText(" ".join(notes))

    def plain_text(self) -> str:
        c = self.content
        if c is None:
            return ""
        if c.text.strip() or not c.html:
            return c.text
        doc = QTextDocument()  # an HTML-only message: its text, from the sanitised version
        doc.setHtml(sanitise(c.html, links=False).html)
        return doc.toPlainText()

    # -- links ----------------------------------------------------------------------------
    def follow_link(self, url: QUrl) -> bool:
        """Only roles allowed hyperlinks, and only after the real address is shown and confirmed."""
        address = url.toString()
        if not allowed(self._role(), "hyperlinks"):
            self.note.setText("Links in messages are not opened for your group.")
            return False
        if not self.confirm_link(address):
            return False
        self.opened_links.append(address)
        QDesktopServices.openUrl(url)
        return True

    def confirm_link(self, address: str) -> bool:
        return plain.ask(self, "Open link", f"This link goes to:\n\n{plain.shown(address)}\n\nOpen it?")

    # -- print and save -------------------------------------------------------------------
    def printable(self) -> QTextDocument:
        r = self.record or {}
        headers = [("From", f"{r.get('from_name', '')} <{r.get('from', '')}>"),
                   ("Date", self._when(r.get("date") or r.get("received", ""))), ("Subject", r.get("subject", ""))]
        if r.get("patient_id"):
            headers.append(("Filed to", r["patient_id"]))
        if self.formatted.isChecked() and self.safe is not None:
            return printing.document(headers, safe_html=self.safe.html)
        return printing.document(headers, self.plain_text())

    def print_with_dialog(self) -> bool:
        return printing.print_with_dialog(self.printable(), self)

    def ask_pdf(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save as PDF", "message.pdf", "PDF (*.pdf)")
        return printing.save_pdf(self.printable(), path) if path else None

    def email_as_pdf(self) -> Any:
        """The printed message as a PDF in a compose window, to the patient it is filed to."""
        if self.record is None:
            return None
        return self.on_email_pdf(self.record.get("patient_id") or None,
                                 printing.pdf_attachment(self.printable(), "message.pdf"))

    def save_attachment(self, index: int, path: Path) -> Path:
        """Written under a safe name (no bidi or control characters, no device name) whatever
        name the save dialog came back with."""
        assert self.content is not None
        path = path.with_name(saved_name(path.name))
        path.write_bytes(self.content.attachments[index].data)
        return path

    def ask_save_attachment(self) -> Path | None:
        row = self.attachments.currentRow()
        if self.content is None or not self.content.attachments:
            return None
        row = max(row, 0)
        name = saved_name(self.content.attachments[row].filename)
        path, _ = QFileDialog.getSaveFileName(self, "Save attachment", name)
        return self.save_attachment(row, Path(path)) if path else None
