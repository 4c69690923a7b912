"""Where the practice's signature goes in an email, and when it is already there.

A reader expects the signature under the letter: after the words written for them, before
anything quoted or forwarded below (a reply's "> " lines, a forward's header), and once. A
templated email may already end with the practice's details, or the signature may have been
added before (a draft opened again): then nothing is added. The HTML part gets it too, inside
the body, so both parts of one email say the same. Pure: no files, no clock.
"""

from __future__ import annotations

import re
from html import escape

# lines where quoted or forwarded text begins: the signature goes above the first of them
_QUOTE_STARTS = re.compile(r"^(-{2,}\s*(Forwarded message|Original Message)\s*-{2,}|On .{1,200} wrote:|>)",
                           re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*-{2,3}\s*$")  # the "-- " line that opens a signature
_TAG = re.compile(r"<[^>]*>")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'", "&nbsp;": " "}


def _words(text: str) -> str:
    """The signature's or the body's words for comparing: the separator line dropped, every
    run of white space (any line end, a no-break space) one space."""
    lines = [ln for ln in text.splitlines() if not _SEPARATOR.match(ln)]
    return " ".join(" ".join(lines).split())


def present(body: str, signature: str) -> bool:
    """True when the signature's words are already in `body` (in order, spacing aside)."""
    wanted = _words(signature)
    return bool(wanted) and wanted in _words(body)


def html_text(html: str) -> str:
    """An HTML part's words, roughly (tags dropped, the common entities read): enough to tell
    whether a signature is already in it."""
    text = _TAG.sub(" ", html)
    for entity, ch in _ENTITIES.items():
        text = text.replace(entity, ch)
    return text


def add_to_text(body: str, signature: str) -> str:
    """`body` with `signature` under the letter, above any quoted or forwarded text; unchanged
    when the signature is empty or already there."""
    lines = body.splitlines()
    cut = next((n for n, ln in enumerate(lines) if _QUOTE_STARTS.match(ln)), len(lines))
    above = "\n".join(lines[:cut]).rstrip()
    below = "\n".join(lines[cut:])
    if not signature.strip() or present(above, signature):  # a quoted signature is not ours to count
        return body
    sig = signature.strip("\n")
    letter = f"{above}\n\n{sig}" if above else sig
    return f"{letter}\n\n{below}" if below else letter + "\n"


def as_html(signature: str) -> str:
    """A plain-text signature as an HTML paragraph: its words as text, its lines kept."""
    return "<p>" + "<br>".join(escape(ln) for ln in signature.strip("\n").splitlines()) + "</p>"


def add_to_html(html: str, signature_text: str, signature_html: str | None = None) -> str:
    """`html` with the signature (its own HTML when the signature template has one) before the
    end of the body; unchanged when the signature is empty or its words are already there."""
    if not signature_text.strip() or present(html_text(html), signature_text):
        return html
    fragment = signature_html if signature_html and signature_html.strip() else as_html(signature_text)
    ends = list(_BODY_END.finditer(html))
    if ends:
        at = ends[-1].start()
        return html[:at] + fragment + html[at:]
    return html + fragment
