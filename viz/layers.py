"""Per-cell values of the map's background layers, from a model alone (no UI code).

Used by the app's runs (:class:`viz.run.Sim`) and by the Mesa ``SolaraViz`` components
(:mod:`viz.mesa_components`), which see a bare :class:`sim.model.PoliceModel`.
"""

from __future__ import annotations

import numpy as np

from sim.model import PoliceModel
from viz.live import resident_means, totals_for
from viz.totals import RunningTotals


def community_values(model: PoliceModel, layer: str,
                     totals: RunningTotals | None = None) -> np.ndarray | None:
    """Per-community values of a community layer (None if not available).

    Args:
        model: The model.
        layer: ``satisfaction``, ``trust`` (community means, 0-1) or ``response`` (mean
            response time so far, minutes, spilled incidents included).
        totals: The run's running totals (see :mod:`viz.totals`); None computes them.

    Returns:
        One value per community (NaN where nothing is known), or None.
    """
    if layer in ("satisfaction", "trust"):
        return resident_means(model, layer)
    if layer != "response":
        return None
    if totals is None:
        totals = totals_for(model)
    totals.update(model.now)
    t_arrive = totals.tail("t_arrive")
    arrived = t_arrive <= model.now
    rt = (t_arrive - totals.tail("t_report"))[arrived]
    comm = totals.tail("community")[arrived].astype(np.int64)
    k = model.layout.n_communities
    total = np.bincount(comm, weights=rt, minlength=k) + totals.folded.comm_sum
    count = np.bincount(comm, minlength=k) + totals.folded.comm_count
    out = np.full(k, np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def layer_values(model: PoliceModel, layer: str,
                 totals: RunningTotals | None = None) -> np.ndarray | None:
    """Per-cell values of a background layer, in its display unit (None if n/a).

    ``risk`` is the share of the city's incidents per cell in percent, ``population``
    persons per cell, ``response`` the mean response time of the cell's community so far
    (minutes), ``satisfaction`` and ``trust`` the community means (0-1). Cells outside the
    city (``layout.mask`` False) are NaN: the map draws them as outside.
    """
    lay = model.layout
    if layer == "risk":
        values = lay.risk * 100.0
    elif layer == "population":
        values = lay.population.astype(float)
    else:
        per_community = community_values(model, layer, totals)
        if per_community is None:
            return None
        values = per_community[lay.community]
    return np.where(lay.mask, values, np.nan)
