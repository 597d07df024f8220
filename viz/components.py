"""Pieces of the browser app: the city map, the live charts, the summary and results views.

The map is drawn with matplotlib (Agg, no pyplot) into a PNG. One figure is kept per run and
only its data are replaced at each update (background image, officer and incident markers),
so an update costs one ``savefig``; the legend is a separate image drawn once. Charts are
Vega-Lite specifications built here as plain dicts (rendered by the browser), so they cost
the server almost nothing. Everything that is not a Solara component is a plain function that
tests can call directly.
"""

from __future__ import annotations

import html
import io
import logging
import math
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from agents.enums import OfficerState, Priority, Tier
from sim.city import CityLayout
from sim.scenario import PRIORITIES
from viz.state import (
    INDICATORS,
    MANIFEST,
    TIERS,
    ResultsFolder,
    Session,
    Sim,
    clock_text,
    error_message,
    format_value,
    inline_images,
    list_stores,
    read_image,
    results_root,
    scan_results,
)

log = logging.getLogger(__name__)

# -- styling -----------------------------------------------------------------------------------
STATE_COLORS: dict[OfficerState, str] = {
    OfficerState.IDLE: "#1f77b4",
    OfficerState.PATROL: "#2ca02c",
    OfficerState.ADMIN: "#8c8c8c",
    OfficerState.TRAVELLING: "#9467bd",
    OfficerState.ON_SCENE: "#e377c2",
    OfficerState.RETURNING: "#17becf",
    OfficerState.OFF_DUTY: "#ffffff",
}
"""Officer marker colour by state (off-duty officers are not drawn)."""

TIER_MARKERS: dict[Tier, str] = {Tier.HQ: "o", Tier.STATION: "D", Tier.COMMUNITY: "^"}
"""Officer marker shape by tier."""

PRIORITY_COLORS: dict[Priority, str] = {
    Priority.EMERGENCY: "#d62728",
    Priority.URGENT: "#ff7f0e",
    Priority.ROUTINE: "#e6c300",
}
"""Incident colour by priority."""

LAYER_STYLE: dict[str, tuple[str, str]] = {
    "risk": ("YlOrBr", "crime risk (% of incidents per cell)"),
    "satisfaction": ("RdYlGn", "satisfaction (0-1)"),
    "trust": ("PRGn", "trust in police (0-1)"),
    "response": ("OrRd", "mean response time (min)"),
    "population": ("Greys", "residents per cell (persons)"),
}
"""Colormap and colour-bar label of each background layer."""

MAP_INCHES = (5.4, 4.6)
MAP_DPI = 100
LAYER_ALPHA = 0.8
MAX_POINTS = 400
"""Most points per chart series sent to the browser (history is thinned evenly)."""

_STATE_RGBA = mpl.colors.to_rgba_array([STATE_COLORS[s] for s in OfficerState])
_PRIO_RGBA = mpl.colors.to_rgba_array([PRIORITY_COLORS[p] for p in Priority])


# -- the map -----------------------------------------------------------------------------------
def border_segments(labels: np.ndarray, width: int, height: int) -> np.ndarray:
    """Line segments between cells with different labels (community or precinct borders).

    Args:
        labels: One label per cell, flat index ``x * height + y``.
        width: Cells across.
        height: Cells down.

    Returns:
        Array of shape ``(n, 2, 2)``: segment end points in cell coordinates.
    """
    lab = np.asarray(labels).reshape(width, height)
    xs, ys = np.nonzero(lab[:-1, :] != lab[1:, :])
    vertical = np.stack([np.column_stack([xs + 0.5, ys - 0.5]),
                         np.column_stack([xs + 0.5, ys + 0.5])], axis=1)
    xs, ys = np.nonzero(lab[:, :-1] != lab[:, 1:])
    horizontal = np.stack([np.column_stack([xs - 0.5, ys + 0.5]),
                           np.column_stack([xs + 0.5, ys + 0.5])], axis=1)
    return np.concatenate([vertical, horizontal]).astype(float)


def _jitter(n: int) -> np.ndarray:
    """Fixed small offsets per officer so that officers on one cell stay visible."""
    k = np.arange(n)
    angle = k * 2.399963
    radius = 0.12 + 0.2 * ((k * 0.618034) % 1.0)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


