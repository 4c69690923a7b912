"""Email templates: the merge-field catalogue, the checker, and rendering.

Templates are Jinja2, rendered in a SandboxedEnvironment with StrictUndefined
(HTML with autoescape). On top of the sandbox, a template is checked when it
is saved: only `{{ group.field }}` names from the catalogue, `{% if %}` on
them, and a few harmless filters. Calls, subscripts, attribute walking
(`''.__class__`), loops, macros, imports and unknown names are refused with
the line they are on. Pure: no files; the service layer reads them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import Problem, TemplateInvalid

CODE = re.compile(r"^[A-Z0-9_-]{1,32}$")
_TEXT_UNSENDABLE = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default"})


@dataclass(frozen=True)
class MergeField:
    name: str  # dotted, e.g. patient.first_name
    description: str
    sample: str
    sms: bool = True  # makes sense in a text message (offered and allowed in SMS templates)

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]


def _f(name: str, description: str, sample: str, sms: bool = True) -> MergeField:
    return MergeField(name, description, sample, sms)


CATALOGUE: tuple[MergeField, ...] = (
    _f("patient.title", "Patient's title", "Mrs"),
    _f("patient.first_name", "Patient's first name", "Zoë"),
    _f("patient.last_name", "Patient's last name", "O'Brien"),
    _f("patient.email", "Patient's email address", "zoe.obrien@patientmail.example", sms=False),
    _f("patient.id", "Patient's id in the practice", "P017"),
    _f("family.name", "The family's name", "O'Brien"),
    _f("provider.title", "Provider's title", "Dr"),
    _f("provider.first_name", "Provider's first name", "Amara"),
    _f("provider.last_name", "Provider's last name", "Okafor"),
    _f("specialist.title", "Specialist's title", "Mr"),
    _f("specialist.first_name", "Specialist's first name", "Rajesh"),
    _f("specialist.last_name", "Specialist's last name", "Banerjee"),
    _f("practice.name", "The practice's name", "Bright Smile Dental"),
    _f("practice.email", "The practice's email address", "reception@brightsmile.example"),
    _f("practice.phone", "The practice's phone number", "01225 555 010"),
    _f("practice.address", "The practice's address", "14 River Street, Bathwick, BA2 4QR"),
    _f("appointment.date", "Appointment date, e.g. Thursday 3 December 2026", "Thursday 3 December 2026"),
    _f("appointment.time", "Appointment time, e.g. 14:00", "14:00"),
    _f("appointment.minutes", "Appointment length in minutes", "30"),
    _f("appointment.provider", "Who the appointment is with", "Dr Amara Okafor"),
    _f("appointment.location", "Where the appointment is", "Riverside Surgery"),
    _f("location.name", "The patient's preferred location", "Riverside Surgery"),
    _f("location.address", "That location's address", "14 River Street, Bathwick, BA2 4QR"),
    _f("location.phone", "That location's phone number", "01225 555 010"),
    # a personal link made per email by the booking provider when the email is sent: never in a text
    _f("booking.link", "Online booking link", "https://book.example.test/abc123", sms=False),
)
FIELDS: dict[str, MergeField] = {f.name: f for f in CATALOGUE}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(f.group for f in CATALOGUE))


def fields_for(kind: str) -> tuple[MergeField, ...]:
    """The merge fields a template of this kind may use (a text message: those flagged `sms`)."""
    return tuple(f for f in CATALOGUE if f.sms) if kind == SMS else CATALOGUE


EMAIL, SMS = "email", "sms"  # a template's kind: an email (subject, body, html) or a text (body only)


@dataclass
class Template:
    code: str
    description: str = ""
    category: str = ""
    subject: str = ""
    body: str = ""
    html: str | None = None
    kind: str = EMAIL

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "category": self.category,
                "subject": self.subject, "body": self.body, "html": self.html, "kind": self.kind}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Template":
        return cls(code=str(d.get("code", "")), description=str(d.get("description", "")),
                   category=str(d.get("category", "")), subject=str(d.get("subject", "")),
                   body=str(d.get("body", "")), html=(str(d["html"]) if d.get("html") else None),
                   kind=str(d.get("kind") or EMAIL))


def _env(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True)


_TEXT_ENV = _env(False)
_HTML_ENV = _env(True)


def _walk(node: nodes.Node, part: str, problems: list[Problem], used: set[str]) -> None:
    """Allow only Output/TemplateData/If/dotted catalogue names/constants/whitelisted filters."""
    line = getattr(node, "lineno", None)
    if isinstance(node, nodes.Getattr):
        dotted = _dotted(node)
        if dotted is None or dotted not in FIELDS:
            name = dotted or f"...{node.attr}"
            problems.append(Problem(line, part, f"{{{{ {name} }}}} is not a merge field"))
        else:
            used.add(dotted)
        return
    if isinstance(node, nodes.Name):
        problems.append(Problem(line, part, f"{{{{ {node.name} }}}} is not a merge field (use a group, like patient.first_name)"))
        return
    if isinstance(node, nodes.Filter):
        if node.name not in ALLOWED_FILTERS:
            problems.append(Problem(line, part, f"the filter |{node.name} is not allowed"))
        if node.args and node.name != "default":
            problems.append(Problem(line, part, f"the filter |{node.name} takes no arguments here"))
        for arg in node.args:
            if not isinstance(arg, nodes.Const):
                problems.append(Problem(line, part, "a filter argument must be plain text"))
        if node.node is not None:
            _walk(node.node, part, problems, used)
        return
    if isinstance(node, (nodes.Call, nodes.Getitem, nodes.Slice, nodes.For, nodes.Macro, nodes.CallBlock,
                         nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends, nodes.Assign,
                         nodes.AssignBlock, nodes.FilterBlock, nodes.With, nodes.Block, nodes.Test, nodes.ExprStmt)):
        problems.append(Problem(line, part, f"{type(node).__name__.lower()} is not allowed in a template"))
        return
    if not isinstance(node, (nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Const, nodes.Not,
                             nodes.And, nodes.Or, nodes.Compare, nodes.Operand, nodes.CondExpr, nodes.Concat)):
        problems.append(Problem(line, part, f"{type(node).__name__.lower()} is not allowed in a template"))
        return
    for child in node.iter_child_nodes():
        _walk(child, part, problems, used)


def _dotted(node: nodes.Node) -> str | None:
    parts = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


def check(t: Template) -> list[Problem]:
    """Every problem, each with its part (subject/body/html) and line."""
    problems: list[Problem] = []
    if not CODE.match(t.code):
        problems.append(Problem(None, "code", f"{t.code!r} is not a template code (A-Z, 0-9, _ and -, up to 32)"))
    if "\n" in t.subject or "\r" in t.subject:
        problems.append(Problem(1, "subject", "the subject must be one line"))
    problems += _kind_problems(t)
    for part, text, env in (("subject", t.subject, _TEXT_ENV), ("body", t.body, _TEXT_ENV),
                            ("html", t.html or "", _HTML_ENV)):
        try:
            tree = env.parse(text)
            _walk(tree, part, problems, set())
        except TemplateSyntaxError as exc:
            problems.append(Problem(exc.lineno, part, f"syntax error: {exc.message}"))
        except RecursionError:  # ~1,000 chained `and`s exhaust the parser's (and our walk's) stack
            problems.append(Problem(_busiest_line(text), part,
                                    "the template is too deeply nested (split the condition into simpler ones)"))
    return problems


def _kind_problems(t: Template) -> list[Problem]:
    """A text message has words only: no subject, no formatted part, and some words."""
    if t.kind not in (EMAIL, SMS):
        return [Problem(None, "kind", f"{t.kind!r} is not a template kind (email or sms)")]
    if t.kind != SMS:
        return []
    problems = []
    if t.subject.strip():
        problems.append(Problem(1, "subject", "a text message has no subject"))
    if t.html:
        problems.append(Problem(1, "html", "a text message has no formatted part"))
    if not t.body.strip():
        problems.append(Problem(1, "body", "a text message needs some words"))
    for n, line in enumerate(t.body.split("\n"), 1):
        if _TEXT_UNSENDABLE.search(line):  # the SMS rules refuse such a text when it is queued
            problems.append(Problem(n, "body", "a text message cannot carry a control or direction character"))
            break
    for name in sorted(fields_used(t)):
        if not FIELDS[name].sms:
            problems.append(Problem(_line_of(t.body, name), "body", f"{{{{ {name} }}}} cannot be used in a text "
                                    "message (it only makes sense in an email)"))
    return problems


def _line_of(text: str, name: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        if name in line:
            return n
    return None


def _busiest_line(text: str) -> int:
    """The line most likely to blame for a too-deep template: the most operators and brackets."""
    lines = text.splitlines() or [""]
    scores = [len(re.findall(r"\b(?:and|or|not)\b|[(\[|]", line)) for line in lines]
    return scores.index(max(scores)) + 1


def require_valid(t: Template) -> None:
    problems = check(t)
    if problems:
        raise TemplateInvalid(f"template {t.code!r} was not saved", problems)


def fields_used(t: Template) -> set[str]:
    return set(_fields_used(t.subject, t.body, t.html or ""))


@functools.lru_cache(maxsize=256)
def _fields_used(subject: str, body: str, html: str) -> frozenset[str]:
    used: set[str] = set()
    for text, env in ((subject, _TEXT_ENV), (body, _TEXT_ENV), (html, _HTML_ENV)):
        try:
            _walk(env.parse(text), "x", [], used)
        except (TemplateSyntaxError, RecursionError):
            pass
    return frozenset(used)


def sample_context() -> dict[str, dict[str, str]]:
    ctx: dict[str, dict[str, str]] = {}
    for f in CATALOGUE:
        group, name = f.name.split(".", 1)
        ctx.setdefault(group, {})[name] = f.sample
    return ctx


@dataclass
class Rendered:
    subject: str
    body: str
    html: str | None = None
    missing: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Any:
    """Compiling is most of a render's cost; a mass email renders one template thousands of times."""
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


def render(t: Template, context: Mapping[str, Mapping[str, str]]) -> Rendered:
    """Fill a checked template. Every catalogue field exists in the context (empty when unknown),
    so StrictUndefined only fires on a template that skipped the checker."""
    full: dict[str, dict[str, str]] = {g: {} for g in GROUPS}
    for f in CATALOGUE:
        group, name = f.name.split(".", 1)
        full[group][name] = str((context.get(group) or {}).get(name, "") or "")
    missing = sorted(name for name in fields_used(t) if not full[name.split(".")[0]][name.split(".")[1]])
    try:
        subject = _compiled(False, t.subject).render(full)
        body = _compiled(False, t.body).render(full)
        html = _compiled(True, t.html).render(full) if t.html else None
    except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
        raise TemplateInvalid(f"template {t.code!r} cannot be used: {exc}",
                              hint="Check the template with `templates check`.") from exc
    subject = re.sub(r"[\r\n\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00]+", " ", subject).strip()
    return Rendered(subject, body, html, missing)
