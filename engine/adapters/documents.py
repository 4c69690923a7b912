"""Files a practice attaches: a patient's documents folder, and images scaled down.

`<data>/documents/<patient id>/` holds a patient's documents (x-rays, letters) for
the attachment picker. Images are scaled down (never up) to a longest side the
practice chooses, so a 12-megapixel x-ray photo does not bounce off a 10 MB limit.
A DICOM x-ray (.dcm) is checked against the patient and sent as a JPEG (see dicom.py).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from engine.core.outside import outside_text
from engine.errors import InputInvalid

SCALABLE = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/tiff": "TIFF"}


@dataclass(frozen=True)
class Document:
    name: str
    path: Path
    size: int


def patient_folder(data_folder: Path, patient_id: str) -> Path:
    if not patient_id or "/" in patient_id or "\\" in patient_id or patient_id.startswith("."):
        raise InputInvalid(f"{patient_id!r} is not a patient id", hint="Use the patient's id from the practice.")
    return data_folder / "documents" / patient_id


def list_documents(data_folder: Path, patient_id: str) -> list[Document]:
    folder = patient_folder(data_folder, patient_id)
    if not folder.is_dir():
        return []
    # a name the file system could not decode (os.listdir's surrogateescape) is shown readable;
    # the path stays as it is, to open the file
    return sorted((Document(outside_text(p.name), p, p.stat().st_size) for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".")), key=lambda d: d.name.lower())


def scale_down(data: bytes, content_type: str, longest_side: int) -> bytes:
    """The image with its longest side at most `longest_side` pixels; never enlarged.
    Not an image we can scale: returned unchanged."""
    fmt = SCALABLE.get(content_type)
    if fmt is None:
        return data
    try:
        with Image.open(io.BytesIO(data)) as img:
            if max(img.size) <= longest_side:
                return data
            img.thumbnail((longest_side, longest_side))
            out = io.BytesIO()
            params = {"quality": 85, "optimize": True} if fmt == "JPEG" else {}
            (img.convert("RGB") if fmt == "JPEG" and img.mode not in ("RGB", "L") else img).save(out, fmt, **params)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputInvalid(f"the image could not be read: {exc}", hint="Attach it without scaling, or use another file.") from exc


def dicom_frames(data: bytes) -> int:
    """How many frames a DICOM file has (a multi-frame one asks which to send); 1 when unreadable."""
    from engine.adapters import dicom

    try:
        return dicom.frame_count(data)
    except InputInvalid:
        return 1  # said when it is attached, in the attach's own words


def dicom_attachment(name: str, data: bytes, patient: Mapping[str, Any] | None, other_ids: frozenset[str],
                     longest_side: int | None, frame: int = 0) -> tuple[str, bytes, str]:
    """(file name, bytes, content type) for a DICOM x-ray attached to an email about `patient`:
    refused in plain words when its patient tags say it is someone else's; as a JPEG of `frame`
    (counted from 0) scaled to `longest_side` (engine/adapters/dicom.py), or, when that is None,
    the original file."""
    from engine.adapters import dicom  # pydicom and numpy loaded only when an x-ray is attached
    from engine.core import dicom_patient

    if patient is not None:
        found = dicom_patient.mismatches(dicom.read_patient(data), patient, other_ids)
        if found:
            raise InputInvalid(dicom_patient.refusal(found, patient),
                               hint="Check you chose the right patient and the right file.")
    if longest_side is None:
        return name, data, "application/dicom"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'x-ray'}.jpg", dicom.to_jpeg(data, longest_side, frame).jpeg, "image/jpeg"


def looks_like_dicom(name: str, data: bytes) -> bool:
    return name.lower().endswith((".dcm", ".dicom")) or (len(data) >= 132 and data[128:132] == b"DICM")
