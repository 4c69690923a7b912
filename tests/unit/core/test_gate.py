"""The one confidentiality gate, pure: mailboxes, families, shared addresses, confirmation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.core import confidentiality as c
from engine.core.addresses import is_valid_address, mailbox_key
from engine.core.directory import Known, validate_rows

PATIENTS = [
    {"id": "P1", "title": "Mrs", "first_name": "Ann", "last_name": "Lee", "email": "lee.family@x.test", "family_id": "F1"},
    {"id": "P2", "first_name": "Tom", "last_name": "Lee", "email": "lee.family@x.test", "family_id": "F1"},
    {"id": "P3", "first_name": "Kit", "last_name": "Lee", "email": "kit.lee@gmail.com", "family_id": "F1"},
    {"id": "P9", "first_name": "Bob", "last_name": "Roe", "email": "bob.roe@x.test", "family_id": "F9"},
    {"id": "P8", "first_name": "Sue", "last_name": "Alone", "email": "sue@x.test", "family_id": ""},
]
SPECIALISTS = [{"id": "S1", "title": "Dr", "last_name": "Spec", "email": "spec@clinic.test"}]
BOOK = c.Book.build(PATIENTS, [], SPECIALISTS)


def gate(to: list[str], cc: list[str] = (), bcc: list[str] = (), attachment: bool = False,
         about: c.About = c.NOBODY) -> set[str]:
    return {r.rule for r in c.gate(to, list(cc), list(bcc), attachment, about, BOOK).refused}


def test_mailbox_key_folds_case_tags_and_gmail() -> None:
    assert mailbox_key("Bob.Roe+Dentist@X.TEST") == mailbox_key("bob.roe@x.test")
    assert mailbox_key("K.I.T.Lee+x@GoogleMail.com") == mailbox_key("kit.lee@gmail.com") == "kitlee@gmail.com"
    assert mailbox_key("bob.roe@x.test") != mailbox_key("bobroe@x.test")  # dots matter outside Gmail
    assert mailbox_key("<Sue@X.test>") == "sue@x.test"


def test_two_patients_of_different_families_in_to() -> None:
    assert gate(["lee.family@x.test", "bob.roe@x.test"]) >= {c.ONE_PATIENT_IN_TO}
    assert gate(["lee.family@x.test"], cc=["kit.lee@gmail.com"]) == set()


def test_unrelated_patient_in_cc_even_as_a_variant() -> None:
    assert gate(["lee.family@x.test"], cc=["bob.roe@x.test"]) == {c.FAMILY_ONLY_COPIES}
    assert gate(["lee.family@x.test"], bcc=["BOB.ROE+copy@x.test"]) == {c.FAMILY_ONLY_COPIES}
    assert gate(["Lee.Family+mum@X.test"], about=c.About(("P1",))) == set()


def test_no_patient_context_two_families_copied() -> None:
    assert gate(["stranger@y.test"], cc=["lee.family@x.test", "bob.roe@x.test"]) == {c.FAMILY_ONLY_COPIES}
    assert gate(["stranger@y.test"], cc=["lee.family@x.test"]) == set()


def test_forwarding_patient_mail() -> None:
    fwd = c.About(("P1",), forwarding=True)
    assert gate(["bob.roe@x.test"], attachment=True, about=fwd) == {c.FORWARD_OUTSIDE_FAMILY}
    assert gate(["stranger@y.test"], attachment=True, about=fwd) == {c.FORWARD_OUTSIDE_PRACTICE}
    confirmed = c.About(("P1",), forwarding=True, confirmed_outside=True)
    verdict = c.gate(["stranger@y.test"], [], [], True, confirmed, BOOK)
    assert verdict.refused == () and verdict.confirmed == ("stranger@y.test",)
    assert gate(["bob.roe@x.test"], attachment=True, about=confirmed) == {c.FORWARD_OUTSIDE_FAMILY}  # never
    assert gate(["spec@clinic.test"], attachment=True, about=fwd) == set()
    assert gate(["kit.lee@googlemail.com"], attachment=True, about=fwd) == set()
    assert gate(["anyone@y.test"], attachment=True, about=c.About((), forwarding=True)) == set()  # a stranger's mail


def test_unfiled_mail_from_a_shared_address_belongs_to_the_family() -> None:
    family = c.About(tuple(p.id for p in BOOK.at_mailbox("LEE.FAMILY@x.test")), forwarding=True)
    assert family.patient_ids == ("P1", "P2")
    assert gate(["bob.roe@x.test"], attachment=True, about=family) == {c.FORWARD_OUTSIDE_FAMILY}
    assert gate(["kit.lee@gmail.com"], attachment=True, about=family) == set()


def test_attachments_to_outsiders_need_confirmation() -> None:
    assert gate(["lee.family@x.test"], cc=["friend@y.test"], attachment=True, about=c.About(("P1",))) \
        == {c.ATTACHMENT_RECIPIENTS}
    assert gate(["lee.family@x.test"], cc=["friend@y.test"], attachment=True,
                about=c.About(("P1",), confirmed_outside=True)) == set()


def test_one_error_names_every_rule() -> None:
    verdict = c.gate(["lee.family@x.test", "bob.roe@x.test"], ["sue@x.test"], [], False, c.NOBODY, BOOK)
    try:
        verdict.raise_if_refused()
    except c.RuleRefused as exc:
        assert exc.rule == c.ONE_PATIENT_IN_TO
        assert c.ONE_PATIENT_IN_TO in exc.message and c.FAMILY_ONLY_COPIES in exc.message
    else:
        raise AssertionError("refused drafts must raise")


# -- properties ---------------------------------------------------------------------------------

_local = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z0-9]{1,5})?", fullmatch=True)
_domain = st.sampled_from(["x.test", "mail.example", "gmail.com", "googlemail.com"])
_variant = st.tuples(st.sampled_from(["", "+tag", "+a.b-c"]), st.booleans())


@given(_local, _domain, _variant)
def test_case_and_tag_variants_of_a_patients_address_are_that_patient(local: str, domain: str,
                                                                     variant: tuple[str, bool]) -> None:
    tag, upper = variant
    address = f"{local}@{domain}"
    book = c.Book.build([{"id": "P1", "email": address, "family_id": "F1"}])
    typed = f"{local}{tag}@{domain}"
    typed = typed.upper() if upper else typed
    assert book.person(typed).id == "P1"
    assert mailbox_key(mailbox_key(typed)) == mailbox_key(typed)


_families = st.lists(st.sampled_from(["F1", "F2", "F3", ""]), min_size=2, max_size=6)


@given(_families, st.data())
def test_no_draft_about_a_patient_reaches_a_patient_of_another_family(families: list[str], data: st.DataObject) -> None:
    patients = [{"id": f"P{i}", "email": f"p{i}@x.test", "family_id": f} for i, f in enumerate(families)]
    book = c.Book.build(patients)
    about = data.draw(st.sampled_from(patients))
    others = data.draw(st.lists(st.sampled_from(patients), min_size=1, max_size=4))
    field_ = data.draw(st.sampled_from(["to", "cc", "bcc"]))
    forwarding, confirmed, attachment = data.draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    tag = data.draw(st.sampled_from(["", "+x"]))
    addresses = [r["email"].replace("@", tag + "@").upper() for r in others]
    to = ["p-self@x.test"] if field_ != "to" else []
    verdict = c.gate([*to, *addresses] if field_ == "to" else [about["email"]],
                     addresses if field_ == "cc" else [], addresses if field_ == "bcc" else [],
                     attachment, c.About((about["id"],), forwarding, confirmed), book)

    def household(r: dict) -> str:
        return r["family_id"] or "#" + r["id"]

    strangers = [r for r in others if household(r) != household(about)]
    assert bool(strangers) <= bool(verdict.refused)
    if strangers:
        expected = c.FORWARD_OUTSIDE_FAMILY if forwarding else c.FAMILY_ONLY_COPIES
        assert expected in {r.rule for r in verdict.refused}


# -- the import rule ----------------------------------------------------------------------------

def _rows(*rows: dict) -> list[tuple[int, dict]]:
    return [(n, {"first_name": "A", "last_name": "B", **r}) for n, r in enumerate(rows, start=2)]


def test_import_refuses_one_address_across_two_families_naming_row_and_column() -> None:
    _, problems = validate_rows("patients", _rows({"id": "A1", "email": "home@x.test", "family_id": "F1"},
                                                  {"id": "B1", "email": "Home+b@X.test", "family_id": "F2"}), Known())
    assert {(p.row, p.column) for p in problems} == {(2, "email"), (3, "email")}
    assert "shared_address" in problems[0].message and "B1" in problems[0].message
    _, problems = validate_rows("patients", _rows({"id": "A1", "email": "home@x.test", "family_id": "F1"},
                                                  {"id": "A2", "email": "home@x.test", "family_id": "F1"}), Known())
    assert problems == []  # one family may share
    _, problems = validate_rows("patients", _rows(
        {"id": "A1", "email": "home@x.test", "family_id": "F1", "shared_address": "yes"},
        {"id": "B1", "email": "home@x.test", "family_id": "F2", "shared_address": "YES"}), Known())
    assert problems == []  # said so explicitly


def test_import_checks_against_patients_already_in_the_practice() -> None:
    existing = [{"id": "P9", "email": "bob.roe@x.test", "family_id": "F9"}]
    _, problems = validate_rows("patients", _rows({"id": "N1", "email": "BOB.ROE@x.test"}), Known(),
                                existing_patients=existing)
    assert [(p.row, p.column) for p in problems] == [(2, "email")] and "P9" in problems[0].message
    _, problems = validate_rows("patients", _rows({"id": "N1", "email": "bob.roe@x.test", "shared_address": "maybe"}),
                                Known(), existing_patients=existing)
    assert {p.column for p in problems} == {"shared_address", "email"}


def test_is_valid_address_unchanged_for_plain_addresses() -> None:
    assert is_valid_address("ann+tag@example.org") and not is_valid_address("ann@")


@given(st.text(max_size=300))
def test_mailbox_key_takes_any_text(text: str) -> None:
    key = mailbox_key(text)
    assert mailbox_key(key) == key or "@" not in key  # idempotent on anything address-shaped


def test_unicode_domains_are_their_dns_form() -> None:
    assert mailbox_key("Ann@Bücher.example") == mailbox_key("ann@xn--bcher-kva.example")


def test_a_shared_address_opens_only_itself() -> None:
    """Families F1 and F2 knowingly share home@; F2's Zed has his own address too."""
    book = c.Book.build([{"id": "A", "email": "home@x.test", "family_id": "F1", "shared_address": "yes"},
                         {"id": "B", "email": "home@x.test", "family_id": "F2", "shared_address": "yes"},
                         {"id": "Z", "email": "zed@x.test", "family_id": "F2"}])
    about_a = c.About(("A",))
    assert c.gate(["home@x.test"], [], [], True, about_a, book).refused == ()  # A's own address
    assert {r.rule for r in c.gate(["home@x.test"], ["zed@x.test"], [], False, about_a, book).refused} \
        == {c.FAMILY_ONLY_COPIES}  # Zed is F2: he may read home@, not A's mail at his own address
    assert c.gate(["zed@x.test"], ["home@x.test"], [], False, c.About(("Z",)), book).refused == ()


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["F1", "F2", ""])),
                min_size=1, max_size=8), st.data())
def test_allowed_mail_about_a_patient_reaches_only_mailboxes_of_their_family(rows: list[tuple[str, str]],
                                                                           data: st.DataObject) -> None:
    """With addresses shared any way at all: whatever the gate allows about P goes only to
    mailboxes where someone of P's family (or P) is, or to non-patients."""
    patients = [{"id": f"P{i}", "email": f"{box}@x.test", "family_id": fam} for i, (box, fam) in enumerate(rows)]
    book = c.Book.build(patients)
    about = data.draw(st.sampled_from(patients))
    recipients = data.draw(st.lists(st.sampled_from(["a", "b", "c", "d", "z"]), min_size=1, max_size=4))
    addresses = [f"{r.upper()}+t@x.test" for r in recipients]
    verdict = c.gate(addresses[:1], addresses[1:], [], data.draw(st.booleans()), c.About((about["id"],)), book)
    if verdict.refused:
        return
    home = about["family_id"] or "#" + about["id"]
    for r in recipients:
        there = [p for p in patients if p["email"] == f"{r}@x.test"]
        assert not there or any((p["family_id"] or "#" + p["id"]) == home for p in there)
