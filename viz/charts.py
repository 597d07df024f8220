"""The live charts: chart data of a run or of B - A, and their Vega-Lite specifications.

Charts are Vega-Lite specifications built here as plain dicts (rendered by the browser), so
they cost the server almost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.metrics import TIERS
from sim.scenario import PRIORITIES
from viz.run import Sim
from viz.session import Session
from viz.style import PRIORITY_SERIES, TIER_SERIES

MAX_POINTS = 400
"""Most points per chart series sent to the browser (history is thinned evenly)."""


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
