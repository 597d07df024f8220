"""The city map: background layer, borders, posts, officers and incidents (PNG).

The map is drawn with matplotlib (Agg, no pyplot) into a PNG. One figure is kept per run and
only its data are replaced at each update (background image, officer and incident markers),
so an update costs one ``savefig``; the legend is a separate image drawn once.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from agents.enums import OfficerState, Priority, Tier
from sim.city import CityLayout
from viz.run import Sim
from viz.style import PRIORITY_COLORS, STATE_COLORS, TIER_MARKERS

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

_STATE_RGBA = mpl.colors.to_rgba_array([STATE_COLORS[s] for s in OfficerState])
_PRIO_RGBA = mpl.colors.to_rgba_array([PRIORITY_COLORS[p] for p in Priority])


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
            colors = (_PRIO_RGBA[np.minimum(prio, len(_PRIO_RGBA) - 1)] if sel
                      else np.zeros((0, 4)))
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
        layer: Layer key (see :data:`viz.controls.LAYERS`).
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
