"""The gate's directory book is kept while the directory is unchanged, also in a practice with no
providers or specialists at all (on TinyDB their files do not exist, and a file that does not
exist has no signature: the book was built again for every batch, 20 times in a 10,000-patient
recall run, issue 18); and it still sees the first specialist added, at once."""

from __future__ import annotations

from engine.service.outbox import Outbox
from tests.backends import Backend

PATIENTS = [(2, {"id": "P1", "first_name": "Pat", "last_name": "One", "email": "pat@example.com"}),
            (3, {"id": "P2", "first_name": "Sam", "last_name": "Two", "email": "sam@example.com"})]


def test_the_book_is_kept_without_providers_or_specialists_and_sees_the_first_one(backend: Backend) -> None:
    with backend.practice() as p:
        p.directory.import_rows("patients", PATIENTS)
        outbox = Outbox(p.store)
        book = outbox.book()
        assert book.person("pat@example.com").kind == "patient"
        assert outbox.book() is book  # nothing changed: the same book, not built again
        p.directory.import_rows("specialists", [(2, {"id": "S1", "first_name": "Rajesh", "last_name": "Banerjee",
                                                     "email": "rb@clinic.example"})])
        assert outbox.book().person("rb@clinic.example").kind == "specialist"  # the first specialist, at once
        p.directory.import_rows("providers", [(2, {"id": "D1", "first_name": "Amara", "last_name": "Okafor",
                                                   "email": "ao@brightsmile.example"})])
        fresh = outbox.book()
        assert fresh.person("ao@brightsmile.example").kind == "provider"
        assert outbox.book() is fresh
