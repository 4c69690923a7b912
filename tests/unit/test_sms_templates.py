"""Text-message templates are their own kind: words only, checked like email templates."""

from __future__ import annotations

from engine.core import templates as tpl


def test_an_sms_template_has_no_subject_and_needs_words() -> None:
    problems = tpl.check(tpl.Template("TXT", subject="Hello", body="", kind=tpl.SMS))
    assert {p.column for p in problems} == {"subject", "body"}
    assert tpl.check(tpl.Template("TXT", body="Hi {{ patient.first_name }}", kind=tpl.SMS)) == []


def test_an_sms_template_is_checked_like_an_email_template() -> None:
    problems = tpl.check(tpl.Template("TXT", body="Hi {{ ''.__class__ }}", kind=tpl.SMS))
    assert problems and problems[0].column == "body"


def test_kind_round_trips_and_old_records_are_email() -> None:
    t = tpl.Template("TXT", body="Hi", kind=tpl.SMS)
    assert tpl.Template.from_dict(t.as_dict()) == t
    assert tpl.Template.from_dict({"code": "OLD", "body": "x"}).kind == tpl.EMAIL
    assert tpl.check(tpl.Template("X", body="x", kind="fax"))[0].column == "kind"


def test_fields_that_make_no_sense_in_a_text_are_refused_and_not_offered() -> None:
    offered = {f.name for f in tpl.fields_for(tpl.SMS)}
    assert "booking.link" not in offered and "patient.email" not in offered
    assert "patient.first_name" in offered and "appointment.time" in offered
    assert {f.name for f in tpl.fields_for(tpl.EMAIL)} == set(tpl.FIELDS)
    t = tpl.Template("TXT", body="Hi {{ patient.first_name }}\nBook: {{ booking.link }}", kind=tpl.SMS)
    (problem,) = tpl.check(t)
    assert (problem.column, problem.row) == ("body", 2) and "cannot be used in a text message" in problem.message
    inside = tpl.Template("TXT", body="{% if booking.link %}online{% endif %}", kind=tpl.SMS)
    assert tpl.check(inside)  # in a condition too
    assert tpl.check(tpl.Template("MAIL", subject="x", body="Book: {{ booking.link }}")) == []


def test_a_text_template_with_a_character_no_text_can_carry_is_refused_with_its_line() -> None:
    for bad in ("\u202e", "\u2028", "\x0b", "\u2066"):
        t = tpl.Template("TXT", body=f"Hi\nthere{bad}", kind=tpl.SMS)
        assert [(p.column, p.row) for p in tpl.check(t)] == [("body", 2)]
    assert tpl.check(tpl.Template("TXT", body="Hi\r\nthere £5 €", kind=tpl.SMS)) == []
