"""A template's mistakes in the practice's words, with where they are ('Body, line 2: ...'),
instead of the template engine's ('expected token 'end of print statement', got 'x'')."""

from __future__ import annotations

import re

from engine.errors import Problem

FIELD = "a merge field is written like {{ patient.first_name }}"
PARTS = {"subject": "Subject", "body": "Body", "html": "Formatted version", "code": "Code"}
# (what the template engine says, what the practice is told, "{0}" the part quoted); the first that matches
WORDS: tuple[tuple[str, str], ...] = (
    (r"unexpected end of template, expected 'end of print statement'", "a merge field is opened with {{ "
     "but never closed with }}"),
    (r"expected token 'end of print statement', got '([^']*)'", "the merge field has \"{0}\" after its name: "
     + FIELD),
    (r"Expected an expression, got 'end of print statement'", "the {{ }} is empty: " + FIELD),
    (r"looking for the following tags: .*'end(\w+)'", "an {% {0} %} is never closed with {% end{0} %}"),
    (r"Encountered unknown tag 'end(\w+)'", "an {% end{0} %} without its {% {0} %} before it"),
    (r"Encountered unknown tag '([^']*)'", "{% {0} %} is not something a template can do (if, else, endif)"),
    (r"unexpected char '([^']*)'", "\"{0}\" cannot be part of a merge field: " + FIELD),
    (r"unexpected '([^']*)'", "a stray \"{0}\": " + FIELD),
    (r"expected token '[^']*', got '([^']*)'", "\"{0}\" is not where it should be: " + FIELD),
)


# the template engine's names for its markers, as they are typed
MARKERS = {"end of print statement": "}}", "end of statement block": "%}", "begin of print statement": "{{",
           "begin of statement block": "{%", "end of template": "the end of the text", "begin of comment": "{#",
           "end of comment": "#}", "name": "a name", "operator": "a sign"}


def plain_words(message: str) -> str:
    """The engine's message, reworded when it is the template engine's."""
    if not message.startswith("syntax error:"):
        return message
    for pattern, words in WORDS:
        found = re.search(pattern, message)
        if found:
            if not found.groups():
                return words
            return words.replace("{0}", MARKERS.get(found.group(1), found.group(1)))
    return "the {{ }} or {% %} markers are not written correctly: " + FIELD


def problem_text(p: Problem) -> str:
    """'Body, line 2: the merge field has "x" after its name: ...'."""
    part = PARTS.get(p.column or "", (p.column or "").capitalize())
    where = ", ".join(x for x in (part, f"line {p.row}" if p.row is not None else "") if x)
    return f"{where}: {plain_words(p.message)}" if where else plain_words(p.message)
