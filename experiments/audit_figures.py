"""Tornado figures of an assumption audit: how far each assumption moves one conclusion.

One figure per comparison and indicator (``figures/tornado_<comparison>_<indicator>.png``):
for every audited assumption a bar from the difference at the base values to the difference
at the low end of its range (one colour) and to that at the high end (another), sorted by
swing with the largest on top. A vertical line marks the base difference, a dashed one zero;
the shaded side is where the conclusion is reversed or halved, and a flagged assumption's
name is drawn in red with a ``*``. Drawn on :class:`matplotlib.figure.Figure` with the Agg
canvas, like the report's figures (no pyplot, no global backend change).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.params import show_value

LOW_COLOUR = "#4c72b0"
HIGH_COLOUR = "#dd8452"
FLAG_COLOUR = "#c0392b"
MAX_BARS = 40
"""Assumptions drawn in one figure (the largest swings; every one is in ``audit.csv``)."""


def tornado_name(slug: str, indicator: str) -> str:
    """The file name of one tornado figure."""
    return f"tornado_{slug}_{indicator}.png"


def tornado_rows(sub: pd.DataFrame) -> pd.DataFrame:
    """One row per assumption: differences and changes at both ends, sorted by swing.

    Args:
        sub: The audit rows of one comparison and indicator (see
            :func:`experiments.audit_stats.audit_table`).

    Returns:
        Columns ``parameter, low, high, value_low, value_high, change_low, change_high,
        swing, flag``, the largest swing first.
    """
    wide = []
    for name, group in sub.groupby("parameter", sort=False):
        by_end = group.set_index("end")
        wide.append({"parameter": name,
                     "low": float(by_end.loc["low", "diff"]),
                     "high": float(by_end.loc["high", "diff"]),
                     "value_low": by_end.loc["low", "value"],
                     "value_high": by_end.loc["high", "value"],
                     "change_low": by_end.loc["low", "change"],
                     "change_high": by_end.loc["high", "change"],
                     "swing": float(by_end["swing"].iloc[0]),
                     "flag": bool(group["flag"].any())})
    frame = pd.DataFrame(wide)
    if frame.empty:
        return frame
    frame["_s"] = frame["swing"].fillna(-1.0)
    return frame.sort_values("_s", ascending=False, kind="stable").drop(columns="_s") \
        .reset_index(drop=True)


def figure_tornado(sub: pd.DataFrame, path: Path, title: str, xlabel: str) -> Path:
    """Draw the tornado figure of one comparison and indicator.

    Args:
        sub: The audit rows of that comparison and indicator.
        path: The PNG file to write.
        title: The figure's title.
        xlabel: The x axis label (the difference and its unit).

    Returns:
        ``path``.
    """
    rows = tornado_rows(sub).head(MAX_BARS)
    base = float(sub["base_diff"].iloc[0]) if len(sub) else math.nan
    n = max(len(rows), 1)
    fig = Figure(figsize=(8.0, max(2.6, 0.32 * n + 1.6)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    centre = base if math.isfinite(base) else 0.0
    for yi, row in zip(y, rows.itertuples(index=False), strict=True):
        ends = sorted((("low", LOW_COLOUR), ("high", HIGH_COLOUR)),  # the longer bar below
                      key=lambda e: -abs(getattr(row, e[0]) - centre)
                      if math.isfinite(getattr(row, e[0])) else 0.0)
        for end, colour in ends:
            value = getattr(row, end)
            if not math.isfinite(value):
                continue
            changed = bool(getattr(row, f"change_{end}"))
            ax.barh(yi, value - centre, left=centre, height=0.6, color=colour,
                    edgecolor=FLAG_COLOUR if changed else colour,
                    linewidth=1.6 if changed else 0.5, hatch="//" if changed else None)
    labels = [f"{r.parameter} ({show_value(r.value_low)}..{show_value(r.value_high)})"
              + (" *" if r.flag else "") for r in rows.itertuples(index=False)]
    ax.set_yticks(y, labels, fontsize=8)
    for tick, row in zip(ax.get_yticklabels(), rows.itertuples(index=False), strict=True):
        if row.flag:
            tick.set_color(FLAG_COLOUR)
            tick.set_fontweight("bold")
    _limits_and_zone(ax, rows, base)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    handles = [Patch(color=LOW_COLOUR, label="low end"),
               Patch(color=HIGH_COLOUR, label="high end"),
               Patch(facecolor="white", edgecolor=FLAG_COLOUR, hatch="//",
                     label="* changes the conclusion"),
               Patch(color=FLAG_COLOUR, alpha=0.12, label="reversed or halved"),
               Line2D([], [], color="black", label="base difference")]
    fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncol=5,
               frameon=False)
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def _limits_and_zone(ax: Axes, rows: pd.DataFrame, base: float) -> None:
    """Axis limits around the bars, zero and the base; shade where the conclusion changes."""
    values = [0.0] + ([base] if math.isfinite(base) else [])
    if len(rows):
        values += [v for v in (*rows["low"], *rows["high"]) if math.isfinite(v)]
    lo, hi = min(values), max(values)
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    lo, hi = lo - pad, hi + pad
    ax.set_xlim(lo, hi)
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
    if math.isfinite(base) and base != 0:
        ax.axvline(base, color="black", linewidth=1.2)
        zone = (lo, base / 2) if base > 0 else (base / 2, hi)
        ax.axvspan(*zone, color=FLAG_COLOUR, alpha=0.12, zorder=0)
    ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax.grid(axis="x", alpha=0.3)
