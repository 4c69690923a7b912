"""The compose window's files: from the patient's documents folder or anywhere else, images
scaled down on request, the total size shown (and warned about before a server refuses it);
a file opened with the computer's own program (from a private copy the App makes in the data
folder, never the shared /tmp) or saved elsewhere (a file already there replaced only when
reception says so)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QUrl, pyqtSignal
from PyQt6.QtGui import QDesktopServices
from PyQt6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QInputDialog, QListWidget,
                             QMessageBox, QPushButton, QVBoxLayout, QWidget)

from engine.service.app import Document, looks_like_dicom
from engine.core.message import Attachment
from engine.core.names import saved_name
from engine.errors import PracticeMailError
from kiosk import plain
from kiosk.tables import size_text
from kiosk.widgets import keyed


OpenCopy = Callable[[Attachment], Path]  # App.open_copy
SaveAs = Callable[[Attachment, Path, bool], Path]  # App.save_attachment

DICOM_NOTE = ("An x-ray sent as a JPEG is not of diagnostic quality. To send the original DICOM file instead, "
              "untick 'Scale pictures down' and attach it again.")


class AttachmentList(QWidget):
    changed = pyqtSignal()

    def __init__(self, read: Callable[[Path, int | None, int], Attachment], documents: Callable[[], list[Document]],
                 scale_to: int, warn_megabytes: int, open_copy: OpenCopy, save_as: SaveAs,
                 frames: Callable[[Path], int] = lambda _path: 1) -> None:
        super().__init__()
        self._read = read
        self._frames = frames
        self._documents = documents
        self._open_copy = open_copy
        self._save_as = save_as
        self.scale_to = scale_to
        self.warn_bytes = warn_megabytes * 1024 * 1024
        self.files: list[Attachment] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setMaximumHeight(80)
        self.list.setVisible(False)  # shown once there is a file
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.from_documents = QPushButton("Patient's documents...")
        self.from_documents.clicked.connect(self.pick_document)
        self.other = QPushButton("Find other files...")
        self.other.clicked.connect(self.pick_other)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self.remove_selected)
        self.open = QPushButton("Open")
        self.open.setToolTip("Look at the chosen file in the computer's own program (a copy: changes there are not sent)")
        self.open.clicked.connect(lambda: self.open_selected())
        self.save = QPushButton("Save as...")
        self.save.setToolTip("Keep a copy of the chosen file in another folder")
        self.save.clicked.connect(lambda: self.save_selected())
        self.scale = QCheckBox(f"Scale pictures down to {scale_to} px")
        self.scale.setChecked(True)
        self.total = plain.label()
        self.open.setEnabled(False)  # until there is a file
        self.save.setEnabled(False)
        for b, key in ((self.from_documents, "Alt+D"), (self.other, "Alt+F"), (self.remove, "Alt+R"),
                       (self.open, "Alt+O"), (self.save, "Alt+S")):
            keyed(b, key)
        for w in (self.from_documents, self.other, self.remove, self.open, self.save, self.scale):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.total)
        layout.addLayout(row)
        self.note = plain.label(DICOM_NOTE, wrap=True)  # shown once an x-ray has been converted
        self.note.setHidden(True)
        layout.addWidget(self.note)
        self.problem = ""

    def add_path(self, path: Path) -> bool:
        """The file read (a picture scaled, an x-ray checked and converted) and listed; a
        multi-frame x-ray asks which frame to send first (Cancel: nothing attached)."""
        scale = self.scale_to if self.scale.isChecked() else None
        frames = self._frames(path) if scale else 1
        frame = self.ask_frame(path.name, frames) if frames > 1 else 0
        if frame is None:
            return False
        try:
            read = self._read(path, scale, frame)
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

    def ask_frame(self, name: str, frames: int) -> int | None:
        """Which frame of a multi-frame x-ray goes as the picture (counted from 0), or None."""
        dialog = plain.input_dialog(self, "Which frame?", f"{name} holds {frames} pictures (frames). Send frame number:")
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, frames)
        dialog.setIntValue(1)
        return dialog.intValue() - 1 if dialog.exec() == QInputDialog.DialogCode.Accepted.value else None

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
        label, ok = plain.get_item(self, "Patient's documents", "Attach:", labels)
        return bool(ok) and self.add_path(docs[labels.index(label)].path)

    def pick_other(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, "Attach a file")
        return bool(path) and self.add_path(Path(path))

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.files):
            del self.files[row]
            self._show()

    def _chosen(self) -> Attachment | None:
        """The file chosen in the list (the only one when there is one); none chosen of several: said."""
        row = self.list.currentRow() if len(self.files) > 1 else 0
        if len(self.files) > 1 and row < 0:
            self._said("Choose the file in the list first.")
        return self.files[row] if 0 <= row < len(self.files) else None

    def _said(self, problem: str) -> None:
        self.problem = problem
        self.changed.emit()

    def open_selected(self) -> QUrl | None:
        """The chosen file handed to the computer's program for its kind, as a private copy."""
        chosen = self._chosen()
        if chosen is None:
            return None
        try:
            url = QUrl.fromLocalFile(str(self._open_copy(chosen)))
        except (PracticeMailError, OSError) as exc:
            self._said(f"{chosen.filename} could not be opened: {getattr(exc, 'message', None) or exc}.")
            return None
        if not QDesktopServices.openUrl(url):
            self._said(f"No program on this computer opens {chosen.filename}; use Save as... to keep it instead.")
        return url

    def save_selected(self) -> Path | None:
        """The chosen file saved where reception says; one already there is replaced only after asking."""
        chosen = self._chosen()
        if chosen is None:
            return None
        name = saved_name(chosen.filename)
        answer, _ = QFileDialog.getSaveFileName(self, "Save the file as", name,
                                                options=QFileDialog.Option.DontConfirmOverwrite)  # asked below
        if not answer:
            return None
        target = Path(answer)
        there = target.with_name(saved_name(target.name))
        replace = there.exists() and self.ask_replace(there)
        if there.exists() and not replace:
            return None
        try:
            saved = self._save_as(chosen, target, replace)
        except PracticeMailError as exc:
            self._said(f"Not saved: {exc.message}. {exc.hint}")
            return None
        self._said("")
        return saved

    def ask_replace(self, path: Path) -> bool:
        """Yes replaces the file; No (the default, and Escape) keeps it."""
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        box = plain.box(QMessageBox.Icon.Question, "Replace the file?",
                        f"{path.name} is already in {path.parent}.\n\nReplace it with this one?", self, yes | no)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        return box.exec() == yes.value

    def total_bytes(self) -> int:
        return sum(len(a.data) for a in self.files)

    def _show(self) -> None:
        self.list.clear()
        self.list.setVisible(bool(self.files))
        self.open.setEnabled(bool(self.files))
        self.save.setEnabled(bool(self.files))
        for a in self.files:
            self.list.addItem(f"{plain.shown(a.filename)}  ({size_text(len(a.data))})")
        total = self.total_bytes()
        self.total.setText(f"{len(self.files)} file(s), {size_text(total)}" if self.files else "")
        big = total > self.warn_bytes
        self.total.setStyleSheet(plain.PROBLEM_BOLD if big else "")
        self.total.setToolTip("Larger than many mail servers accept; scale pictures down or send fewer files."
                              if big else "")
        self.changed.emit()
