"""HTML from incoming mail, made safe to show at the front desk.

An email's HTML is written by a stranger. Before the kiosk shows it (and only to
roles allowed HTML at all) it goes through nh3, an allow-list sanitiser: no
scripts, no styles, no forms, no event handlers. Nothing remote is ever loaded:
images, and anything else that would fetch from the sender's server (a read
receipt by another name), are removed and counted, so the view can say so.
Links keep their address only for roles allowed to follow them; for the others
they become plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3

# the structure of a letter; no img, no media, no forms, no embedded anything
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
TABLE_ATTRIBUTES = {"colspan", "rowspan", "align"}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_REMOTE = re.compile(r"<\s*(img|image|video|audio|iframe|object|embed|source|link)\b", re.I)


@dataclass(frozen=True)
class SafeHtml:
    html: str
    removed_remote: int  # images and other things that would have been fetched from elsewhere
    links_kept: bool


def sanitise(html: str, links: bool) -> SafeHtml:
    """`links`: keep link addresses (the role may follow hyperlinks); otherwise links are text."""
    attributes: dict[str, set[str]] = {"td": set(TABLE_ATTRIBUTES), "th": set(TABLE_ATTRIBUTES)}
    if links:
        attributes["a"] = {"href", "title"}
    clean = nh3.clean(html, tags=set(TAGS), attributes=attributes, url_schemes=set(URL_SCHEMES),
                      link_rel="noopener noreferrer" if links else None, strip_comments=True)
    return SafeHtml(clean, len(_REMOTE.findall(html)), links)
