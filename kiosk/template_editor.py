"""Templates: list, edit, the merge-field picker (with its group filter) inserting at the
cursor, a live preview with a sample patient, and save refused with the checker's words."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit,
                             QPushButton, QVBoxLayout, QWidget)

from engine.core import templates as tpl
from engine.errors import PracticeMailError, TemplateInvalid
from engine.service.app import App
from kiosk import plain
from kiosk.template_words import problem_text
from kiosk.widgets import KEEP, SAVE, ask_unsaved


class TemplateEditor(QWidget):
    def __init__(self, app: App) -> None:
        super().__init__()
        self.templates = app.templates
        layout = QHBoxLayout(self)
        self.list = QListWidget()
        self.loaded: tpl.Template | None = None  # as it was loaded: what the fields are compared with
        self.list.currentItemChanged.connect(self._chosen)
        layout.addWidget(self.list, 1)
        right = QVBoxLayout()
        form = QFormLayout()
        self.code = QLineEdit()
        self.description = QLineEdit()
        self.category = QLineEdit()
        self.subject = QLineEdit()
        for label, w in (("Code", self.code), ("Description", self.description), ("Category", self.category),
                         ("Subject", self.subject)):
            form.addRow(label, w)
        right.addLayout(form)
        picker = QHBoxLayout()
        self.group = QComboBox()
        self.group.addItem("All groups", "")
        for g in tpl.GROUPS:
            self.group.addItem(g.capitalize(), g)
        self.field = QComboBox()
        self.insert = QPushButton("Insert field")
        self.insert.clicked.connect(self.insert_field)
        self.group.currentIndexChanged.connect(self.fill_fields)
        for w in (QLabel("Merge field:"), self.group, self.field, self.insert):
            picker.addWidget(w)
        right.addLayout(picker)
        self.body = QPlainTextEdit()
        right.addWidget(self.body, 3)
        right.addWidget(QLabel("Preview (sample patient):"))
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        right.addWidget(self.preview, 2)
        self.problems = plain.label(wrap=True)
        self.problems.setStyleSheet("color: #a01c1c")
        right.addWidget(self.problems)
        self.save = QPushButton("Save")
        self.save.clicked.connect(self.save_template)
        right.addWidget(self.save)
        layout.addLayout(right, 3)
        for w in (self.subject, self.body):
            w.textChanged.connect(self.render_preview)
        self.fill_fields()
        self.reload()

    def reload(self) -> None:
        current = self.code.text()
        self.list.clear()
        for t in self.templates.list():  # by what it is for; the code in the tooltip
            item = QListWidgetItem(plain.shown(t.description or t.code))
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
        for f in tpl.CATALOGUE:
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
        return (now.code, now.description, now.category, now.subject, now.body) != \
            (was.code, was.description, was.category, was.subject, was.body)

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
            before.setText(plain.shown(self.description.text() or self.code.text()))
        self.load(code)

    def load(self, code: str) -> None:
        if not code:
            return
        t = self.templates.get(code)
        self.loaded = t
        self.code.setText(t.code)
        self.description.setText(t.description)
        self.category.setText(t.category)
        self.subject.setText(t.subject)
        self.body.setPlainText(t.body)
        self.problems.setText("")

    def current(self) -> tpl.Template:
        return tpl.Template(self.code.text().strip(), self.description.text(), self.category.text(),
                            self.subject.text(), self.body.toPlainText())

    def render_preview(self) -> None:
        t = self.current()
        problems = tpl.check(t)
        if problems:
            self.preview.setPlainText("")
            self.problems.setText("\n".join(problem_text(p) for p in problems[:5]))
            return
        r = tpl.render(t, tpl.sample_context())
        self.preview.setPlainText(f"Subject: {r.subject}\n\n{r.body}")
        self.problems.setText("")

    def save_template(self) -> bool:
        if not self._store():
            return False
        self.problems.setText("Saved.")
        self.reload()
        return True

    def _store(self) -> bool:
        """The fields saved as the template; the checker's words shown when refused."""
        try:
            existing = self.templates.get(self.code.text().strip()) if self.templates.exists(self.code.text().strip()) \
                else None
            t = self.current()
            if existing is not None:
                t.html = existing.html
            self.templates.save(t)
        except TemplateInvalid as exc:
            self.problems.setText("Not saved: " + "; ".join(problem_text(p) for p in exc.problems[:5]))
            return False
        except PracticeMailError as exc:
            self.problems.setText(f"Not saved: {exc.message}")
            return False
        self.loaded = t
        return True
