"""The summary panel as HTML: the current indicators of one run, or of A, B and B - A."""

from __future__ import annotations

import html

import numpy as np

from viz.formatting import format_value
from viz.live import INDICATORS
from viz.session import Session


def summary_html(session: Session) -> str:
    """The summary panel as an HTML table (one value column, or A, B and B - A)."""
    head_style = "text-align:left;padding:2px 8px;border-bottom:1px solid #ccc"
    cell = "padding:1px 8px;text-align:right;font-variant-numeric:tabular-nums"
    if not session.sims:
        return "<p>No run yet.</p>"
    if session.compare:
        a, b = session.sims
        cols = [html.escape(a.label), html.escape(b.label), "B &minus; A"]
        rows = []
        for ind, va, vb, diff in session.differences():
            pp = " pp" if ind.percent and np.isfinite(diff) else ""
            rows.append(
                f"<tr><td style='padding:1px 8px'>{html.escape(ind.label)}</td>"
                f"<td style='{cell}'>{format_value(va, ind.digits)}</td>"
                f"<td style='{cell}'>{format_value(vb, ind.digits)}</td>"
                f"<td style='{cell}'>{format_value(diff, ind.digits, signed=True)}{pp}</td>"
                f"<td style='padding:1px 8px;color:#666'>{html.escape(ind.unit)}</td></tr>")
    else:
        s = session.sims[0].stats
        cols = ["value"]
        rows = [
            f"<tr><td style='padding:1px 8px'>{html.escape(ind.label)}</td>"
            f"<td style='{cell}'>{format_value(ind.scale(s[ind.key]), ind.digits)}</td>"
            f"<td style='padding:1px 8px;color:#666'>{html.escape(ind.unit)}</td></tr>"
            for ind in INDICATORS]
    header = "".join(f"<th style='{head_style};text-align:right'>{c}</th>" for c in cols)
    return (f"<table class='grassroots-summary' style='border-collapse:collapse;font-size:13px'>"
            f"<thead><tr><th style='{head_style}'>indicator (since start)</th>{header}"
            f"<th style='{head_style}'>unit</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            f"</table>")
