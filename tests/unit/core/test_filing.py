"""Filing rules: never to a patient whose address does not match unless the thread
says so; a shared address is never filed by address alone."""

from __future__ import annotations

from hypothesis import given, strategies as st

from engine.core import filing
from engine.core.addresses import normalise_address

addresses = st.sampled_from(["a@x.test", "b@x.test", "shared@x.test", "spec@y.test", "c@x.test", ""])
patients = st.lists(st.builds(lambda i, e: {"id": f"P{i}", "email": e}, st.integers(0, 30), addresses),
                    max_size=12, unique_by=lambda r: r["id"])
specialists = st.lists(st.builds(lambda i, e: {"id": f"S{i}", "email": e}, st.integers(0, 5), addresses),
                       max_size=4, unique_by=lambda r: r["id"])
senders = st.sampled_from(["A@X.test", " b@x.test ", "shared@x.test", "spec@y.test", "nobody@z.test", ""])


@given(patients, specialists, senders, st.lists(st.sampled_from(["<m1@p>", "<m2@p>", "<zz@q>"]), max_size=3),
       st.dictionaries(st.sampled_from(["<m1@p>", "<m2@p>"]), st.sampled_from(["P1", "P2", "P3"]), max_size=2),
       st.booleans())
def test_filing_never_crosses_patients(ps: list, ss: list, sender: str, thread: list, sent_map: dict,
                                       auto: bool) -> None:
    book = filing.AddressBook.build(ps, ss)
    sent = {mid: filing.SentTo(patient_id=pid) for mid, pid in sent_map.items()}
    d = filing.decide(sender, thread, auto, book, sent, ["practice@x.test"])
    by_address = [p["id"] for p in ps if p["email"] and normalise_address(p["email"]) == normalise_address(sender)]
    if d.patient_id:
        threaded = any(sent.get(m) and sent[m].patient_id == d.patient_id for m in thread)
        assert threaded or by_address == [d.patient_id]  # exactly one match, or the thread says so
        assert not auto
    if len(by_address) > 1 and not any(m in sent for m in thread) and not auto:
        assert d.patient_id == "" and set(d.candidates) == set(by_address)  # shared: never by address alone
    if auto:
        assert not d.filed


def test_own_mail_and_auto_replies_are_not_patient_mail() -> None:
    book = filing.AddressBook.build([{"id": "P1", "email": "practice@x.test"}], [])
    assert filing.decide("Practice@X.test", [], False, book, {}, ["practice@x.test"]).tags == ["Own"]
    assert filing.decide("pat@x.test", [], True, book, {}, []).tags == ["Auto-reply"]


def test_specialist_by_address() -> None:
    book = filing.AddressBook.build([], [{"id": "S1", "email": "spec@y.test"}])
    d = filing.decide("spec@y.test", [], False, book, {}, [])
    assert d.specialist_id == "S1" and d.tags == ["Specialist"]
