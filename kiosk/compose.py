"""Compose to a patient: Cc and Bcc, a template, files from the patient's documents or
anywhere, the confidentiality rules shown inline before Send (not after); Save Draft,
and a draft opened again from the outbox with its own Send."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PyQt6.QtCore import QStringListModel, Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                             QLineEdit, QPushButton, QTextEdit, QVBoxLayout, QWidget)

from engine.core import confidentiality as rules
from engine.core.directory import person_name
from engine.errors import PracticeMailError
from engine.service.app import App, Document, NewEmail
from kiosk import plain
from kiosk.address_book import AddressBook, is_addressee
from kiosk.attachments import AttachmentList
from kiosk.bounced import bounced_note
from kiosk.compose_fields import Naming, TemplateWords, people_combo
from kiosk.patient_choice import PatientChoice
from kiosk.people import code_tip, patient_label
from kiosk.text_compose import TextDialog
from kiosk.widgets import KEEP, SAVE, ask_unsaved, keyed, keyed_box


class ComposeDialog(QDialog):
    def __init__(self, app: App, patient_id: str | None = None, parent: QWidget | None = None,
                 draft_id: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create New Email" if draft_id is None else "Draft")
        self.app = app
        self.composer = composer = app.composer
        self.queued_id: int | None = None
        self.draft_id = draft_id
        opened = composer.draft_contents(draft_id) if draft_id is not None else None
        if opened is not None:
            patient_id = opened["patient_id"] or patient_id
        d = app.directory
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self._add_patient_chooser(form, patient_id, draft_id)
        self.send_to = people_combo(d.list("specialists"), "the patient", "Specialist: ")
        self.send_to.setToolTip("An email about the patient may go to their specialist instead (a referral, an x-ray)")
        self.book = QPushButton("Address Book...")
        self.book.setToolTip("Choose the patient, a specialist and copies by name")
        self.book.clicked.connect(lambda: self.open_address_book())
        keyed(self.book, "Alt+A").setVisible(draft_id is None)  # the key named in the tooltip
        to_row = QHBoxLayout()
        to_row.addWidget(self.send_to, 1)
        to_row.addWidget(self.book)
        form.addRow("To", to_row)
        self.last_book: AddressBook | None = None
        self.provider = people_combo(d.list("providers"), "(none)")
        self.provider.setToolTip("Signs the email and fills the provider's merge fields")
        form.addRow("Provider", self.provider)
        self.address_warning = plain.label(wrap=True)  # the address bounced: said before anything is sent
        self.address_warning.setStyleSheet("color: #a05a00; font-weight: bold")
        form.addRow("", self.address_warning)
        self.patient.currentIndexChanged.connect(self._usual_provider)
        self._usual_provider()
        self.cc = QLineEdit()
        self.cc.setPlaceholderText("other addresses, separated by commas")
        form.addRow("Cc", self.cc)
        self.bcc = QLineEdit()
        self.bcc.setPlaceholderText("hidden copies: addresses, separated by commas")
        form.addRow("Bcc", self.bcc)
        self._add_addresses_and_templates(form)
        self.subject = QLineEdit()
        form.addRow("Subject", self.subject)
        layout.addLayout(form)
        self._build_editor(layout, opened)
        for signal in (self.patient.currentIndexChanged, self.template.currentIndexChanged,
                       self.send_to.currentIndexChanged):
            signal.connect(self.check)
        self.words, self.template_problem = TemplateWords(self.subject, self.body, self._preview), ""
        for signal in (self.template.currentIndexChanged, self.patient.currentIndexChanged,
                       self.provider.currentIndexChanged):
            signal.connect(lambda _i: self._show_template())
        self.cc.textChanged.connect(self.check)
        self.bcc.textChanged.connect(self.check)
        if opened is not None:  # a draft: its patient is fixed, the rest as it was saved
            self._fill_from_draft(opened)
        self.resize(680, 560)
        self.check()
        self._as_opened = self._state()

    def _add_patient_chooser(self, form: QFormLayout, patient_id: str | None, draft_id: int | None) -> None:
        """The patient, chosen from the list or found by name, date of birth or phone."""
        self.choice = PatientChoice(self.app, lambda p: patient_label(p) + ("" if p.get("email") else " - no address"),
                                    patient_id)
        self.patient, self.find = self.choice.combo, self.choice.find
        self.patient.setToolTip("The patient this email is to or about (type the first letters to jump to them)")
        self.choice.found.connect(self._found)
        self.find.setVisible(draft_id is None)  # a draft's patient is fixed
        form.addRow("Patient", self.choice.row())

    def _add_addresses_and_templates(self, form: QFormLayout) -> None:
        """Cc and Bcc complete from the address book; the templates by what they are for."""
        offered = QStringListModel(self)  # the addresses for what is typed, found as it is typed
        completer = QCompleter(offered, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        for field in (self.cc, self.bcc):
            field.setCompleter(completer)
            field.textEdited.connect(lambda text: offered.setStringList(
                [e["email"] for e in self.composer.address_book(text, limit=50) if e["email"] and e["kind"] != "other"] if text.strip() else []))
        self.template = QComboBox()
        self.template.addItem("(no template)", "")
        emails = [t for t in self.app.templates.list() if t.kind != "sms"]  # a text's: Send a Text...
        for t in emails:
            self.template.addItem(t.description or t.code, t.code)
            self.template.setItemData(self.template.count() - 1, plain.tip(code_tip("Template", t.code)),
                                      Qt.ItemDataRole.ToolTipRole)
        form.addRow("Template", self.template)
        self.naming = Naming(form, self.app.categories(), {t.code: (t.category, t.description) for t in emails})
        self.template.currentIndexChanged.connect(lambda _i: self.naming.follow(self.template.currentData()))

    def _build_editor(self, layout: QVBoxLayout, opened: dict[str, Any] | None) -> None:
        """Formatting and signature, the words, the files, the rules' verdict and the buttons."""
        options = QHBoxLayout()
        self.formatted = QCheckBox("Formatted")
        self.formatted.setToolTip("Bold, italics and lists; the patient also gets a plain text version")
        self.bold = QPushButton("B")
        self.italic = QPushButton("I")
        self.bold.clicked.connect(lambda: self.body.setFontWeight(
            QFont.Weight.Normal if self.body.fontWeight() > QFont.Weight.Normal else QFont.Weight.Bold))
        self.italic.clicked.connect(lambda: self.body.setFontItalic(not self.body.fontItalic()))
        keyed(self.bold, "Ctrl+B")
        keyed(self.italic, "Ctrl+I")
        self.formatted.toggled.connect(self._format_toggled)
        self.signature = QCheckBox("Add the practice signature")
        self.signature.setToolTip("Under the letter (a template's too), above anything quoted; never twice")
        has_signature = bool(self.app.settings.get("signature.template"))
        self.signature.setChecked(has_signature and opened is None)
        self.signature.setEnabled(has_signature)
        for w in (self.formatted, self.bold, self.italic):
            options.addWidget(w)
        options.addStretch(1)
        options.addWidget(self.signature)
        layout.addLayout(options)
        self.body = QTextEdit()
        self.body.setAcceptRichText(False)
        self._format_toggled(False)
        layout.addWidget(self.body)
        settings = self.app.settings
        # a DICOM x-ray is checked against the chosen patient and sent as a JPEG (engine/adapters/dicom.py)
        self.files = AttachmentList(lambda path, scale, frame: self.composer.attach_file(path, scale,
                                                                                         self.patient.currentData(),
                                                                                         frame),
                                    self._documents,
                                    int(settings.get("attachments.image_max_pixels")),
                                    int(settings.get("attachments.warn_megabytes")),
                                    self.app.open_copy, self.app.save_attachment, self.app.dicom_frames)
        self.files.changed.connect(self.check)
        layout.addWidget(self.files)
        self.problem = plain.label(wrap=True)  # the rules name patients: their names are text
        self.problem.setStyleSheet(plain.PROBLEM_BOLD)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_draft = self.buttons.addButton("Save Draft", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_draft.clicked.connect(lambda: self._queue(as_draft=True))
        self.text_instead = self.buttons.addButton("Send a Text...", QDialogButtonBox.ButtonRole.HelpRole)
        self.text_instead.setToolTip("A text message (SMS) to the patient's mobile instead")
        self.text_instead.clicked.connect(lambda: self.open_text())
        self.last_text: TextDialog | None = None
        self.buttons.accepted.connect(self._queue)
        self.buttons.rejected.connect(self.reject)
        keyed_box(self.buttons, {"Save Draft": "Ctrl+S", "Send a Text...": "Alt+X"})
        layout.addWidget(self.buttons)

    def open_text(self) -> TextDialog:
        """A text to the chosen patient; sent, this email is closed (what was typed asked about first)."""
        self.last_text = dialog = TextDialog(self.app, self.patient.currentData(), self)
        dialog.accepted.connect(self.reject)
        dialog.show()
        return dialog

    def open_address_book(self, modal: bool = True) -> AddressBook:
        """The address book; what is chosen goes into To, Cc and Bcc when it is closed with OK."""
        self.last_book = book = AddressBook(self.app, self)
        book.accepted.connect(lambda: self.take_from_book(book))
        if modal:
            book.exec()
        else:
            book.show()
        return book

    def take_from_book(self, book: AddressBook) -> None:
        """To: the patient (or their specialist); Cc/Bcc: added to what is typed. Anyone else
        chosen for To goes to Cc, said in words; the rules then check it all as typed."""
        said = []
        for c in book.chosen["To"]:
            if c.kind == "patient":
                self.choice.choose(c.id)
                self.send_to.setCurrentIndex(0)
            elif is_addressee(c):
                self.send_to.setCurrentIndex(max(0, self.send_to.findData(c.id)))
            else:
                book.chosen["Cc"].append(c)
                said.append(f"{c.name or c.email} was put in Cc: an email goes to a patient or their specialist.")
        for name, field in (("Cc", self.cc), ("Bcc", self.bcc)):
            have = [a.strip() for a in field.text().split(",") if a.strip()]
            more = [c.email for c in book.chosen[name] if c.email and c.email not in have]
            field.setText(", ".join([*have, *more]))
        self.check()
        if said:
            self.problem.setText("\n".join([*said, self.problem.text()]).strip())

    def _fill_from_draft(self, opened: dict[str, Any]) -> None:
        """A draft opened again: its patient fixed, the rest as it was saved."""
        self.patient.setEnabled(False)
        self.template.setEnabled(False)
        self.send_to.setCurrentIndex(max(0, self.send_to.findData(opened.get("specialist_id", ""))))
        self.send_to.setEnabled(False)
        self.subject.setText(opened["subject"])
        if opened["html"]:  # written formatted at the desk: opened formatted again
            self.formatted.setChecked(True)
            self.body.setHtml(opened["html"])
        else:
            self.body.setPlainText(opened["text"])
        self.cc.setText(", ".join(opened["cc"]))
        self.bcc.setText(", ".join(opened["bcc"]))
        self.naming.show(opened.get("category", ""), opened.get("description", ""))
        for a in opened["attachments"]:
            self.files.add(a)

    def _state(self) -> tuple[Any, ...]:
        """What reception may have typed or chosen: compared with how the window opened."""
        body = self.body.toHtml() if self.formatted.isChecked() else self.body.toPlainText()
        return (self.patient.currentData(), self.send_to.currentData(), self.provider.currentData(),
                self.template.currentData(), self.cc.text(), self.bcc.text(), self.subject.text(), body,
                self.formatted.isChecked(), self.signature.isChecked(), [a.filename for a in self.files.files],
                self.naming.values())

    def discard(self) -> None:
        """Closed without saving and without asking (the caller has asked, or nothing matters)."""
        super().reject()

    def reject(self) -> None:
        """Cancel, Escape or the window's close: with changes, Save draft / Discard / Keep editing."""
        if self.queued_id is None and self._state() != self._as_opened:
            answer = ask_unsaved(self, "This email" if self.draft_id is None else "This draft",
                                 can_save=self.save_draft.isEnabled())
            if answer == KEEP:
                return
            if answer == SAVE:
                self._queue(as_draft=True)  # closes the window when saved; the problem shown when not
                return
        super().reject()

    def _found(self) -> None:
        """The list narrowed to what was typed (kiosk/patient_choice.py): the provider and the rules again."""
        self._usual_provider()
        self.check()

    def _address_given(self) -> bool:
        """No address on the record: ask for one; the address given is saved to the patient's record."""
        d = self.app.directory
        patient = d.require("patients", self.patient.currentData())
        if patient.get("email"):
            return True
        address, ok = self.ask_address(person_name(patient))
        if not ok or not address.strip():
            self.problem.setText(f"{person_name(patient)} has no email address; nothing was sent.")
            return False
        try:
            d.update("patients", patient["id"], {"email": address.strip()})
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return False
        return True

    def ask_address(self, name: str) -> tuple[str, bool]:
        return plain.get_text(self, "Email address", f"{plain.shown(name)} has no email address. Their address:")

    def _usual_provider(self) -> None:
        """The patient chosen: their usual provider preselected, their address shown in To."""
        pid = self.patient.currentData()
        patient = self.app.directory.find("patients", pid) if pid else None
        usual = (patient or {}).get("usual_provider_id", "")
        self.provider.setCurrentIndex(max(0, self.provider.findData(usual)))
        address = (patient or {}).get("email") or "no address yet: asked for at Send"
        self.send_to.setItemText(0, plain.shown(f"the patient ({address})"))
        bad = (patient or {}).get("email_bad")
        self.address_warning.setText(plain.shown(bounced_note(bad)) if bad else "")
        self.address_warning.setHidden(not bad)

    def _format_toggled(self, on: bool) -> None:
        self.bold.setEnabled(on)
        self.italic.setEnabled(on)
        if hasattr(self, "body"):
            self.body.setAcceptRichText(on)
            if not on:  # back to plain: the formatting goes, the words stay
                self.body.setPlainText(self.body.toPlainText())

    def _html(self) -> str | None:
        return self.body.toHtml() if self.formatted.isChecked() else None

    def _cc(self) -> list[str]:
        return [a.strip() for a in self.cc.text().split(",") if a.strip()]

    def _bcc(self) -> list[str]:
        return [a.strip() for a in self.bcc.text().split(",") if a.strip()]

    def _documents(self) -> list[Document]:
        pid = self.patient.currentData()
        return self.app.documents(pid) if pid else []

    def _preview(self, code: str) -> tuple[str, str]:
        pid = self.patient.currentData()
        return self.app.email_preview(code, pid, self.provider.currentData() or None) if pid else ("", "")

    def _show_template(self) -> None:
        """A template chosen: its words for this patient, shown read-only (what is sent)."""
        self.template_problem = self.words.show(self.template.currentData() or "")
        self.check()

    def check(self) -> list[rules.RuleRefused] | list:
        """The rules, checked on every change; Send is only possible when none is broken
        (a missing address is asked for at Send, not a reason to disable it)."""
        d = self.app.directory
        if not self.patient.currentData():
            self.problem.setText("Choose the patient this email is to or about.")
            self.send.setEnabled(False)
            self.save_draft.setEnabled(False)
            return [rules.RuleRefused("patient", "No patient chosen", "Choose the patient first.")]
        patient = d.require("patients", self.patient.currentData())
        typed = self._cc()
        extra = self.composer.people([*typed, *self._bcc()])  # one directory read for both
        cc, bcc = extra[:len(typed)], extra[len(typed):]
        specialist = self.send_to.currentData()
        to = [self.composer._person("specialist", d.require("specialists", specialist))] if specialist \
            else [self.composer._person("patient", patient)]
        refused = [r for r in self.composer.check_rules(patient, to, cc, bool(self.files.files), bcc)
                   if r.rule != rules.NO_ADDRESS]
        lines = [f"{r.message}. {r.hint}" for r in refused]
        lines += [p for p in (self.files.problem, self.template_problem) if p]
        self.problem.setText("\n".join(lines))
        self.send.setEnabled(not refused)
        self.save_draft.setEnabled(not refused)
        return refused

    def _queue(self, as_draft: bool = False) -> None:
        if self.check():
            return
        if not as_draft and not self.send_to.currentData() and not self._address_given():
            return
        now = datetime.now(timezone.utc)
        category, description = self.naming.values()
        try:
            if self.draft_id is not None:
                self.composer.revise_draft(self.draft_id, now, self.subject.text(), self.body.toPlainText(),
                                           self._cc(), self._bcc(), self.files.files, send=not as_draft,
                                           html=self._html(), category=category, description=description,
                                           signature=self.signature.isChecked())
                self.queued_id = self.draft_id
            else:
                self.queued_id = self.app.compose(NewEmail(
                    self.patient.currentData(), template=self.template.currentData() or None,
                    subject=self.subject.text(), text=self.body.toPlainText(), extra_cc=tuple(self._cc()),
                    bcc=tuple(self._bcc()), attached=tuple(self.files.files), as_draft=as_draft,
                    provider_id=self.provider.currentData() or None, signature=self.signature.isChecked(),
                    html=self._html(), specialist_id=self.send_to.currentData() or None,
                    to_specialist=bool(self.send_to.currentData()), category=category, description=description))
        except PracticeMailError as exc:
            self.problem.setText(f"{exc.message}. {exc.hint}")
            return
        self.accept()
