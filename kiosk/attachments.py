"""The compose window's files: from the patient's documents folder or anywhere else, images
scaled down on request, the total size shown (and warned about before a server refuses it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QInputDialog, QListWidget, QPushButton,
                             QVBoxLayout, QWidget)

from engine.service.app import Document, looks_like_dicom
from engine.core.message import Attachment
from engine.core.names import saved_name
from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.tables import size_text


DICOM_NOTE = ("An x-ray sent as a JPEG is not of diagnostic quality. To send the original DICOM file instead, "
              "untick 'Scale pictures down' and attach it again.")


class AttachmentList(QWidget):
    changed = pyqtSignal()

    def __init__(self, read: Callable[[Path, int | None], Attachment], documents: Callable[[], list[Document]],
                 scale_to: int, warn_megabytes: int) -> None:
        super().__init__()
        self._read = read
        self._documents = documents
        self.scale_to = scale_to
        self.warn_bytes = warn_megabytes * 1024 * 1024
        self.files: list[Attachment] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setMaximumHeight(80)
        self.list.setVisible(False)  # shown once there is a file
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.from_documents = QPushButton("Patient's documents...")
        self.from_documents.clicked.connect(self.pick_document)
        self.other = QPushButton("Find other files...")
        self.other.clicked.connect(self.pick_other)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self.remove_selected)
        self.scale = QCheckBox(f"Scale pictures down to {scale_to} px")
        self.scale.setChecked(True)
        self.total = plain.label()
        for w in (self.from_documents, self.other, self.remove, self.scale):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.total)
        layout.addLayout(row)
        self.note = plain.label(DICOM_NOTE, wrap=True)  # shown once an x-ray has been converted
        self.note.setHidden(True)
        layout.addWidget(self.note)
        self.problem = ""

    def add_path(self, path: Path) -> bool:
        try:
            read = self._read(path, self.scale_to if self.scale.isChecked() else None)
            # sent under a name the patient's computer shows as it is (a downloaded file may carry a bidi override)
            self.files.append(replace(read, filename=saved_name(read.filename)))
            if looks_like_dicom(path.name, b"") and read.content_type == "image/jpeg":
                self.note.setHidden(False)
        except PracticeMailError as exc:
            self.problem = f"{exc.message}. {exc.hint}"
            self.changed.emit()
            return False
        self.problem = ""
        self._show()
        return True

    def add(self, attachment: Attachment) -> None:
        self.files.append(attachment)
        self._show()

    def pick_document(self) -> bool:
        docs = self._documents()
        if not docs:
            self.problem = "This patient has no documents in their folder yet."
            self.changed.emit()
            return False
        labels = [f"{plain.shown(d.name)}  ({size_text(d.size)})" for d in docs]
        label, ok = QInputDialog.getItem(self, "Patient's documents", "Attach:", labels, 0, False)
        return bool(ok) and self.add_path(docs[labels.index(label)].path)

    def pick_other(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, "Attach a file")
        return bool(path) and self.add_path(Path(path))

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.files):
            del self.files[row]
            self._show()

    def total_bytes(self) -> int:
        return sum(len(a.data) for a in self.files)

    def _show(self) -> None:
        self.list.clear()
        self.list.setVisible(bool(self.files))
        for a in self.files:
            self.list.addItem(f"{plain.shown(a.filename)}  ({size_text(len(a.data))})")
        total = self.total_bytes()
        self.total.setText(f"{len(self.files)} file(s), {size_text(total)}" if self.files else "")
        big = total > self.warn_bytes
        self.total.setStyleSheet("color: #a01c1c; font-weight: bold" if big else "")
        self.total.setToolTip("Larger than many mail servers accept; scale pictures down or send fewer files."
                              if big else "")
        self.changed.emit()
