"""The page's figures as image files for download: the map and the live charts (PNG).

The charts in the page are Vega-Lite specifications drawn by the browser; for a file the same
chart data (:func:`viz.charts.chart_series`, and :func:`viz.charts.diff_series` in compare
mode) are drawn with matplotlib (Agg, no pyplot) on the server, one panel per chart.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from viz.charts import chart_series, diff_series
from viz.map import DEFAULT_OVERLAYS, EXPORT_DPI, layer_range, map_png
from viz.run import Sim
from viz.session import Session

CHART_COLUMNS = 3
CHART_DPI = 150


def charts_figure(charts: list[dict[str, Any]], title: str = "") -> Figure:
    """A grid of line charts, one panel per chart of :func:`viz.charts.chart_series`."""
    rows = max(1, math.ceil(len(charts) / CHART_COLUMNS))
    fig = Figure(figsize=(4.2 * CHART_COLUMNS, 2.8 * rows), dpi=CHART_DPI, facecolor="white",
                 layout="constrained")
    FigureCanvasAgg(fig)
    if title:
        fig.suptitle(title, fontsize=11)
    for k, chart in enumerate(charts):
        ax = fig.add_subplot(rows, CHART_COLUMNS, k + 1)
        x = np.asarray(chart["x"], dtype=float)
        for name, ys in chart["series"].items():
            ax.plot(x, np.asarray(ys, dtype=float), color=chart["colors"].get(name, "#333333"),
                    linewidth=1.3, label=name)
        ax.set_title(chart["title"], fontsize=9, loc="left")
        ax.set_xlabel("day", fontsize=8)
        ax.set_ylabel(chart["unit"], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False, ncol=min(len(chart["series"]), 4))
    return fig


def figure_png(fig: Figure) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def charts_png(session: Session, sim: Sim) -> bytes:
    """The live charts of ``sim`` (and B - A in compare mode, with run B) as one PNG."""
    charts = list(chart_series(sim))
    if session.compare and sim is session.sims[-1]:
        charts += diff_series(session)
    return figure_png(charts_figure(charts, f"{sim.label}, t = {sim.hours} h"))


def map_file_png(session: Session, sim: Sim, layer: str,
                 overlays: Any = DEFAULT_OVERLAYS) -> bytes:
    """The map of ``sim`` as in the page (shared colour range), at :data:`EXPORT_DPI`."""
    values = [s.layer_values(layer) for s in session.sims]
    return map_png(sim, layer, layer_range(layer, values), overlays, dpi=EXPORT_DPI)
