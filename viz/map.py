"""The city map: background layer, borders, streets, posts, officers and incidents (PNG).

The map is drawn with matplotlib (Agg, no pyplot) into a PNG. One figure is kept per run and
only its data are replaced at each update (background image, officer and incident markers),
so an update costs one ``savefig``; the legend is a separate image drawn once.

The city is drawn as it is modelled: cells outside it (``layout.mask`` False) in grey, the
precinct, community and (switchable) beat borders, the street network that travel uses when
the travel field has one (``segments()``), posts at their cells, community ids at community
centres, axes in km from the grid's south-west corner and a scale bar (``city.cell_size_m``).
Overlays (:data:`OVERLAYS`) are switched on and off without redrawing the figure.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from agents.enums import OfficerState, Priority, Tier
from sim.city import CityLayout
from viz.run import Sim
from viz.style import PRIORITY_COLORS, STATE_COLORS, TIER_MARKERS

LAYER_STYLE: dict[str, tuple[str, str]] = {
    "risk": ("Blues", "crime risk (% of incidents per cell)"),
    "satisfaction": ("RdYlGn", "satisfaction (0-1)"),
    "trust": ("PRGn", "trust in police (0-1)"),
    "response": ("Purples", "mean response time (min)"),
    "population": ("Greys", "residents per cell (persons)"),
}
"""Colormap and colour-bar label of each background layer.

Incidents are drawn in red, orange and yellow with black edges, so the sequential layers use
blue, purple and grey scales on which none of them vanishes; the diverging scales
(satisfaction, trust) keep their conventional colours and rely on the black edges.
"""

OVERLAYS: dict[str, str] = {
    "ids": "Community ids",
    "beats": "Beat borders",
    "streets": "Street network",
    "officers": "Officer markers",
    "incidents": "Incident markers",
}
"""Switchable layers drawn over the background: key -> label."""

DEFAULT_OVERLAYS = ("ids", "streets", "officers", "incidents")
"""Overlays shown when the page opens (beat borders are switched on by the user)."""

MAP_INCHES = (6.0, 5.2)
MAP_DPI = 100
EXPORT_DPI = 200
"""Resolution of the map exported as PNG."""
LAYER_ALPHA = 0.8
MAX_IDS = 400
"""Most community ids written on the map (more would cover it)."""
OUTSIDE_RGBA = (0.55, 0.58, 0.62, 1.0)
"""Colour of the cells outside the city (``layout.mask`` False)."""

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
    return np.concatenate([vertical, horizontal]).astype(float).reshape(-1, 2, 2)


def _lines(segments: np.ndarray) -> list[np.ndarray]:
    """Segments ``(n, 2, 2)`` as the list of ``(2, 2)`` arrays LineCollection is typed for."""
    return list(segments)


def community_centres(layout: CityLayout) -> np.ndarray:
    """Mean cell position of each community's cells inside the city, ``(n, 2)``.

    A community with no cell inside the city gets its post's cell.
    """
    k = layout.n_communities
    x, y = layout.xy(np.arange(layout.n_cells))
    inside = layout.mask
    comm = np.asarray(layout.community)[inside]
    count = np.bincount(comm, minlength=k).astype(float)
    cx = np.bincount(comm, weights=x[inside], minlength=k)
    cy = np.bincount(comm, weights=y[inside], minlength=k)
    px, py = layout.xy(layout.community_post_cells)
    out = np.column_stack([np.asarray(px, float), np.asarray(py, float)])
    has = count > 0
    out[has, 0] = cx[has] / count[has]
    out[has, 1] = cy[has] / count[has]
    return out


def community_labels(layout: CityLayout) -> list[str]:
    """The communities' ids as the city's files give them (``"0"``, ``"1"``, ... if none)."""
    names = getattr(layout, "community_names", None)
    if names is not None and len(names) == layout.n_communities:
        return [str(n) for n in names]
    return [str(i) for i in range(layout.n_communities)]


def nice_length(span: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) of about a fifth of ``span``."""
    target = max(span / 5.0, 1e-9)
    power = 10.0 ** np.floor(np.log10(target))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * power >= target * 0.75:
            return float(m * power)
    return float(10 * power)


def km_ticks(cells: int, cell_m: float) -> tuple[np.ndarray, list[str]]:
    """Tick positions (cell coordinates) and labels (km from the south-west edge) of an axis.

    Cell ``i`` spans ``i - 0.5`` to ``i + 0.5``, so ``km = (v + 0.5) * cell_m / 1000``.
    """
    total_km = cells * cell_m / 1000.0
    step = nice_length(total_km * 1.25)
    kms = np.arange(0.0, total_km + 1e-9, step)
    digits = 0 if step >= 1 else int(np.ceil(-np.log10(step)))
    return kms * 1000.0 / cell_m - 0.5, [f"{k:.{digits}f}" for k in kms]


