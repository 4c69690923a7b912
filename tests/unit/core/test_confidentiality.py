"""Every confidentiality rule, allowed and refused."""

from __future__ import annotations

from engine.core import confidentiality as c

PAT = c.Person("patient", "P1", "fam@x.test", "F1", "Mrs Ann Lee")
SIBLING = c.Person("patient", "P2", "fam@x.test", "F1", "Tom Lee")
OTHER = c.Person("patient", "P9", "other@x.test", "F9", "Bob Roe")
SPEC = c.Person("specialist", "S1", "spec@y.test", "", "Dr Spec")
PROV = c.Person("provider", "D1", "dr@practice.test", "", "Dr Prov")
STRANGER = c.Person("other", "", "someone@z.test", "", "someone@z.test")


def rules(refused: list) -> set[str]:
    return {r.rule for r in refused}


def test_one_patient_in_to() -> None:
    assert rules(c.check(c.Recipients(to=(PAT, SIBLING)), PAT)) == {c.ONE_PATIENT_IN_TO}
    assert c.check(c.Recipients(to=(PAT,), cc=(SIBLING,)), PAT) == []


def test_copies_only_to_family() -> None:
    assert rules(c.check(c.Recipients(to=(PAT,), bcc=(OTHER,)), PAT)) == {c.FAMILY_ONLY_COPIES}
    assert c.check(c.Recipients(to=(PAT,), cc=(SPEC, PROV)), PAT) == []


def test_attachments_only_to_family_and_clinicians() -> None:
    assert c.check(c.Recipients(to=(SPEC,), cc=(PAT,)), PAT, has_patient_attachment=True) == []
    refused = c.check(c.Recipients(to=(PAT,), cc=(STRANGER,)), PAT, has_patient_attachment=True)
    assert rules(refused) == {c.ATTACHMENT_RECIPIENTS} and "someone@z.test" in refused[0].message
    assert c.check(c.Recipients(to=(PAT,), cc=(STRANGER,)), PAT) == []  # no attachment: a free address is fine


def test_forwarding_outside_the_family() -> None:
    assert rules(c.check(c.Recipients(to=(OTHER,)), PAT, forwarding=True)) == {c.FORWARD_OUTSIDE_FAMILY}
    assert c.check(c.Recipients(to=(SIBLING,)), PAT, forwarding=True) == []


def test_missing_address_is_reported() -> None:
    nobody = c.Person("patient", "P3", "", "F1", "Kid Lee")
    refused = c.check(c.Recipients(to=(nobody,)), nobody)
    assert rules(refused) == {c.NO_ADDRESS} and "Kid Lee" in refused[0].message
