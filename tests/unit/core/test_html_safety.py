"""HTML from strangers: nothing runs, nothing is fetched, links only for those allowed them."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from engine.core.html_safety import sanitise

HOSTILE = """<html><head><style>body{background:url(http://track.example/bg.png)}</style>
<script>alert('x')</script><link rel=stylesheet href=http://track.example/s.css></head>
<body onload="steal()"><p style="background:url(http://track.example/p.png)">Dear practice,</p>
<img src="http://track.example/pixel.gif" width=1 height=1><img src=cid:part1>
<iframe src="http://evil.example/"></iframe><form action="http://evil.example/"><input name=pin></form>
<a href="http://bank.example.evil/login" onclick="x()">my bank</a> <a href="javascript:alert(1)">run</a>
<table><tr><td colspan=2 onmouseover="x()">cell</td></tr></table></body></html>"""


def test_nothing_runs_and_nothing_remote_survives() -> None:
    safe = sanitise(HOSTILE, links=True)
    lowered = safe.html.lower()
    for bad in ("<script", "<style", "<img", "<iframe", "<form", "<input", "<link", "onload", "onclick",
                "onmouseover", "javascript:", "track.example", "style="):
        assert bad not in lowered, bad
    assert safe.removed_remote == 4  # two images, the stylesheet link, the iframe
    assert 'href="http://bank.example.evil/login"' in safe.html and "Dear practice," in safe.html
    assert 'colspan="2"' in safe.html


def test_links_are_plain_text_for_roles_without_hyperlinks() -> None:
    safe = sanitise(HOSTILE, links=False)
    assert "href" not in safe.html and "my bank" in safe.html and not safe.links_kept


_TOKENS = [*"<>/=\"' abcdefghimprstuvxyz:.()", "script", "img", "src", "http", "onload", "style", "href", "a "]


@given(st.lists(st.sampled_from(_TOKENS), max_size=120).map("".join))
def test_no_markup_at_all_can_bring_back_a_script_or_a_remote_fetch(html: str) -> None:
    out = sanitise(html, links=True).html.lower()
    assert "<script" not in out and "<img" not in out and "<style" not in out
    assert not re.search(r"<[^>]*\son\w*\s*=", out)  # no event handler attribute survives
    assert not re.search(r"<[^>]*\b(src|style)\s*=", out)
