"""One template filled for thousands of recipients: rendered once, then filled by substitution.

Why: a recall run renders one template per patient, and three sandboxed Jinja renders cost as
much as building the message (issue 18). A template whose parts are only text and plain
`{{ group.field }}` outputs (no filter, no `if`: checked on its syntax tree) is rendered once
through `templates.render` itself with a marker in place of each field; each recipient's copy is
then the text between the markers with the values put in, escaped in HTML as Jinja's autoescape
escapes them, and the subject cleaned as `render` cleans it. Anything else (or a subject value
with a line break, where `render`'s cleaning could join runs across values) is rendered by
`templates.render` as before. tests/unit/core/test_template_fill.py holds the two to the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from jinja2 import Environment, nodes
from markupsafe import escape

from engine.core import templates as tpl

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: neither escaping nor cleaning touches them
_MARK = re.compile(f"{_OPEN}([0-9]+){_CLOSE}")
_PARSER = Environment()  # for the syntax tree only (the sandbox renders)
_SUBJECT_BREAKS = frozenset("\r\n\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")  # what render's cleaning replaces
Pieces = tuple[str | int, ...]  # text, or the index of a field


def _plain_fields(source: str) -> bool:
    """Only text and `{{ group.field }}` of the catalogue, and no marker character in the text."""
    if _OPEN in source or _CLOSE in source:
        return False
    try:
        tree = _PARSER.parse(source)
    except Exception:  # noqa: BLE001 - anything Jinja cannot parse is left to render
        return False
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return False
        for n in node.nodes:
            if isinstance(n, nodes.TemplateData):
                continue
            if not (isinstance(n, nodes.Getattr) and isinstance(n.node, nodes.Name) and n.ctx == "load"
                    and f"{n.node.name}.{n.attr}" in tpl.FIELDS):
                return False
    return True


def _pieces(text: str) -> Pieces:
    parts = _MARK.split(text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts) if p or i % 2)


class Fill:
    """`fill(context)` == `templates.render(template, context)` for subject, body and html."""

    def __init__(self, template: tpl.Template) -> None:
        self.template = template
        sources = [template.subject, template.body, template.html or ""]
        self._plain = all(_plain_fields(s) for s in sources) and not (set(template.subject) & _SUBJECT_BREAKS)
        self._fields = [f.name.split(".", 1) for f in tpl.CATALOGUE]
        if self._plain:
            marked: dict[str, dict[str, str]] = {g: {} for g in tpl.GROUPS}
            for i, (group, name) in enumerate(self._fields):
                marked[group][name] = f"{_OPEN}{i}{_CLOSE}"
            once = tpl.render(template, marked)
            self._subject, self._body = _pieces(once.subject), _pieces(once.body)
            self._html = _pieces(once.html) if once.html is not None else None
            self._missing = sorted((name, self._fields.index(name.split(".", 1))) for name in tpl.fields_used(template))
            self._used = sorted({p for ps in (self._subject, self._body, self._html or ()) for p in ps
                                 if isinstance(p, int)} | {i for _, i in self._missing})

    def __call__(self, context: Mapping[str, Mapping[str, str]]) -> tpl.Rendered:
        if not self._plain:
            return tpl.render(self.template, context)
        values = {i: str((context.get(self._fields[i][0]) or {}).get(self._fields[i][1], "") or "") for i in self._used}
        if any(ch in _SUBJECT_BREAKS for i in self._subject if isinstance(i, int) for ch in values[i]):
            return tpl.render(self.template, context)
        subject = "".join(p if isinstance(p, str) else values[p] for p in self._subject).strip()
        body = "".join(p if isinstance(p, str) else values[p] for p in self._body)
        html = None if self._html is None else "".join(p if isinstance(p, str) else str(escape(values[p]))
                                                       for p in self._html)
        return tpl.Rendered(subject, body, html, [name for name, i in self._missing if not values[i]])

