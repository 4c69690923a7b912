"""A template filled by substitution reads exactly as `templates.render` renders it, for any
values (line breaks, HTML, markers, empty ones), and a template with filters or `if`s is simply
rendered (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.core import templates as tpl
from engine.core.template_fill import Fill
from tests.conftest import ROOT

values = st.sampled_from(["", " ", "Zoë", "<b>&'\"", "a\r\nb", "\n", "\u2028", "\x85", "\t", " x ", "\ue000"
                          "0\ue001", "{{ patient.id }}", "😀", "\u202eevil"]) | st.text(max_size=30)
contexts = st.fixed_dictionaries({g: st.fixed_dictionaries({f.name.split(".")[1]: values for f in tpl.CATALOGUE
                                                            if f.group == g}) for g in tpl.GROUPS})

TEMPLATES = [
    tpl.Template("A", subject="{{ patient.first_name }}{{ patient.last_name }}", body="{{ patient.title }}\n",
                 html="<p>{{ patient.first_name }}</p>"),
    tpl.Template("B", subject="  Hi {{ patient.first_name }}  ",
                 body="Dear {{ family.name }},\r\n\n{{ practice.name }}", html=None),
    tpl.Template("C", subject="{{ location.name }}", body="{{- provider.last_name -}}  x  {{ booking.link }}\n\n",
                 html="{{ practice.address }}&amp;{% raw %}{{ x }}{% endraw %}"),
    tpl.Template("D", subject="{{ patient.first_name|title }}", body="{% if patient.title %}Dear{% endif %} x",
                 html=None),  # filters and ifs: rendered as before
    tpl.Template("E", subject="Recall", body="no fields at all", html="<p>none</p>"),
]


def recall_template() -> tpl.Template:
    import tomllib

    data = tomllib.loads(Path(ROOT / "fixtures" / "demo" / "templates" / "RECALL.toml").read_text("utf-8"))
    return tpl.Template(data["code"], subject=data["subject"], body=data["body"], html=data.get("html"))


@pytest.mark.parametrize("n", range(len(TEMPLATES) + 1))
@settings(max_examples=150, deadline=None)
@given(ctx=contexts)
def test_filled_reads_as_rendered(n: int, ctx: dict[str, dict[str, str]]) -> None:
    t = TEMPLATES[n] if n < len(TEMPLATES) else recall_template()
    assert Fill(t)(ctx) == tpl.render(t, ctx)


def test_which_templates_are_filled_by_substitution() -> None:
    assert [Fill(t)._plain for t in TEMPLATES] == [True, True, True, False, True]
    assert Fill(recall_template())._plain
    assert not Fill(tpl.Template("X", subject="a\n{{ patient.id }}", body="b"))._plain  # a line break in it
    assert not Fill(tpl.Template("X", subject="s", body="\ue0000\ue001"))._plain  # a marker in the text
