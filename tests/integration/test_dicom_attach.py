"""An x-ray in DICOM goes out as a JPEG, and only for the right patient: from the patient's
documents folder through the composer and the fake SMTP server, the witness its spool."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.adapters.documents import patient_folder
from engine.errors import InputInvalid
from engine.service.compose import Composer
from engine.service.engine import Engine
from engine.service.practice import Practice
from tests.unit.adapters.test_dicom import make, ramp
from tools.fakemail import FakeMail

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
ANGUS = "P033"


@pytest.fixture
def engine(practice: Practice) -> Iterator[Engine]:
    e = Engine(practice)
    yield e
    e.stop()


def xray(practice: Practice, name: str, data: bytes) -> Path:
    folder = patient_folder(practice.folder, ANGUS)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def test_the_patients_own_xray_goes_as_a_scaled_jpeg(practice: Practice, engine: Engine, fakemail: FakeMail) -> None:
    path = xray(practice, "bitewing.dcm", make(ramp(rows=1200, cols=2400)))
    rid = Composer(practice, engine.outbox, engine.inbox).from_patient(ANGUS, NOW, subject="Your x-ray", text="Attached.",
                                                         attachments=[path], scale_images_to=1600)
    assert engine.send_receive_now()["sent"] == 1
    msg = email.message_from_bytes(fakemail.sent()[-1]["data"], policy=email.policy.default)
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == "bitewing.jpg" and part.get_content_type() == "image/jpeg"
    jpeg = part.get_content()
    assert jpeg[:3] == b"\xff\xd8\xff" and b"MACLEOD" not in fakemail.sent()[-1]["data"]
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(jpeg)).size == (1600, 800)
    assert engine.outbox.get(rid)["status"] == "sent"


def test_another_patients_xray_is_refused_in_plain_words(practice: Practice, engine: Engine) -> None:
    path = xray(practice, "wrong.dcm", make(ramp(), name="MENSAH^KWAME", pid="P036", born="19530812"))
    with pytest.raises(InputInvalid) as exc:
        Composer(practice, engine.outbox, engine.inbox).from_patient(ANGUS, NOW, subject="Your x-ray", attachments=[path],
                                                       scale_images_to=1600)
    words = exc.value.message
    assert "does not look like Angus MacLeod's" in words and "Kwame Mensah" in words and "P036" in words
    assert engine.outbox.list() == []  # nothing queued


def test_unscaled_the_original_dicom_is_attached_after_the_same_check(practice: Practice, engine: Engine) -> None:
    data = make(ramp())
    path = xray(practice, "pano.dcm", data)
    att = Composer(practice, engine.outbox, engine.inbox).attach_file(path, None, ANGUS)
    assert (att.filename, att.content_type, att.data) == ("pano.dcm", "application/dicom", data)
    wrong = xray(practice, "wrong.dcm", make(ramp(), name="MENSAH^KWAME"))
    with pytest.raises(InputInvalid):
        Composer(practice, engine.outbox, engine.inbox).attach_file(wrong, None, ANGUS)
