"""The address book, opened from compose: patients, providers and specialists by name with a
search, and To / Cc / Bcc buttons that put the chosen people in the email's fields, as in a
mail client. It only chooses: compose's confidentiality check still decides, and says in
words why a stranger or another family's address cannot go in Cc."""

from __future__ import annotations

from PyQt6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QHeaderView,
                             QLineEdit, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine.service.app import App, Contact
from kiosk import plain
from kiosk.widgets import keyed, keyed_box

KINDS = {"patient": "Patient", "provider": "Provider", "specialist": "Specialist", "other": "Address typed"}
FIELDS = ("To", "Cc", "Bcc")


class AddressBook(QDialog):
    """`chosen[field]`: the people put in To, Cc and Bcc, in the order chosen."""

    def __init__(self, app: App, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Address Book")
        self.app = app
        self.chosen: dict[str, list[Contact]] = {f: [] for f in FIELDS}
        self.shown_contacts: list[Contact] = []
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: name or email address")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.fill)
        layout.addWidget(self.search)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Who", "Email address"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.add_to("Cc"))
        layout.addWidget(self.table, 1)
        self._build_fields(layout)
        self.fill()
        self.resize(640, 520)

    def _build_fields(self, layout: QVBoxLayout) -> None:
        """A button and a line per field: the button adds the selected people, the line shows them."""
        form = QFormLayout()
        self.buttons: dict[str, QPushButton] = {}
        self.lines: dict[str, QLineEdit] = {}
        for name in FIELDS:
            button = QPushButton(f"{name} ->")
            button.setToolTip(f"Put the selected people in {name}")
            button.clicked.connect(lambda _c=False, n=name: self.add_to(n))
            keyed(button, f"Alt+{name[0]}")  # To, Cc, Bcc
            line = QLineEdit()
            line.setReadOnly(True)
            self.buttons[name], self.lines[name] = button, line
            form.addRow(button, line)
        self.note = plain.label(wrap=True)
        self.note.setStyleSheet("color: #a05a00")
        layout.addLayout(form)
        layout.addWidget(self.note)
        clear = QPushButton("Clear")
        clear.setToolTip("Start the choice again")
        clear.clicked.connect(self.clear)
        keyed(clear, "Alt+L")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        keyed_box(box)
        self.ok = box.button(QDialogButtonBox.StandardButton.Ok)
        row = QHBoxLayout()
        row.addWidget(clear)
        row.addStretch(1)
        row.addWidget(box)
        layout.addLayout(row)

    def fill(self) -> None:
        """Everyone matching what is typed, patients first, each by name."""
        self.shown_contacts = self.app.contacts(self.search.text(), limit=500)
        self.table.setRowCount(len(self.shown_contacts))
        for row, c in enumerate(self.shown_contacts):
            cells = (plain.shown(c.name or c.email), KINDS.get(c.kind, c.kind), plain.shown(c.email or "no address"))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c.id:
                    item.setToolTip(plain.tip(f"{KINDS.get(c.kind, c.kind)} code {c.id}"))
                self.table.setItem(row, col, item)
        if len(self.shown_contacts) == 1:
            self.table.selectRow(0)

    def selected(self) -> list[Contact]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.shown_contacts[r] for r in rows if r < len(self.shown_contacts)]

    def select(self, name: str) -> None:
        """The row of the person with that name (or address) selected: for tests and keyboard users."""
        for row, c in enumerate(self.shown_contacts):
            if name in (c.name, c.email):
                self.table.selectRow(row)
                return
        raise LookupError(name)

    def add_to(self, field: str) -> None:
        """The selected people put in `field`; one without an address is named and left out."""
        skipped = []
        for c in self.selected():
            if not c.email and not (field == "To" and c.kind == "patient"):
                skipped.append(c.name)
            elif c not in self.chosen[field]:
                self.chosen[field].append(c)
        if field == "To" and len(self.chosen["To"]) > 1:  # compose writes to one patient or specialist
            self.chosen["To"] = self.chosen["To"][-1:]
        self.note.setText(f"{', '.join(plain.shown(n) for n in skipped)} "
                          f"{'has' if len(skipped) == 1 else 'have'} no email address." if skipped else "")
        self._show()

    def clear(self) -> None:
        for field in FIELDS:
            self.chosen[field] = []
        self.note.setText("")
        self._show()

    def _show(self) -> None:
        for field, line in self.lines.items():
            line.setText(plain.shown(", ".join(c.name or c.email for c in self.chosen[field])))
            line.setToolTip(plain.tip(", ".join(c.email for c in self.chosen[field])))


def is_addressee(c: Contact) -> bool:
    """Compose writes To a patient or a specialist; anyone else is a copy."""
    return c.kind in ("patient", "specialist")

