"""The app's map, charts and indicator table as components of Mesa's ``SolaraViz``.

A Mesa user composes a page of their own from a :class:`sim.model.PoliceModel`::

    from mesa.visualization import SolaraViz
    from sim.model import PoliceModel
    from viz.mesa_components import make_city_map, make_daily_chart, IndicatorTable

    model = PoliceModel(**{"police.officers": 150, "run.days": 30})
    page = SolaraViz(model, components=[make_city_map("risk"),
                                        make_daily_chart("response_time_mean", "clearance_rate"),
                                        (IndicatorTable, 1)],
                     model_params={"strategy.name": ...}, name="grassroots")

Each component takes the model (Mesa's component protocol: a function or component called
with the model, in ``components=[...]``, optionally as ``(component, page)``) and reads
Mesa's ``update_counter``, so it is redrawn after every Step and while playing. A Mesa step is
one simulated hour. The daily charts read ``model.datacollector`` (the daily indicators, one
row per finished day); the map and the table read the model's arrays at the current hour, the
table including incidents streamed to disk in long runs (:mod:`viz.totals`). The project's own app
(``grassroots viz``) stays the richer default: compare mode, the parameter panel, exports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import solara
from mesa.visualization.utils import update_counter

from sim import indicators as registry
from viz.charts import vega_spec
from viz.components import SpecHolder, VegaChart
from viz.formatting import clock_text, format_value
from viz.layers import layer_values
from viz.live import INDICATORS, live_stats, totals_for
from viz.map import DEFAULT_OVERLAYS, LAYER_STYLE, model_map_png

SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _model_cache(model: Any) -> dict[str, Any]:
    """Per-model drawing state (map renderer, running totals), kept on the model."""
    cache = getattr(model, "_viz_cache", None)
    if cache is None:
        cache = {"totals": totals_for(model)}
        model._viz_cache = cache
    return cache


def city_map_png(model: Any, layer: str = "risk",
                 overlays: Sequence[str] = DEFAULT_OVERLAYS) -> bytes:
    """The city map of a bare model at its current hour (PNG bytes).

    Args:
        model: A :class:`sim.model.PoliceModel`.
        layer: Background layer (a key of :data:`viz.map.LAYER_STYLE`).
        overlays: Overlays shown (keys of :data:`viz.map.OVERLAYS`).
    """
    if layer not in LAYER_STYLE:
        raise ValueError(f"layer: unknown map layer {layer!r} (known: {', '.join(LAYER_STYLE)})")
    cache = _model_cache(model)
    values = layer_values(model, layer, cache["totals"])
    return model_map_png(model, layer, values, cache, overlays=tuple(overlays))


def make_city_map(layer: str = "risk",
                  overlays: Sequence[str] = DEFAULT_OVERLAYS) -> Callable[[Any], Any]:
    """A ``SolaraViz`` component drawing the city map with a background layer.

    Args:
        layer: Background layer: ``risk``, ``population``, ``response``, ``satisfaction`` or
            ``trust``.
        overlays: Overlays shown: ``ids``, ``beats``, ``streets``, ``officers``,
            ``incidents``.

    Returns:
        A Solara component taking the model.

    Raises:
        ValueError: If ``layer`` is unknown (at once, not when the page is drawn).
    """
    if layer not in LAYER_STYLE:
        raise ValueError(f"layer: unknown map layer {layer!r} (known: {', '.join(LAYER_STYLE)})")
    shown = tuple(overlays)

    @solara.component
    def CityMapView(model: Any) -> None:  # noqa: N802
        update_counter.get()
        png = city_map_png(model, layer, shown)
        with solara.Column(gap="2px"):
            solara.Text(f"grassroots · {clock_text(round(model.time))}",
                        style={"font-weight": "bold", "font-size": "13px"})
            solara.Image(png, format="png", classes=["grassroots-map"])

    return CityMapView


def daily_chart(model: Any, names: Sequence[str]) -> dict[str, Any]:
    """Chart data (as :func:`viz.charts.chart_series` gives) of daily indicators collected.

    Args:
        model: A model with ``datacollector`` (one row per finished day).
        names: Columns of the daily table (:data:`sim.metrics.DAILY_COLLECTED`).

    Raises:
        ValueError: If a name is not collected.
    """
    frame = model.datacollector.get_model_vars_dataframe()
    missing = [n for n in names if n not in frame.columns] if len(frame.columns) else []
    if missing:
        raise ValueError(f"names: not collected daily: {', '.join(missing)} (collected: "
                         f"{', '.join(frame.columns)})")
    inds = [registry.find(n, "daily") or registry.find(n) for n in names]
    units = {ind.unit if ind is not None else "" for ind in inds}
    unit = units.pop() if len(units) == 1 else "mixed units"
    title = ", ".join(ind.title if ind is not None else n for ind, n in zip(inds, names,
                                                                          strict=True))
    x = (frame["day"].to_numpy(dtype=float) + 1.0) if "day" in frame else \
        np.arange(len(frame), dtype=float)
    return {"key": "daily", "title": f"{title} (daily)", "unit": unit,
            "colors": {n: SERIES_COLORS[k % len(SERIES_COLORS)] for k, n in enumerate(names)},
            "x": x, "series": {n: frame[n].to_numpy(dtype=float) if n in frame else
                               np.zeros(0) for n in names}}


def make_daily_chart(*names: str) -> Callable[[Any], Any]:
    """A ``SolaraViz`` component charting daily indicators from ``model.datacollector``.

    Args:
        *names: Daily indicators, e.g. ``"response_time_mean"``, ``"clearance_rate"``
            (see :data:`sim.metrics.DAILY_COLLECTED`); the default is the mean response time.

    Returns:
        A Solara component taking the model.
    """
    chosen = tuple(names) or ("response_time_mean",)

    @solara.component
    def DailyChart(model: Any) -> None:  # noqa: N802
        update_counter.get()
        chart = daily_chart(model, chosen)
        VegaChart(SpecHolder(vega_spec(chart, width=360, height=160)))

    return DailyChart


def indicator_rows(model: Any) -> list[tuple[str, str, str]]:
    """The summary panel's rows for a bare model: ``(label, value, unit)``."""
    cache = _model_cache(model)
    stats = live_stats(model, totals=cache["totals"])
    return [(ind.label, format_value(ind.scale(stats[ind.key]), ind.digits), ind.unit)
            for ind in INDICATORS]


@solara.component
def IndicatorTable(model: Any) -> None:  # noqa: N802
    """The current indicators (since the start) of the model, with units."""
    update_counter.get()
    rows = indicator_rows(model)
    body = "".join(f"<tr><td>{label}</td><td style='text-align:right'>{value}</td>"
                   f"<td style='color:#666'>{unit}</td></tr>" for label, value, unit in rows)
    solara.HTML(tag="div", unsafe_innerHTML=(
        "<table class='grassroots-summary' style='font-size:13px'><thead><tr>"
        "<th>indicator (since start)</th><th>value</th><th>unit</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"))
