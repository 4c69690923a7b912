"""DICOM x-rays to JPEG: small files made here with pydicom (monochrome 1 and 2, 16-bit, RGB,
multi-frame, with and without a window), converted, scaled down never up, checked against the
patient the email is about, and nothing of the header left in the JPEG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from engine.adapters import dicom
from engine.core import dicom_patient
from engine.errors import InputInvalid

ANGUS = {"id": "P033", "first_name": "Angus", "last_name": "MacLeod", "date_of_birth": "1966-12-28"}


def make(pixels: np.ndarray, photometric: str = "MONOCHROME2", bits: int = 16, window: tuple[int, int] | None = None,
         frames: int = 1, name: str = "MACLEOD^ANGUS", pid: str = "P033", born: str = "19661228") -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, pid, born
    ds.InstitutionName = "Secret Imaging Centre"
    ds.set_pixel_data(pixels, photometric, bits)
    if frames > 1:
        ds.NumberOfFrames = frames
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def ramp(rows: int = 64, cols: int = 256, top: int = 4095) -> np.ndarray:
    """Left dark to right bright, 12-bit values in 16 bits."""
    return np.tile(np.linspace(0, top, cols).astype(np.uint16), (rows, 1))


def image(jpeg: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG"
    return img


def test_monochrome2_16_bit_without_a_window_uses_the_full_range() -> None:
    out = dicom.to_jpeg(make(ramp()), 1600)
    img = image(out.jpeg)
    assert img.mode == "L" and img.size == (256, 64)
    assert img.getpixel((0, 32)) < 10 and img.getpixel((255, 32)) > 245


def test_the_files_own_window_is_used() -> None:
    out = image(dicom.to_jpeg(make(ramp(), window=(2048, 400)), 1600).jpeg)
    assert out.getpixel((100, 32)) < 10  # 100/255*4095 = 1606: below the window, black
    assert out.getpixel((160, 32)) > 245  # 2569: above it, white
    assert 60 < out.getpixel((128, 32)) < 200  # the centre: grey


def test_monochrome1_is_inverted() -> None:
    img = image(dicom.to_jpeg(make(ramp(), "MONOCHROME1"), 1600).jpeg)
    assert img.getpixel((0, 32)) > 245 and img.getpixel((255, 32)) < 10


def test_rgb_stays_in_colour() -> None:
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[..., 0] = 200
    img = image(dicom.to_jpeg(make(pixels, "RGB", 8), 1600).jpeg)
    r, g, b = img.convert("RGB").getpixel((20, 20))
    assert img.mode == "RGB" and r > 180 and g < 30 and b < 30


def test_multi_frame_gives_the_first_frame() -> None:
    frames = np.stack([np.full((32, 32), 4000, np.uint16), np.zeros((32, 32), np.uint16),
                       np.zeros((32, 32), np.uint16)])
    frames[0, 0, 0] = 0  # so the first frame has a range to show
    out = dicom.to_jpeg(make(frames, frames=3), 1600)
    assert out.frames == 3 and image(out.jpeg).getpixel((16, 16)) > 245


@pytest.mark.parametrize(("size", "longest", "expected"), [((1000, 3000), 1600, (1600, 533)),
                                                           ((100, 200), 1600, (200, 100)),
                                                           ((512, 512), 512, (512, 512))])
def test_scaled_down_to_the_remembered_size_never_up(size: tuple[int, int], longest: int,
                                                     expected: tuple[int, int]) -> None:
    pixels = np.zeros(size, np.uint16)
    pixels[0, 0] = 100
    assert image(dicom.to_jpeg(make(pixels), longest).jpeg).size == expected


def test_nothing_of_the_header_travels_in_the_jpeg() -> None:
    out = dicom.to_jpeg(make(ramp()), 1600)
    for secret in (b"MACLEOD", b"ANGUS", b"P033", b"19661228", b"Secret Imaging", b"DICM"):
        assert secret not in out.jpeg
    info = image(out.jpeg).info
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(info)
    assert out.patient == dicom_patient.DicomPatient("MACLEOD^ANGUS", "P033", "19661228")


def test_not_a_dicom_file_is_refused_in_one_line() -> None:
    with pytest.raises(InputInvalid) as exc:
        dicom.to_jpeg(b"\x00" * 200 + b"hello", 1600)
    assert "\n" not in exc.value.message and exc.value.hint


def test_a_dicom_without_pixels_is_refused() -> None:
    data = make(ramp())
    ds = __import__("pydicom").dcmread(io.BytesIO(data))
    del ds.PixelData
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    with pytest.raises(InputInvalid):
        dicom.to_jpeg(buf.getvalue(), 1600)


# -- the patient check -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["MACLEOD^ANGUS", "MacLeod^Angus^J", "macleod^angus^^Mr", "Macleod^Angus "])
def test_the_right_patient_passes(name: str) -> None:
    tags = dicom_patient.DicomPatient(name, "P033", "19661228")
    assert dicom_patient.mismatches(tags, ANGUS, frozenset({"P033", "P036"})) == []


@pytest.mark.parametrize(("tags", "words"), [
    (dicom_patient.DicomPatient("MENSAH^KWAME", "P033", "19661228"), "Kwame Mensah"),
    (dicom_patient.DicomPatient("MACLEOD^ANGUS", "P033", "19531208"), "born 1953-12-08"),
    (dicom_patient.DicomPatient("MACLEOD^ANGUS", "P036", "19661228"), "another patient's id P036"),
])
def test_the_wrong_patient_is_named_in_plain_words(tags: dicom_patient.DicomPatient, words: str) -> None:
    found = dicom_patient.mismatches(tags, ANGUS, frozenset({"P033", "P036"}))
    assert found and any(words in f for f in found)


def test_an_id_from_the_imaging_system_alone_is_not_a_mismatch() -> None:
    tags = dicom_patient.DicomPatient("MACLEOD^ANGUS", "XR-88812", "19661228")
    assert dicom_patient.mismatches(tags, ANGUS, frozenset({"P033"})) == []


hostile = st.text(st.sampled_from("Aa^\r\n\u2028\u202e\x85\x0b=?é ."), max_size=40)


@settings(max_examples=100, deadline=None)
@given(hostile, hostile, hostile)
def test_hostile_tags_never_crash_and_words_stay_one_line(name: str, pid: str, born: str) -> None:
    for line in dicom_patient.mismatches(dicom_patient.DicomPatient(name, pid, born), ANGUS, frozenset({"P033"})):
        assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\u202e" not in line


def test_a_dcm_file_in_the_patients_documents(tmp_path: Path) -> None:
    path = tmp_path / "bitewing.dcm"
    path.write_bytes(make(ramp()))
    assert dicom.is_dicom(path.read_bytes()) and not dicom.is_dicom(b"\xff\xd8\xff")


def test_a_chosen_frame_and_a_frame_that_is_not_there() -> None:
    frames = np.stack([np.zeros((32, 32), np.uint16), np.full((32, 32), 4000, np.uint16)])
    frames[:, 0, 0] = (4000, 0)
    data = make(frames, frames=2)
    assert image(dicom.to_jpeg(data, 1600, frame=1).jpeg).getpixel((16, 16)) > 245
    assert image(dicom.to_jpeg(data, 1600).jpeg).getpixel((16, 16)) < 10
    with pytest.raises(InputInvalid) as exc:
        dicom.to_jpeg(data, 1600, frame=2)
    assert "2 frames" in exc.value.message
