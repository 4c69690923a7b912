"""DICOM x-rays as JPEG for email, with pydicom (and numpy, which it needs for pixel data).

A patient's computer cannot open a .dcm file; a JPEG it can. The picture is made the way a
viewer would first show it: the modality's rescale applied, then the file's own window
(centre/width, the first pair when there are several) or, without one, the full range of
the values present; MONOCHROME1 (where higher means darker) inverted; colour kept; of a
multi-frame file, the first frame (or one chosen). Scaled down to the practice's longest side, never up.
Nothing of the header travels: the JPEG is written from the pixels alone (no EXIF, no
comment), so the patient's name, id and the imaging centre stay behind.

Not of diagnostic quality: compose says so, and the original can be attached instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pydicom
from PIL import Image
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, convert_color_space

from engine.core.dicom_patient import DicomPatient
from engine.errors import InputInvalid

QUALITY = 90
_HINT = "Attach the file as it is (untick the conversion), or export a JPEG from the imaging software."


@dataclass(frozen=True)
class Converted:
    jpeg: bytes
    patient: DicomPatient
    frames: int


def is_dicom(data: bytes) -> bool:
    """A DICOM file: the 'DICM' mark after its 128-byte preamble (DICOM part 10)."""
    return len(data) >= 132 and data[128:132] == b"DICM"


def read_patient(data: bytes) -> DicomPatient:
    """The patient tags only (the pixels are not read)."""
    ds = _read(data, pixels=False)
    return _patient(ds)


def frame_count(data: bytes) -> int:
    """How many frames the image has (1 for most x-rays), from the header alone."""
    try:
        return max(1, int(_read(data, pixels=False).get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _read(data: bytes, pixels: bool = True) -> pydicom.Dataset:
    try:
        return pydicom.dcmread(io.BytesIO(data), stop_before_pixels=not pixels)
    except (InvalidDicomError, EOFError, ValueError, TypeError, KeyError, OSError) as exc:
        raise InputInvalid(f"the file is not a DICOM image that can be read ({type(exc).__name__})",
                           hint=_HINT) from None


def _patient(ds: pydicom.Dataset) -> DicomPatient:
    def text(keyword: str) -> str:
        value = ds.get(keyword, "")
        return str(value if value is not None else "")[:200]

    return DicomPatient(text("PatientName"), text("PatientID"), text("PatientBirthDate"))


def _first(value: object) -> float | None:
    """A window value: the first of a multi-valued one; None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        return float(value[0] if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _grey(arr: np.ndarray, ds: pydicom.Dataset) -> np.ndarray:
    """8-bit grey from stored values: rescale, window (or full range), MONOCHROME1 inverted."""
    values = apply_modality_lut(arr, ds).astype(np.float64)
    centre, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if centre is not None and width is not None and width >= 1:
        # DICOM PS3.3 C.11.2.1.2, linear: what lies outside the window is black or white
        out = ((values - (centre - 0.5)) / max(width - 1, 1) + 0.5) * 255.0
    else:
        low, high = float(values.min()), float(values.max())
        out = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    out = np.clip(out, 0, 255)
    if str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        out = 255.0 - out
    return out.round().astype(np.uint8)


def _colour(arr: np.ndarray, ds: pydicom.Dataset) -> np.ndarray:
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    if photometric.startswith("YBR"):
        arr = convert_color_space(arr, photometric, "RGB")
    elif photometric != "RGB":
        raise InputInvalid(f"the image's colour model {photometric or '(none)'} cannot be converted", hint=_HINT)
    if arr.dtype != np.uint8:
        top = float(2 ** int(ds.get("BitsStored", 8)) - 1)
        arr = np.clip(arr.astype(np.float64) / top * 255.0, 0, 255).round().astype(np.uint8)
    return arr


def to_jpeg(data: bytes, longest_side: int | None, frame: int = 0) -> Converted:
    """One frame (the first unless chosen, counted from 0) as a JPEG no larger than `longest_side`
    (None: as it is), and the file's patient tags."""
    ds = _read(data)
    if "PixelData" not in ds:
        raise InputInvalid("the DICOM file holds no image", hint=_HINT)
    try:
        arr = ds.pixel_array
    except Exception as exc:  # noqa: BLE001 - compressed in a way no installed decoder reads, or broken
        raise InputInvalid(f"the DICOM image could not be decoded ({type(exc).__name__})", hint=_HINT) from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if not 0 <= frame < frames:
        raise InputInvalid(f"the x-ray has {frames} frame{'s' if frames != 1 else ''}; there is no frame {frame + 1}",
                           hint="Choose one of its frames, or the first.")
    if frames > 1:
        arr = arr[frame]
    if samples == 1:
        img = Image.fromarray(_grey(arr, ds), "L")
    else:
        img = Image.fromarray(_colour(arr, ds), "RGB")
    if longest_side and max(img.size) > longest_side:
        img.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=QUALITY, optimize=True)  # from pixels only: no EXIF, no comment
    return Converted(out.getvalue(), _patient(ds), frames)