def _jitter(n: int) -> np.ndarray:
    """Fixed small offsets per officer so that officers on one cell stay visible."""
    k = np.arange(n)
    angle = k * 2.399963
    radius = 0.12 + 0.2 * ((k * 0.618034) % 1.0)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def officer_size(n: int) -> float:
    """Officer marker area (points^2): smaller for large forces."""
    return float(np.clip(24.0 * np.sqrt(300.0 / max(n, 1)), 7.0, 24.0))


class MapRenderer:
    """Draws one run's city map; the figure is built once and updated in place.

    Static parts (outside cells, borders, streets, ids, posts, axes in km and the scale bar)
    are drawn at construction; an update replaces only the background image's data and the
    officer and incident markers.

    Args:
        layout: The city layout of the run.
        segments: Street segments in cell coordinates, ``(n, 2, 2)`` (the travel field's
            ``segments()``), or None for a city without a street network.
    """

    def __init__(self, layout: CityLayout, segments: np.ndarray | None = None) -> None:
        self.layout = layout
        w, h = layout.width, layout.height
        self.fig = fig = Figure(figsize=MAP_INCHES, dpi=MAP_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        self.ax = ax = fig.add_axes((0.09, 0.09, 0.74, 0.88))
        cax = fig.add_axes((0.86, 0.15, 0.025, 0.75))
        self.layer = ""
        extent = (-0.5, w - 0.5, -0.5, h - 0.5)
        self.im = ax.imshow(np.zeros((h, w)), origin="lower", extent=extent,
                            interpolation="nearest", alpha=LAYER_ALPHA, zorder=0)
        self.cbar = fig.colorbar(self.im, cax=cax)
        self.cbar.ax.tick_params(labelsize=7)
        self._draw_outside(extent)
        self._draw_borders()
        self.overlays: dict[str, list[Any]] = {key: [] for key in OVERLAYS}
        self._draw_streets(segments)
        self._draw_ids()
        self._draw_posts()
        self._draw_axes()
        self._make_markers()
        self.set_overlays(DEFAULT_OVERLAYS)

    # -- static parts ----------------------------------------------------------------------
    def _draw_outside(self, extent: tuple[float, float, float, float]) -> None:
        lay = self.layout
        outside = ~np.asarray(lay.mask, bool).reshape(lay.width, lay.height).T
        self.outside_cells = int(outside.sum())
        if not self.outside_cells:
            return
        rgba = np.zeros((*outside.shape, 4))
        rgba[outside] = OUTSIDE_RGBA
        self.ax.imshow(rgba, origin="lower", extent=extent, interpolation="nearest", zorder=0.5)
        self.ax.add_collection(LineCollection(
            _lines(border_segments(lay.mask.astype(np.int64), lay.width, lay.height)),
            colors="black", linewidths=1.2, zorder=2))

    def _draw_borders(self) -> None:
        lay = self.layout
        w, h = lay.width, lay.height
        self.ax.add_collection(LineCollection(_lines(border_segments(lay.community, w, h)),
                                              colors="#555555", linewidths=0.6, zorder=1))
        self.ax.add_collection(LineCollection(_lines(border_segments(lay.precinct, w, h)),
                                              colors="black", linewidths=2.2, zorder=2))
        self.beat_lines = LineCollection(_lines(border_segments(lay.beat, w, h)), colors="#0b5cad",
                                         linewidths=0.9, linestyles=(0, (3, 2)), zorder=1.8)
        self.ax.add_collection(self.beat_lines)

    def _draw_streets(self, segments: np.ndarray | None) -> None:
        self.street_count = 0 if segments is None else len(segments)
        self.overlays["beats"].append(self.beat_lines)
        if not self.street_count:
            return
        lines = LineCollection(_lines(np.asarray(segments, float)), colors="#3d3d3d",
                               linewidths=0.5, alpha=0.55, zorder=1.5)
        self.ax.add_collection(lines)
        self.overlays["streets"].append(lines)

    def _draw_ids(self) -> None:
        lay = self.layout
        if lay.n_communities > MAX_IDS:
            return
        size = 7 if lay.n_communities <= 60 else 5.5 if lay.n_communities <= 160 else 4.5
        halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
        for (x, y), text in zip(community_centres(lay), community_labels(lay), strict=True):
            # just above the centre, where the community post usually stands
            t = self.ax.annotate(text, (x, y), xytext=(0, size + 1), textcoords="offset points",
                                 fontsize=size, ha="center", va="center", color="#222222",
                                 zorder=4.5, path_effects=halo)
            self.overlays["ids"].append(t)

    def _draw_posts(self) -> None:
        lay = self.layout
        ax = self.ax
        hx, hy = lay.xy(lay.hq_cell)
        sx, sy = lay.xy(lay.station_cells)
        cx, cy = lay.xy(lay.community_post_cells)
        size = float(np.clip(28.0 * np.sqrt(60.0 / max(lay.n_communities, 1)), 5.0, 28.0))
        ax.scatter(cx, cy, s=size, marker="h", facecolors="white", edgecolors="#333333",
                   linewidths=0.8 if size > 12 else 0.4, zorder=3)
        ax.scatter(sx, sy, s=70, marker="s", facecolors="white", edgecolors="black",
                   linewidths=1.4, zorder=3)
        # Below the officers (zorder 5) and hollow-centred: officers at HQ stay visible.
        ax.scatter([hx], [hy], s=170, marker="*", facecolors="gold", edgecolors="black",
                   linewidths=1.0, zorder=3.2, alpha=0.85)

    def _draw_axes(self) -> None:
        lay = self.layout
        ax = self.ax
        w, h = lay.width, lay.height
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(-0.5, h - 0.5)
        ax.set_aspect("equal")
        for axis, cells in ((ax.xaxis, w), (ax.yaxis, h)):
            ticks, labels = km_ticks(cells, lay.cell_size_m)
            axis.set_ticks(ticks, labels)
        ax.tick_params(labelsize=7, length=2.5)
        where = "east" if lay.frame is None else "east in the grid's CRS"
        ax.set_xlabel(f"km {where} of the south-west corner", fontsize=7)
        ax.set_ylabel("km north", fontsize=7)
        km = nice_length(w * lay.cell_size_m / 1000.0)
        self.scale_km = km
        text = f"{km:g} km"
        bar = AnchoredSizeBar(ax.transData, km * 1000.0 / lay.cell_size_m, text, "lower left",
                              pad=0.4, borderpad=0.5, sep=3, frameon=True, size_vertical=0.0,
                              color="black", fontproperties={"size": 7})
        bar.patch.set_alpha(0.8)
        bar.set_zorder(7)
        ax.add_artist(bar)

    def _make_markers(self) -> None:
        ax = self.ax
        empty = np.zeros((0, 2))
        self.officers = {
            tier: ax.scatter(empty[:, 0], empty[:, 1], s=24, marker=TIER_MARKERS[tier],
                             edgecolors="black", linewidths=0.4, zorder=5)
            for tier in Tier
        }
        # An attended incident is a coloured ring on a wider black ring: visible on every
        # colormap, including the yellow-orange ones.
        self.active_edge = ax.scatter(empty[:, 0], empty[:, 1], s=150, marker="o",
                                      facecolors="none", edgecolors="black", linewidths=3.4,
                                      zorder=5.9)
        self.active = ax.scatter(empty[:, 0], empty[:, 1], s=150, marker="o",
                                 facecolors="none", linewidths=1.8, zorder=6)
        self.waiting = ax.scatter(empty[:, 0], empty[:, 1], s=90, marker="X",
                                  edgecolors="black", linewidths=0.8, zorder=6.5)
        self.overlays["officers"].extend(self.officers.values())
        self.overlays["incidents"].extend([self.active_edge, self.active, self.waiting])
        self.jitter = np.zeros((0, 2))

    # -- updates ---------------------------------------------------------------------------
    def set_overlays(self, shown: Any) -> None:
        """Show the overlays whose keys are in ``shown`` (see :data:`OVERLAYS`), hide the rest."""
        wanted = set(shown)
        self.shown = tuple(k for k in OVERLAYS if k in wanted)
        for key, artists in self.overlays.items():
            for artist in artists:
                artist.set_visible(key in wanted)

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
            for scat in self.officers.values():
                scat.set_sizes([officer_size(f.n)])
        shown = f.state != int(OfficerState.OFF_DUTY)
        h = self.layout.height
        for tier, scat in self.officers.items():
            idx = np.flatnonzero(shown & (f.tier == int(tier)))
            x, y = np.divmod(f.pos[idx], h)
            scat.set_offsets(np.column_stack([x, y]) + self.jitter[idx])
            scat.set_facecolor(cast(Any, _STATE_RGBA[f.state[idx]]))
        incidents = list(model.dispatcher.open.values())
        for wanted in (True, False):
            sel = [inc for inc in incidents if inc.waiting is wanted]
            cells = np.array([inc.cell_index for inc in sel], dtype=np.int64)
            prio = np.array([int(inc.priority) for inc in sel], dtype=np.int64)
            x, y = np.divmod(cells, h)
            xy = np.column_stack([x, y]).astype(float)
            colors = (_PRIO_RGBA[np.minimum(prio, len(_PRIO_RGBA) - 1)] if sel
                      else np.zeros((0, 4)))
            if wanted:
                self.waiting.set_offsets(xy)
                self.waiting.set_facecolor(cast(Any, colors))
            else:
                self.active_edge.set_offsets(xy)
                self.active.set_offsets(xy)
                self.active.set_edgecolor(cast(Any, colors))

    def png(self, dpi: float | None = None) -> bytes:
        """The figure as PNG bytes (at ``dpi``, the screen's by default)."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi or MAP_DPI,
                         pil_kwargs={"compress_level": 1})
        return buf.getvalue()


def street_segments(model: Any) -> np.ndarray | None:
    """The street network that travel uses, in cell coordinates, or None (no network).

    A street-network travel field offers ``segments()`` (edge end points, ``(n, 2, 2)``);
    a grid field (Manhattan or the synthetic street grid) has none and the map draws no
    streets.
    """
    segments = getattr(getattr(model, "travel", None), "segments", None)
    if not callable(segments):
        return None
    out = np.asarray(segments(), dtype=float)
    if out.ndim != 3 or out.shape[1:] != (2, 2):
        return None
    return out


def renderer_for(cache: dict[str, Any], model: Any) -> MapRenderer:
    """The map renderer kept in ``cache`` for ``model`` (built on first use)."""
    renderer = cache.get("map")
    if renderer is None or renderer.layout is not model.layout:
        renderer = cache["map"] = MapRenderer(model.layout, street_segments(model))
    return renderer


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


def map_png(sim: Sim, layer: str, vrange: tuple[float, float] | None = None,
            overlays: Any = DEFAULT_OVERLAYS, dpi: float | None = None) -> bytes:
    """Draw the map of one run with a background layer (PNG bytes).

    Args:
        sim: The run.
        layer: Background layer key.
        vrange: Colour range (computed from this run alone if None).
        overlays: Keys of :data:`OVERLAYS` to show.
        dpi: Resolution (the screen's if None; :data:`EXPORT_DPI` for downloads).

    Returns:
        The PNG image.
    """
    return model_map_png(sim.model, layer, sim.layer_values(layer), sim.cache, vrange,
                         overlays, dpi)


def model_map_png(model: Any, layer: str, values: np.ndarray | None, cache: dict[str, Any],
                  vrange: tuple[float, float] | None = None, overlays: Any = DEFAULT_OVERLAYS,
                  dpi: float | None = None) -> bytes:
    """Draw the map of a bare model (PNG bytes); the renderer is kept in ``cache``.

    Args:
        model: The model.
        layer: Background layer key.
        values: The layer's per-cell values (see :func:`viz.layers.layer_values`).
        cache: Where the renderer is kept between calls.
        vrange: Colour range (from ``values`` if None).
        overlays: Keys of :data:`OVERLAYS` to show.
        dpi: Resolution (the screen's if None).
    """
    renderer = renderer_for(cache, model)
    vmin, vmax = vrange if vrange is not None else layer_range(layer, [values])
    renderer.set_layer(layer, values, vmin, vmax)
    renderer.set_overlays(overlays)
    renderer.set_agents(model)
    return renderer.png(dpi)


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
        (mark("*", "gold", size=11), "HQ"),
        (mark("s", "white", width=1.4, size=7), "station"),
        (mark("h", "white", size=6), "community post"),
        (Line2D([], [], color="black", linewidth=2.2), "precinct border"),
        (Line2D([], [], color="#555555", linewidth=0.6), "community border"),
        (Line2D([], [], color="#0b5cad", linewidth=0.9, linestyle=(0, (3, 2))), "beat border"),
        (Line2D([], [], color="#3d3d3d", linewidth=0.5, alpha=0.55), "street"),
        (mark("s", mpl.colors.to_hex(OUTSIDE_RGBA), edge="none", size=8), "outside the city"),
        (mark("o", "#bbbbbb", size=6), "officer: HQ"),
        (mark("D", "#bbbbbb", size=5), "officer: station"),
        (mark("^", "#bbbbbb", size=6), "officer: community"),
    ]
    entries += [(mark("o", STATE_COLORS[s], size=6), s.label.replace("_", " "))
                for s in OfficerState if s != OfficerState.OFF_DUTY]
    entries += [(mark("X", "#bbbbbb", width=0.8, size=8), "incident waiting"),
                (mark("o", "none", edge="#555555", width=2.0, size=10),
                 "incident attended (black-edged ring)")]
    entries += [(mark("s", PRIORITY_COLORS[p], edge="black", width=0.6, size=8), p.label)
                for p in Priority]
    fig = Figure(figsize=(MAP_INCHES[0], 1.45), dpi=MAP_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.legend([e[0] for e in entries], [e[1] for e in entries], loc="center", ncol=4,
               fontsize=7, frameon=False, handletextpad=0.3, columnspacing=0.8,
               labelspacing=0.35)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