class MapRenderer:
    """Draws one run's city map; the figure is built once and updated in place.

    Args:
        layout: The city layout of the run.
    """

    def __init__(self, layout: CityLayout) -> None:
        self.layout = layout
        w, h = layout.width, layout.height
        self.fig = fig = Figure(figsize=MAP_INCHES, dpi=MAP_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        self.ax = ax = fig.add_axes((0.01, 0.02, 0.8, 0.96))
        cax = fig.add_axes((0.83, 0.1, 0.03, 0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        self.layer = ""
        self.im = ax.imshow(np.zeros((h, w)), origin="lower", extent=(-0.5, w - 0.5, -0.5, h - 0.5),
                            interpolation="nearest", alpha=LAYER_ALPHA, zorder=0)
        self.cbar = fig.colorbar(self.im, cax=cax)
        self.cbar.ax.tick_params(labelsize=7)
        ax.add_collection(LineCollection(border_segments(layout.community, w, h),
                                         colors="#555555", linewidths=0.6, zorder=1))
        ax.add_collection(LineCollection(border_segments(layout.precinct, w, h),
                                         colors="black", linewidths=2.2, zorder=2))
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(-0.5, h - 0.5)
        ax.set_aspect("equal")
        hx, hy = layout.xy(layout.hq_cell)
        sx, sy = layout.xy(layout.station_cells)
        cx, cy = layout.xy(layout.community_post_cells)
        ax.scatter(cx, cy, s=60, marker="h", facecolors="white", edgecolors="#333333",
                   linewidths=1.0, zorder=3)
        ax.scatter(sx, sy, s=130, marker="s", facecolors="white", edgecolors="black",
                   linewidths=1.8, zorder=3)
        ax.scatter([hx], [hy], s=380, marker="*", facecolors="gold", edgecolors="black",
                   linewidths=1.2, zorder=3)
        empty = np.zeros((0, 2))
        self.officers = {
            tier: ax.scatter(empty[:, 0], empty[:, 1], s=24, marker=TIER_MARKERS[tier],
                             edgecolors="black", linewidths=0.4, zorder=5)
            for tier in Tier
        }
        self.active = ax.scatter(empty[:, 0], empty[:, 1], s=150, marker="o",
                                 facecolors="none", linewidths=2.0, zorder=4)
        self.waiting = ax.scatter(empty[:, 0], empty[:, 1], s=90, marker="X",
                                  edgecolors="black", linewidths=0.6, zorder=6)
        self.jitter = np.zeros((0, 2))

    def set_layer(self, layer: str, values: np.ndarray | None, vmin: float,
                  vmax: float) -> None:
        """Show a background layer (per-cell values; None shows an empty grey city)."""
        lay = self.layout
        if layer != self.layer:
            cmap_name, label = LAYER_STYLE.get(layer, ("Greys", layer))
            cmap = mpl.colormaps[cmap_name].with_extremes(bad="#e8e8e8")
            self.im.set_cmap(cmap)
            self.cbar.set_label(label, fontsize=8)
            self.layer = layer
        data = np.full(lay.n_cells, np.nan) if values is None else np.asarray(values, float)
        self.im.set_data(np.ma.masked_invalid(data.reshape(lay.width, lay.height).T))
        self.im.set_clim(vmin, vmax)

    def set_agents(self, model: Any) -> None:
        """Place the on-duty officers and the open incidents of ``model``."""
        f = model.force
        if self.jitter.shape[0] != f.n:
            self.jitter = _jitter(f.n)
        shown = f.state != int(OfficerState.OFF_DUTY)
        h = self.layout.height
        for tier, scat in self.officers.items():
            idx = np.flatnonzero(shown & (f.tier == int(tier)))
            x, y = np.divmod(f.pos[idx], h)
            scat.set_offsets(np.column_stack([x, y]) + self.jitter[idx])
            scat.set_facecolors(_STATE_RGBA[f.state[idx]])
        incidents = list(model.dispatcher.open.values())
        for scat, wanted in ((self.waiting, True), (self.active, False)):
            sel = [inc for inc in incidents if inc.waiting is wanted]
            cells = np.array([inc.cell_index for inc in sel], dtype=np.int64)
            prio = np.array([int(inc.priority) for inc in sel], dtype=np.int64)
            x, y = np.divmod(cells, h)
            scat.set_offsets(np.column_stack([x, y]).astype(float))
            colors = _PRIO_RGBA[prio] if sel else np.zeros((0, 4))
            if wanted:
                scat.set_facecolors(colors)
            else:
                scat.set_edgecolors(colors)

    def png(self) -> bytes:
        """The figure as PNG bytes."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()


def layer_range(layer: str, arrays: Sequence[np.ndarray | None]) -> tuple[float, float]:
    """Colour range of a layer, shared by all maps shown (so compare maps are comparable).

    Args:
        layer: Layer key (see :data:`viz.state.LAYERS`).
        arrays: The per-cell values of every map shown (None for unavailable).

    Returns:
        ``(vmin, vmax)``.
    """
    finite = [a[np.isfinite(a)] for a in arrays if a is not None]
    finite = [a for a in finite if a.size]
    if not finite:
        return (0.0, 1.0)
    lo = min(float(a.min()) for a in finite)
    hi = max(float(a.max()) for a in finite)
    if layer == "risk":
        return (0.0, max(float(np.quantile(np.concatenate(finite), 0.99)), 1e-9))
    if layer == "population":
        return (0.0, max(hi, 1.0))
    span = 1.0 if layer == "response" else 0.05  # minutes, or points of a 0-1 scale
    if hi - lo < span:
        mid = (hi + lo) / 2
        lo, hi = mid - span / 2, mid + span / 2
    return (lo, hi)


def map_png(sim: Sim, layer: str, vrange: tuple[float, float] | None = None) -> bytes:
    """Draw the map of one run with a background layer (PNG bytes).

    Args:
        sim: The run.
        layer: Background layer key.
        vrange: Colour range (computed from this run alone if None).

    Returns:
        The PNG image.
    """
    renderer = sim.cache.get("map")
    if renderer is None:
        renderer = sim.cache["map"] = MapRenderer(sim.model.layout)
    values = sim.layer_values(layer)
    vmin, vmax = vrange if vrange is not None else layer_range(layer, [values])
    renderer.set_layer(layer, values, vmin, vmax)
    renderer.set_agents(sim.model)
    return renderer.png()


_legend_lock = threading.Lock()
_legend_png: bytes | None = None


def legend_png() -> bytes:
    """The map legend as PNG bytes (drawn once per process)."""
    global _legend_png
    with _legend_lock:
        if _legend_png is None:
            _legend_png = _draw_legend()
        return _legend_png


def _draw_legend() -> bytes:
    def mark(marker: str, face: str, edge: str = "black", size: float = 8,
             width: float = 0.8) -> Line2D:
        return Line2D([], [], linestyle="none", marker=marker, markersize=size,
                      markerfacecolor=face, markeredgecolor=edge, markeredgewidth=width)

    entries = [
        (mark("*", "gold", size=13), "HQ"),
        (mark("s", "white", width=1.8, size=9), "station"),
        (mark("h", "white", size=8), "community post"),
        (Line2D([], [], color="black", linewidth=2.2), "precinct border"),
        (Line2D([], [], color="#555555", linewidth=0.6), "community border"),
        (mark("o", "#bbbbbb", size=6), "officer: HQ"),
        (mark("D", "#bbbbbb", size=5), "officer: station"),
        (mark("^", "#bbbbbb", size=6), "officer: community"),
    ]
    entries += [(mark("o", STATE_COLORS[s], size=6), s.label.replace("_", " "))
                for s in OfficerState if s != OfficerState.OFF_DUTY]
    entries += [(mark("X", "#bbbbbb", width=0.6, size=8), "incident waiting"),
                (mark("o", "none", edge="#555555", width=2.0, size=10), "incident attended")]
    entries += [(mark("s", PRIORITY_COLORS[p], edge="none", size=8), p.label)
                for p in Priority]
    fig = Figure(figsize=(MAP_INCHES[0], 1.25), dpi=MAP_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.legend([e[0] for e in entries], [e[1] for e in entries], loc="center", ncol=4,
               fontsize=7, frameon=False, handletextpad=0.3, columnspacing=0.8,
               labelspacing=0.35)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# -- charts ------------------------------------------------------------------------------------
PRIORITY_SERIES = {**{p.label: PRIORITY_COLORS[p] for p in Priority}, "all": "#333333"}
TIER_SERIES = {"hq": "#1f77b4", "station": "#2ca02c", "community": "#9467bd", "all": "#333333"}


def thin(n: int, most: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``most`` evenly spread points out of ``n`` (first and last kept)."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def chart_series(sim: Sim) -> list[dict[str, Any]]:
    """The live chart data of one run: title, unit and named series over days.

    Returns:
        One dict per chart with keys ``key``, ``title``, ``unit``, ``colors``, ``x`` (days)
        and ``series`` (name -> values, NaN where undefined).
    """
    x = sim.history_array("hours") / 24.0
    h = sim.history_array

    def prio(kind: str) -> dict[str, np.ndarray]:
        out = {p: h(f"w_response_time_{kind}_{p}") for p in PRIORITIES}
        out["all"] = h(f"w_response_time_{kind}")
        return out

    util = {t: sim.utilisation_window(t) * 100 for t in TIERS}
    util["all"] = sim.utilisation_window() * 100
    return [
        {"key": "rt_mean", "title": "Response time, mean (last 24 h)", "unit": "min",
         "colors": PRIORITY_SERIES, "x": x, "series": prio("mean")},
        {"key": "rt_p90", "title": "Response time, p90 (last 24 h)", "unit": "min",
         "colors": PRIORITY_SERIES, "x": x, "series": prio("p90")},
        {"key": "clearance", "title": "Clearance rate", "unit": "%",
         "colors": {"last 24 h": "#1f77b4", "since start": "#333333"}, "x": x,
         "series": {"last 24 h": h("w_clearance_rate") * 100,
                    "since start": h("clearance_rate") * 100}},
        {"key": "public", "title": "Satisfaction and trust (residents)", "unit": "0-1",
         "colors": {"satisfaction": "#2ca02c", "trust": "#9467bd"}, "x": x,
         "series": {"satisfaction": h("satisfaction_mean"), "trust": h("trust_mean")}},
        {"key": "utilisation", "title": "Officer utilisation by tier (last 24 h)", "unit": "%",
         "colors": TIER_SERIES, "x": x, "series": util},
        {"key": "incidents", "title": "Incidents, true vs recorded (last 24 h)",
         "unit": "incidents", "colors": {"true": "#7f7f7f", "recorded": "#d62728"}, "x": x,
         "series": {"true": h("w_true"), "recorded": h("w_recorded")}},
    ]


def diff_series(session: Session) -> list[dict[str, Any]]:
    """Running differences B - A of the main indicators (compare mode), as chart data."""
    if not session.compare:
        return []
    a, b = session.sims[0], session.sims[1]
    n = min(len(a.history["hours"]), len(b.history["hours"]))
    x = a.history_array("hours")[:n] / 24.0

    def d(key: str, scale: float = 1.0) -> np.ndarray:
        return (b.history_array(key)[:n] - a.history_array(key)[:n]) * scale

    return [
        {"key": "d_rt", "title": "B - A: response time (since start)", "unit": "min",
         "colors": {"mean": "#1f77b4", "p90": "#d62728"}, "x": x,
         "series": {"mean": d("response_time_mean"), "p90": d("response_time_p90")}},
        {"key": "d_share", "title": "B - A: clearance and utilisation (since start)",
         "unit": "pp", "colors": {"clearance": "#2ca02c", "utilisation": "#9467bd"}, "x": x,
         "series": {"clearance": d("clearance_rate", 100),
                    "utilisation": d("utilization_mean", 100)}},
        {"key": "d_public", "title": "B - A: satisfaction and trust", "unit": "0-1",
         "colors": {"satisfaction": "#2ca02c", "trust": "#9467bd"}, "x": x,
         "series": {"satisfaction": d("satisfaction_mean"),
                    "trust": d("trust_mean")}},
    ]


def shared_domains(charts: Sequence[Sequence[dict[str, Any]]]) -> list[tuple[float, float]]:
    """One y range per chart position, shared by the runs shown side by side.

    Args:
        charts: For each run, its list of charts (same order for every run).

    Returns:
        ``(lo, hi)`` per chart: from 0 for non-negative data, padded by 5 %.
    """
    out = []
    for group in zip(*charts, strict=True):
        vals = [v[np.isfinite(v)] for c in group for v in c["series"].values()]
        vals = [v for v in vals if v.size]
        if not vals:
            out.append((0.0, 1.0))
            continue
        lo = min(float(v.min()) for v in vals)
        hi = max(float(v.max()) for v in vals)
        if lo >= 0 and group[0]["unit"] != "0-1":
            lo = 0.0
        pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 0.01)
        out.append((lo - pad if lo != 0 else 0.0, hi + pad))
    return out


def vega_spec(chart: dict[str, Any], y_domain: tuple[float, float] | None = None,
              x_max: float | None = None, width: int = 250, height: int = 110) -> dict:
    """A Vega-Lite line chart for one chart of :func:`chart_series` (plain dict).

    Args:
        chart: The chart data.
        y_domain: Fixed y range (shared across runs in compare mode).
        x_max: Right end of the day axis.
        width: Plot width (pixels).
        height: Plot height (pixels).

    Returns:
        The Vega-Lite specification.
    """
    x = np.asarray(chart["x"], dtype=float)
    idx = thin(x.size)
    names = list(chart["series"])
    # Wide records (one per time point) folded into long form by Vega-Lite: a quarter of
    # the objects to build, diff and send compared with one record per point and series.
    columns = {"day": _json_column(x[idx])}
    columns.update({name: _json_column(np.asarray(ys, dtype=float)[idx])
                    for name, ys in chart["series"].items()})
    values = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(),
                                                                   strict=True)]
    has_data = any(v is not None for name in names for v in columns[name])
    colors = chart["colors"]
    x_enc: dict[str, Any] = {"field": "day", "type": "quantitative", "title": "day",
                             "axis": {"tickCount": 5}}
    x_enc["scale"] = {"domain": [0, max(x_max or 0.0, float(x.max()) if x.size else 0.0,
                                        1 / 24)]}
    y_enc: dict[str, Any] = {"field": "value", "type": "quantitative", "title": chart["unit"],
                             "scale": {"zero": False}}
    if not has_data:  # nothing yet: a fixed axis instead of an empty (infinite) extent
        y_domain = y_domain or (0.0, 1.0)
    if y_domain is not None:
        y_enc["scale"] = {"domain": [round(y_domain[0], 4), round(y_domain[1], 4)],
                          "zero": False}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": chart["title"], "fontSize": 11, "anchor": "start"},
        "width": width,
        "height": height,
        "data": {"values": values},
        "transform": [{"fold": names, "as": ["series", "value"]},
                      {"filter": "isValid(datum.value)"}],
        "mark": {"type": "line", "strokeWidth": 1.5, "clip": True},
        "encoding": {
            "x": x_enc,
            "y": y_enc,
            "color": {"field": "series", "type": "nominal", "title": None,
                      "scale": {"domain": list(colors), "range": list(colors.values())},
                      "legend": {"orient": "bottom", "direction": "horizontal",
                                 "labelFontSize": 9, "symbolSize": 50}},
            "tooltip": [{"field": "series", "type": "nominal"},
                        {"field": "day", "type": "quantitative", "format": ".2f"},
                        {"field": "value", "type": "quantitative", "format": ".2f"}],
        },
        "config": {"axis": {"labelFontSize": 9, "titleFontSize": 9}, "view": {"stroke": None}},
        "usermeta": {"embedOptions": {"actions": False}},
    }


def _json_column(a: np.ndarray) -> list[float | None]:
    """Values rounded to 4 decimals for JSON, None where not finite."""
    out = np.round(a, 4).tolist()
    return [v if math.isfinite(v) else None for v in out]


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


# -- Solara components ---------------------------------------------------------------------------
@solara.component
def CityMap(session: Session, sim: Sim, layer: str, version: int) -> None:  # noqa: N802
    """The map of one run (PNG) with its title; redrawn when ``version`` changes.

    Args:
        session: The session (its lock guards the figure and the model).
        sim: The run to draw.
        layer: Background layer key.
        version: Bumped after every step or reset.
    """

    def draw() -> bytes:
        with session.lock:
            values = [s.layer_values(layer) for s in session.sims]
            return map_png(sim, layer, layer_range(layer, values))

    png = solara.use_memo(draw, [sim.uid, layer, version])
    with solara.Column(gap="4px", style={"min-width": "540px"}):
        solara.Text(f"{sim.label} · {clock_text(sim.hours)}",
                    style={"font-weight": "bold", "font-size": "14px"})
        solara.Image(png, format="png", classes=["grassroots-map"])
        if layer in ("satisfaction", "trust") and sim.community_values(layer) is None:
            solara.Text("No resident attitudes in this model: the layer is empty.",
                        style={"color": "#a00", "font-size": "12px"})


@solara.component
def MapLegend() -> None:  # noqa: N802
    """The map legend (one image drawn once)."""
    png = solara.use_memo(legend_png, [])
    solara.Image(png, format="png", classes=["grassroots-legend"])


@solara.component
def ChartGrid(  # noqa: N802
    charts: list[dict[str, Any]], domains: list[tuple[float, float]] | None, x_max: float,
    columns: int = 2,
) -> None:
    """A grid of Vega-Lite line charts.

    Args:
        charts: Chart data (see :func:`chart_series`).
        domains: Shared y ranges per chart, or None.
        x_max: Right end of every day axis.
        columns: Charts per row.
    """
    specs = [vega_spec(c, None if domains is None else domains[i], x_max)
             for i, c in enumerate(charts)]
    with solara.Div(classes=["grassroots-charts"],
                    style={"display": "grid", "grid-template-columns": f"repeat({columns}, auto)",
                           "gap": "6px 18px", "align-items": "start"}):
        for spec in specs:
            VegaChart(SpecHolder(spec))


class SpecHolder:
    """Hands a chart specification to :func:`VegaChart` without reacton walking through it.

    Reacton inspects every list and dict passed to an element (looking for child elements),
    which costs more than drawing the chart for specs with a few thousand points; it does not
    look inside other objects.

    Args:
        spec: The Vega-Lite specification.
    """

    __slots__ = ("spec",)

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec


@solara.component
def VegaChart(holder: SpecHolder) -> None:  # noqa: N802
    """One Vega-Lite chart; its widget is kept and only its ``spec`` is replaced."""
    widget = solara.use_memo(
        lambda: solara.widgets.VegaLite(spec=holder.spec, listen_to_click=False,
                                        listen_to_hover=False), [])

    def push() -> None:
        if widget.spec is not holder.spec:
            widget.spec = holder.spec

    def close() -> Any:
        return widget.close

    solara.use_effect(push, [holder])
    solara.use_effect(close, [])
    solara.Div(children=[widget])


@solara.component
def SummaryPanel(session: Session, version: int) -> None:  # noqa: N802
    """The current indicators with units (A, B and B - A in compare mode)."""
    text = solara.use_memo(lambda: summary_html(session), [version, session.compare])
    solara.HTML(tag="div", unsafe_innerHTML=text)


@solara.component
def SimulationView(session: Session, layer: str, version: int) -> None:  # noqa: N802
    """Maps, charts and the summary of the current run(s), aligned side by side."""
    sims = list(session.sims)
    if not sims:
        solara.Info("Building the model...")
        return
    per_sim = [chart_series(s) for s in sims]
    domains = shared_domains(per_sim) if len(sims) > 1 else None
    x_max = max(s.hours for s in sims) / 24.0
    if len(sims) == 1:
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            with solara.Column(gap="4px"):
                CityMap(session, sims[0], layer, version)
                MapLegend()
            ChartGrid(per_sim[0], None, x_max)
            with solara.Column():
                solara.Markdown("**Current indicators**")
                SummaryPanel(session, version)
        return
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for sim, charts in zip(sims, per_sim, strict=True):
            with solara.Column(gap="4px", classes=["grassroots-run"]):
                CityMap(session, sim, layer, version)
                ChartGrid(charts, domains, x_max)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        MapLegend()
        with solara.Column():
            solara.Markdown("**Running difference (B - A)**")
            ChartGrid(diff_series(session), None, x_max, columns=3)
    with solara.Column():
        solara.Markdown("**Current indicators**")
        SummaryPanel(session, version)


PREFERRED_STORE = "strategy_comparison"
"""The store opened first when the results root holds it (``make main`` writes it)."""


def first_store(stores: Sequence[str]) -> str:
    """The store the results view opens first.

    Args:
        stores: The stores listed (see :func:`viz.state.list_stores`).

    Returns:
        ``strategy_comparison`` if listed, else the first one, else ``""`` (nothing).
    """
    if PREFERRED_STORE in stores:
        return PREFERRED_STORE
    return stores[0] if stores else ""


def safe_scan(folder: str, root: Path) -> ResultsFolder:
    """:func:`viz.state.scan_results`, with any unexpected failure turned into ``error``."""
    try:
        return scan_results(folder, root)
    except Exception as exc:  # shown in the page; a bug, so the log keeps the traceback
        log.error("viz: reading %r failed:\n%s", folder, "".join(traceback.format_exception(exc)))
        return ResultsFolder(root, [], [], error=f"{folder}: cannot be read "
                                                 f"({error_message(exc, 300)})")


@solara.component
def ResultsView(root: str | Path | None = None, initial: str | None = None) -> None:  # noqa: N802
    """Open a sweep store below the results root: its figures, Markdown files and runs table.

    Only folders inside ``root`` are listed or read (see :func:`viz.state.resolve_in_root`);
    anything else typed in is refused with a message.

    Args:
        root: The results root (:func:`viz.state.results_root` if None).
        initial: Folder opened first, relative to ``root`` (:func:`first_store` if None).
    """
    base = solara.use_memo(lambda: results_root(root) if root is not None else results_root(),
                           [str(root)])
    refresh, set_refresh = solara.use_state(0)
    stores = solara.use_memo(lambda: list_stores(base), [base, refresh])
    start = solara.use_memo(lambda: first_store(stores) if initial is None else initial, [])
    folder, set_folder = solara.use_state(start)
    opened, set_opened = solara.use_state(start)
    figure, set_figure = solara.use_state(None)
    found = solara.use_memo(lambda: safe_scan(opened, base), [opened, base, refresh])

    def pick(name: str | None) -> None:
        if name in stores:  # a client may send any value: only listed stores are opened
            set_folder(name)
            set_opened(name)

    with solara.Column():
        solara.Text(f"Results folder: {base}", classes=["grassroots-results-root"],
                    style={"font-size": "12px", "color": "#555"})
        if not base.is_dir():
            solara.Warning(f"The results folder {base} does not exist. Write a sweep into it "
                           f"(`grassroots sweep SPEC.toml --out {base}/NAME`) or start the "
                           "app with `grassroots viz --results DIR`.")
            solara.Button("Refresh", outlined=True, on_click=lambda: set_refresh(refresh + 1))
            return
        with solara.Row(style={"align-items": "center"}):
            if stores:
                solara.Select("Sweep store", values=list(stores),
                              value=opened if opened in stores else None, on_value=pick,
                              style={"min-width": "300px"})
            solara.Button("Refresh", outlined=True, on_click=lambda: set_refresh(refresh + 1))
        if not stores:
            solara.Info(f"No sweep stores (folders with {MANIFEST}) below {base} yet.")
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Sweep folder (inside the results folder)", value=folder,
                             on_value=set_folder, continuous_update=True,
                             style={"min-width": "420px"})
            solara.Button("Open", color="primary", on_click=lambda: set_opened(folder))
        if found.error:
            solara.Warning(found.error, classes=["grassroots-results-error"])
        ResultsContent(found, figure, set_figure)


@solara.component
def ResultsContent(  # noqa: N802
    found: ResultsFolder, figure: str | None, set_figure: Any,
) -> None:
    """The figures, documents and runs table of an opened folder (all read inside it)."""
    if found.figures:
        names = [str(p) for p in found.figures]
        current = figure if figure in names else names[0]
        solara.Select("Report figure", values=names, value=current, on_value=set_figure)
        _figure(found.path / current, found.path, classes=["grassroots-report-figure"])
        with solara.Details(f"All figures ({len(names)})"), \
                solara.Row(style={"flex-wrap": "wrap"}):
            for p in found.figures:
                with solara.Column(gap="2px"):
                    solara.Text(str(p), style={"font-size": "11px"})
                    _figure(found.path / p, found.path, width="280px")
    for doc in found.documents:
        with solara.Details(f"{doc}", expand=doc.name.lower().startswith("report")):
            path = found.path / doc
            solara.Markdown(inline_images(_read_text(path), path.parent, found.path))
    if found.runs is not None:
        solara.Markdown(f"**Runs** ({len(found.runs)} rows from {found.n_parts} part "
                        "files in `runs/`)")
        solara.DataFrame(found.runs, items_per_page=15, scrollable=True)


def _figure(path: Path, root: Path, **kwargs: Any) -> None:
    data = read_image(path, root)
    if data is None:
        solara.Text(f"{path.name}: cannot be shown (missing, too large or unreadable)",
                    style={"color": "#a00", "font-size": "12px"})
    else:
        solara.Image(data, format="png", **kwargs)


def _read_text(path: Path, limit: int = 200_000) -> str:
    try:
        return path.read_text(errors="replace")[:limit]
    except OSError as exc:
        return f"*cannot read {path.name}: {exc.strerror}*"
