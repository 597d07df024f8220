"""Solara components of the simulation view: maps, live charts and the summary panel.

The pieces they show are drawn elsewhere, as plain functions that tests can call directly:
the map in :mod:`viz.map`, the chart data and Vega-Lite specifications in :mod:`viz.charts`,
the summary table in :mod:`viz.summary`. The results view is in :mod:`viz.results_view`.
Every name this module offered before it was split is still importable from here.
"""

from __future__ import annotations

from typing import Any

import solara

from viz.charts import (
    MAX_POINTS,
    chart_series,
    diff_series,
    shared_domains,
    thin,
    vega_spec,
)
from viz.compare_note import compare_note
from viz.formatting import clock_text
from viz.map import (
    DEFAULT_OVERLAYS,
    LAYER_ALPHA,
    LAYER_STYLE,
    MAP_DPI,
    MAP_INCHES,
    MapRenderer,
    border_segments,
    layer_range,
    legend_png,
    map_png,
)
from viz.results_view import (
    PREFERRED_STORE,
    ResultsContent,
    ResultsView,
    first_store,
    safe_scan,
)
from viz.run import Sim
from viz.session import Session
from viz.style import (
    PRIORITY_COLORS,
    PRIORITY_SERIES,
    STATE_COLORS,
    TIER_MARKERS,
    TIER_SERIES,
)
from viz.summary import summary_html

__all__ = [
    "LAYER_ALPHA",
    "LAYER_STYLE",
    "MAP_DPI",
    "MAP_INCHES",
    "MAX_POINTS",
    "PREFERRED_STORE",
    "PRIORITY_COLORS",
    "PRIORITY_SERIES",
    "STATE_COLORS",
    "TIER_MARKERS",
    "TIER_SERIES",
    "ChartGrid",
    "CityMap",
    "MapLegend",
    "MapRenderer",
    "ResultsContent",
    "ResultsView",
    "SimulationView",
    "SpecHolder",
    "SummaryPanel",
    "VegaChart",
    "border_segments",
    "chart_series",
    "diff_series",
    "first_store",
    "layer_range",
    "legend_png",
    "map_png",
    "safe_scan",
    "shared_domains",
    "summary_html",
    "thin",
    "vega_spec",
]


@solara.component
def CityMap(  # noqa: N802
    session: Session, sim: Sim, layer: str, version: int,
    overlays: tuple[str, ...] = DEFAULT_OVERLAYS,
) -> None:
    """The map of one run (PNG) with its title; redrawn when ``version`` changes.

    Args:
        session: The session (its lock guards the figure and the model).
        sim: The run to draw.
        layer: Background layer key.
        version: Bumped after every step or reset.
        overlays: Keys of :data:`viz.map.OVERLAYS` shown.
    """

    def draw() -> bytes:
        with session.lock:
            values = [s.layer_values(layer) for s in session.sims]
            return map_png(sim, layer, layer_range(layer, values), overlays)

    png = solara.use_memo(draw, [sim.uid, layer, version, overlays])
    with solara.Column(gap="4px", style={"min-width": "600px"}):
        solara.Text(f"{sim.label} · {clock_text(sim.hours)}",
                    style={"font-weight": "bold", "font-size": "14px"})
        solara.Image(png, format="png", classes=["grassroots-map"])
        if layer in ("satisfaction", "trust") and sim.community_values(layer) is None:
            solara.Text("No resident attitudes in this model: the layer is empty.",
                        style={"color": "#a00", "font-size": "12px"})
        renderer = sim.cache.get("map")
        if "streets" in overlays and renderer is not None and not renderer.street_count:
            solara.Text("Travel runs on the plain grid here (no street network file): no "
                        "streets to draw.", classes=["grassroots-no-streets"],
                        style={"color": "#666", "font-size": "11px"})


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
def SimulationView(  # noqa: N802
    session: Session, layer: str, version: int, overlays: tuple[str, ...] = DEFAULT_OVERLAYS,
) -> None:
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
                CityMap(session, sims[0], layer, version, overlays)
                MapLegend()
            ChartGrid(per_sim[0], None, x_max)
            with solara.Column():
                solara.Markdown("**Current indicators**")
                SummaryPanel(session, version)
        return
    solara.Info(compare_note(session), dense=True, classes=["grassroots-compare-note"])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        for sim, charts in zip(sims, per_sim, strict=True):
            with solara.Column(gap="4px", classes=["grassroots-run"]):
                CityMap(session, sim, layer, version, overlays)
                ChartGrid(charts, domains, x_max)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        MapLegend()
        with solara.Column():
            solara.Markdown("**Running difference (B - A)**")
            ChartGrid(diff_series(session), None, x_max, columns=3)
    with solara.Column():
        solara.Markdown("**Current indicators**")
        SummaryPanel(session, version)
