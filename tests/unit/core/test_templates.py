"""Templates: only catalogue fields, no sandbox escapes, problems named with their line."""

from __future__ import annotations

import pytest

from engine.core import templates as tpl


def t(body: str, subject: str = "Hello {{ patient.first_name }}", html: str | None = None) -> tpl.Template:
    return tpl.Template("TEST", "d", "c", subject, body, html)


@pytest.mark.parametrize("body", [
    "{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ patient.__class__ }}",
    "{{ config }}", "{{ self }}", "{{ lipsum.__globals__ }}", "{{ cycler.__init__.__globals__.os }}",
    "{{ patient['first_name'] }}", "{{ patient.first_name.upper() }}", "{% for x in patient %}{{ x }}{% endfor %}",
    "{% set x = 1 %}", "{% include 'x' %}", "{% macro m() %}{% endmacro %}", "{{ patient.first_name|attr('x') }}",
    "{{ range(10) }}", "{{ patient.shoe_size }}", "{{ unknown.field }}",
])
def test_escapes_and_unknown_fields_are_refused(body: str) -> None:
    problems = tpl.check(t("line one\n" + body))
    assert problems and all(p.column == "body" for p in problems)
    assert any(p.row == 2 for p in problems)  # the line is named


def test_syntax_error_names_part_and_line() -> None:
    (p,) = tpl.check(t("ok\nok\n{{ patient.first_name ", subject="ok"))
    assert (p.column, p.row) == ("body", 3) and "syntax" in p.message


def test_allowed_template_renders_with_catalogue_fields_and_if() -> None:
    good = t("{% if patient.title %}Dear {{ patient.title }} {{ patient.last_name|upper }}{% else %}Hi{% endif %}",
             html="<p>{{ patient.last_name }}</p>")
    assert tpl.check(good) == []
    r = tpl.render(good, {"patient": {"title": "Mr", "last_name": "<O'Brien>", "first_name": "Sé"}})
    assert r.body == "Dear Mr <O'BRIEN>" and r.subject == "Hello Sé"
    assert r.html == "<p>&lt;O&#39;Brien&gt;</p>"  # HTML is escaped, plain text is not


def test_subject_stays_one_line_whatever_the_data() -> None:
    r = tpl.render(t("x"), {"patient": {"first_name": "Evil\r\nBcc: a@b.c"}})
    assert "\n" not in r.subject and "\r" not in r.subject


def test_every_catalogue_field_has_a_sample_and_description() -> None:
    assert all(f.description and f.sample for f in tpl.CATALOGUE)
    for name in ("patient.title", "family.name", "appointment.date", "location.address", "booking.link"):
        assert name in tpl.FIELDS
