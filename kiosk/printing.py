"""Printing a message or an outbox item: to a printer through the system dialog, or to PDF;
and "Email as PDF": the same document as a PDF attachment for a compose window."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

from PyQt6.QtGui import QTextDocument
from PyQt6.QtPrintSupport import QPrintDialog, QPrinter
from PyQt6.QtWidgets import QDialog, QWidget

from engine.core.message import Attachment
from engine.core.names import saved_name
from kiosk.plain import shown


def document(headers: list[tuple[str, str]], text: str = "", safe_html: str | None = None) -> QTextDocument:
    """Headers as a small table (their values escaped, hidden characters shown), then the body:
    plain text (escaped) or HTML already sanitised."""
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(shown(v))}</td></tr>" for k, v in headers)
    body = safe_html if safe_html is not None else f"<pre>{html.escape(text)}</pre>"
    doc = QTextDocument()
    doc.setHtml(f"<table cellspacing=4>{rows}</table><hr>{body}")
    return doc


def save_pdf(doc: QTextDocument, path: Path | str) -> Path:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    doc.print(printer)
    return Path(path)


def print_with_dialog(doc: QTextDocument, parent: QWidget | None = None) -> bool:
    """The system's print dialog (its printers, and 'Print to File (PDF)'); False if cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    doc.print(printer)
    return True


def pdf_attachment(doc: QTextDocument, filename: str) -> Attachment:
    """The document as a PDF made exactly as "Save as PDF" makes it, as an attachment. Qt writes
    PDFs to a file only: a private temporary folder (0700), gone when this returns."""
    with tempfile.TemporaryDirectory(prefix="practicemail-pdf-") as folder:
        data = save_pdf(doc, Path(folder) / "report.pdf").read_bytes()
    return Attachment(saved_name(filename, "report.pdf"), data, "application/pdf")
