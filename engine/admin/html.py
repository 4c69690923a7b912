"""One self-contained HTML file for a run: inline CSS, no scripts, everything escaped."""

from __future__ import annotations

import base64
import html
import platform
from datetime import datetime
from typing import Any

from engine import __version__
from engine.admin.runner import CellResult

CSS = """
body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;color:#1d2430}
header{border-bottom:2px solid #2f6f8f;margin-bottom:1em}header small{color:#5a6472}
.cell{margin:1em 0}.n{color:#888;font-size:.8em;margin:0}.md h1{font-size:1.5em}.md h2{font-size:1.15em;color:#2f6f8f}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border:1px solid #cfd6de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f6}pre{background:#f5f7f9;padding:8px;overflow-x:auto;white-space:pre-wrap}
.error pre{background:#fdecec;color:#8a1c1c}.status{padding:8px;border-left:6px solid #2f6f8f;background:#eef6fa}
.state-refused,.state-skipped{color:#8a6d1c}
"""


def _md(text: str) -> str:
    out = []
    for line in text.splitlines():
        esc = html.escape(line)
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            out.append(f"<p>{esc}</p>".replace("`", ""))
    return "\n".join(out)


def _table(rows: list[dict[str, Any]]) -> str:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_s(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def render(title: str, digest: str, results: list[CellResult], now: datetime) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><header><h1>{html.escape(title)}</h1><small>practicemail "
             f"{html.escape(__version__)} &middot; {html.escape(now.isoformat(timespec='seconds'))} &middot; runbook "
             f"{html.escape(digest)} &middot; {html.escape(platform.platform())}</small></header>"]
    for res in results:
        parts.append(f"<div class='cell state-{html.escape(res.state)}'>")
        if res.cell.kind != "markdown":
            parts.append(f"<p class='n'>cell {res.cell.index + 1}</p>")
        if res.cell.action:
            parts.append(f"<p><b>Action:</b> {html.escape(res.cell.title)} ({html.escape(res.state)})</p>")
        for out in res.outputs:
            if out.kind == "markdown":
                parts.append(f"<div class='md'>{_md(out.data)}</div>")
            elif out.kind in ("kv", "status"):
                rows = "".join(f"<tr><th>{html.escape(_s(k))}</th><td>{html.escape(_s(v))}</td></tr>"
                               for k, v in (out.data.items() if isinstance(out.data, dict) else []))
                cls = " class='status'" if out.kind == "status" else ""
                parts.append(f"<div{cls}><table>{rows}</table></div>")
            elif out.kind == "table":
                parts.append(_table(out.data))
            elif out.kind == "image":
                data = base64.b64encode(out.data).decode("ascii")
                parts.append(f"<img alt='figure' src='data:image/png;base64,{data}'>")
            elif out.kind == "error":
                parts.append(f"<div class='error'><pre>{html.escape(_s(out.data))}</pre></div>")
            else:
                parts.append(f"<pre>{html.escape(_s(out.data))}</pre>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
