"""Templates: list, edit, the merge-field picker (with its group filter) inserting at the
cursor, a live preview with a sample patient, and save refused with the checker's words.
New, Copy and Delete: a code is asked for and may not be one already used (typing another
template's code into Code would have overwritten it); a template a reminder rule or a setting
names is not deleted. Text-message (SMS) templates are their own kind: no subject, and the
live count of messages and characters left, over the practice's most segments refused."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                             QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from engine.core import templates as tpl
from engine.errors import PracticeMailError, TemplateInvalid
from engine.service.app import App
from kiosk import plain
from kiosk.template_words import problem_text
from kiosk.template_actions import TemplateActions
from kiosk.widgets import KEEP, SAVE, ask_unsaved, keyed

KIND_NAMES = {tpl.EMAIL: "Email", tpl.SMS: "Text message (SMS)"}


class TemplateEditor(TemplateActions, QWidget):
    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app
        self.templates = app.templates
        self.is_new = False  # a template begun with New, not yet saved
        page = QVBoxLayout(self)  # one row of actions above the list and the editor, Save at its end
        top = self.action_row()
        page.addLayout(top)
        layout = QHBoxLayout()
        page.addLayout(layout, 1)
        self.list = QListWidget()
        self.loaded: tpl.Template | None = None  # as it was loaded: what the fields are compared with
        self.list.currentItemChanged.connect(self._chosen)
        layout.addWidget(self.list, 1)
        right = QVBoxLayout()
        form = QFormLayout()
        self.code = QLineEdit()
        self.kind = QComboBox()
        for kind, name in KIND_NAMES.items():
            self.kind.addItem(name, kind)
        self.kind.setToolTip("An email has a subject; a text message has words only, counted in messages")
        self.description = QLineEdit()
        self.category = QLineEdit()
        self.subject = QLineEdit()
        for label, w in (("Code", self.code), ("Kind", self.kind), ("Description", self.description),
                         ("Category", self.category), ("Subject", self.subject)):
            form.addRow(label, w)
        self.subject_label = form.labelForField(self.subject)
        right.addLayout(form)
        right.addLayout(self._field_picker())
        self.body = QPlainTextEdit()
        right.addWidget(self.body, 3)
        self.count = QLabel()  # a text message: "2 messages, 148 characters left", as typed
        self.count.setToolTip("Counted with the sample patient's details filled in")
        right.addWidget(self.count)
        right.addWidget(QLabel("Preview (sample patient):"))
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        right.addWidget(self.preview, 2)
        self.problems = plain.label(wrap=True)
        self.problems.setStyleSheet(plain.PROBLEM)
        right.addWidget(self.problems)
        self.may_change = True  # the signed-in group's "templates" permission (kiosk/roles_desk.py)
        self.save = QPushButton("Save")
        self.save.clicked.connect(self.save_template)
        keyed(self.save, "Ctrl+S")
        top.addStretch(1)
        top.addWidget(self.save)
        layout.addLayout(right, 3)
        for w in (self.subject, self.body):
            w.textChanged.connect(self.render_preview)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.fill_fields()
        self.reload()

    def _field_picker(self) -> QHBoxLayout:
        """Merge fields by group, and Insert field at the cursor."""
        picker = QHBoxLayout()
        self.group = QComboBox()
        self.group.addItem("All groups", "")
        for g in tpl.GROUPS:
            self.group.addItem(g.capitalize(), g)
        self.field = QComboBox()
        self.insert = QPushButton("Insert field")
        self.insert.clicked.connect(self.insert_field)
        keyed(self.insert, "Ctrl+Shift+I")
        self.group.currentIndexChanged.connect(self.fill_fields)
        for w in (QLabel("Merge field:"), self.group, self.field, self.insert):
            picker.addWidget(w)
        return picker

    def reload(self) -> None:
        current = self.code.text()
        self.list.clear()
        for t in self.templates.list():  # by what it is for; the code in the tooltip
            item = QListWidgetItem(plain.shown(list_name(t)))
            item.setData(Qt.ItemDataRole.UserRole, t.code)
            item.setToolTip(plain.tip(f"Template code {t.code}"))
            self.list.addItem(item)
        row = self.row_of(current) if current else -1
        if self.list.count():
            self.list.setCurrentRow(max(row, 0))

    def row_of(self, code: str) -> int:
        """The list's row of a template code (-1 if none)."""
        return next((n for n in range(self.list.count()) if self._code_of(self.list.item(n)) == code), -1)

    @staticmethod
    def _code_of(item: QListWidgetItem | None) -> str:
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def fill_fields(self) -> None:
        group = self.group.currentData()
        self.field.clear()
        for f in tpl.fields_for(self.kind.currentData()):  # a text message: only those that make sense in one
            if not group or f.group == group:
                self.field.addItem(f.name, f.name)
                self.field.setItemData(self.field.count() - 1, f.description, 3)  # tooltip role

    def insert_field(self) -> None:
        self.body.insertPlainText("{{ " + self.field.currentData() + " }}")
        self.body.setFocus()

    def dirty(self) -> bool:
        """Fields changed since the template was loaded (or saved)."""
        if self.loaded is None:
            return False
        now, was = self.current(), self.loaded
        return (now.code, now.kind, now.description, now.category, now.subject, now.body) != \
            (was.code, was.kind, was.description, was.category, was.subject, was.body)

    def _chosen(self, item: QListWidgetItem | None, before: QListWidgetItem | None) -> None:
        """Another template chosen: changes to this one are saved, discarded or kept, as asked;
        the same one chosen again (the list refreshed) keeps what is being typed."""
        code = self._code_of(item)
        if not code or not self.dirty():
            self.load(code)
            return
        if self.loaded is not None and code == self.loaded.code:
            return
        answer = ask_unsaved(self, f"The template \"{self.loaded.description or self.loaded.code}\"",
                             save_label="Save")
        if answer == SAVE and not self._store():
            answer = KEEP
        if answer == KEEP:
            self.list.blockSignals(True)
            self.list.setCurrentItem(before)
            self.list.blockSignals(False)
            return
        if before is not None and answer == SAVE:
            before.setText(plain.shown(list_name(self.current())))
        self.load(code)

    def load(self, code: str) -> None:
        if not code:
            return
        self.show_template(self.templates.get(code))

    def show_template(self, t: tpl.Template, new: bool = False) -> None:
        """The template in the fields, as loaded (a new one: not yet in the list)."""
        self.loaded = t
        self.is_new = new
        self.code.setText(t.code)
        self.kind.setCurrentIndex(max(0, self.kind.findData(t.kind)))
        self.description.setText(t.description)
        self.category.setText(t.category)
        self.subject.setText(t.subject)
        self.body.setPlainText(t.body)
        self.render_preview()

    def current(self) -> tpl.Template:
        sms = self.kind.currentData() == tpl.SMS
        return tpl.Template(self.code.text().strip(), self.description.text(), self.category.text(),
                            "" if sms else self.subject.text(), self.body.toPlainText(),
                            kind=self.kind.currentData())

    def _kind_changed(self) -> None:
        sms = self.kind.currentData() == tpl.SMS
        self.subject.setVisible(not sms)
        if self.subject_label is not None:
            self.subject_label.setVisible(not sms)
        self.count.setVisible(sms)
        self.fill_fields()
        self.render_preview()

    def render_preview(self) -> None:
        t = self.current()
        problems = [problem_text(p) for p in tpl.check(t)[:5]]
        r = tpl.render(t, tpl.sample_context()) if not problems else None
        if r is not None and t.kind == tpl.SMS:
            problems += self._count(r.body)
        if r is None:
            self.preview.setPlainText("")
            self.count.setText("")
        else:
            self.preview.setPlainText(r.body if t.kind == tpl.SMS else f"Subject: {r.subject}\n\n{r.body}")
        self.problems.setText("\n".join(problems))

    def _count(self, text: str) -> list[str]:
        """The live count of a text message; over the practice's most segments, the problem."""
        seg = self.app.text_segments(text)
        self.count.setText(seg.describe())
        most = self.app.max_text_segments
        return [f"The text needs {seg.parts} messages; the practice allows {most} (setting sms.max_segments)."] \
            if seg.parts > most else []

    def save_template(self) -> bool:
        if not self._store():
            return False
        self.problems.setText("Saved.")
        self.reload()
        return True

    def _store(self) -> bool:
        """The fields saved as the template; the checker's words shown when refused."""
        if not self.may_change:
            self.problems.setText("Not saved: your group may not change templates.")
            return False
        try:
            t = self.current()
            new = self.is_new or self.loaded is None or t.code != self.loaded.code
            if not new and t.kind == tpl.EMAIL:
                t.html = self.templates.get(t.code).html
            if t.kind == tpl.SMS:
                too_long = self._count(tpl.render(t, tpl.sample_context()).body) if not tpl.check(t) else []
                if too_long:
                    self.problems.setText("Not saved: " + too_long[0])
                    return False
            self.app.save_template(t, new=new)
        except TemplateInvalid as exc:
            self.problems.setText("Not saved: " + "; ".join(problem_text(p) for p in exc.problems[:5]))
            return False
        except PracticeMailError as exc:
            self.problems.setText(f"Not saved: {exc.message}")
            return False
        self.loaded = t
        self.is_new = False
        return True


def list_name(t: tpl.Template) -> str:
    """How the list names a template: what it is for, a text message said so."""
    name = t.description or t.code
    return f"{name} (SMS)" if t.kind == tpl.SMS else name
