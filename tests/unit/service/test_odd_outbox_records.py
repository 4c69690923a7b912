"""The day list reads the outbox for the day's appointments only (#19): an outbox record whose
appointment id is not a code (a list or an object, written by another program or an older
version) is no appointment of the day, and a patient record whose code is not text is nobody's
patient: the day is still listed, with its patients' names."""

from __future__ import annotations

from datetime import date

from engine.service.app import App
from engine.service.practice import Practice


def test_an_outbox_record_with_an_odd_appointment_id_leaves_the_day_listed(practice: Practice) -> None:
    app = App(practice)
    first = min(app.reminders.appointments.all(), key=lambda r: r["start"])
    day = date.fromisoformat(first["start"][:10])
    before = app.appointments_on(day)
    assert before
    for odd in ([first["id"]], {"id": first["id"]}, 7, None, True):
        app.outbox._items.insert({"status": "cancelled", "kind": "confirmation", "to": ["x@example.test"],
                                  "subject": "odd", "appointment_id": odd, "history": []})
    app.directory._coll("patients").insert({"id": ["P001"], "first_name": "Odd", "last_name": "Record"})
    assert [(a.id, a.patient_name) for a in app.appointments_on(day)] == [(a.id, a.patient_name) for a in before]
