"""Patrol areas: where free officers patrol, weighted by the strategy.

Area 0 is the whole city, then one area per precinct, then one per community; a strategy may
add more (grids). Within an area a patrol cell is drawn from the strategy's weights (uniform by
default, risk-weighted under predictive patrol). All areas share one concatenated CDF, so that
one ``searchsorted`` draws a cell for every patrolling officer at once.

Officers patrol only in-city cells (``layout.mask``): every area is cut to its in-city cells
when installed; an area with none (a strategy's square lying wholly outside a real city's
boundary) patrols the in-city cells of the community its cells are labelled with, which is
the nearest community.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.city import CityLayout

Weights = Callable[[np.ndarray], np.ndarray]


class PatrolAreas:
    """The patrol areas of one city and their cell weights.

    Args:
        layout: The city.
        weights: Relative patrol time over the cells of one area (the strategy's).
    """

    def __init__(self, layout: CityLayout, weights: Weights) -> None:
        self.weights = weights
        self.layout = layout
        self.areas: list[np.ndarray] = []
        areas = [np.arange(layout.n_cells)]
        areas += [np.flatnonzero(layout.precinct == p) for p in range(layout.n_precincts)]
        areas += [np.flatnonzero(layout.community == c) for c in range(layout.n_communities)]
        self.install(areas)

    def install(self, areas: list[np.ndarray]) -> None:
        """Replace the areas and rebuild the concatenated CDF of their weights."""
        self.areas = [self.in_city(np.asarray(a, dtype=np.int64)) for a in areas]
        cells, cdf = [], []
        for k, area in enumerate(self.areas):
            w = np.asarray(self.weights(area), dtype=float)
            w = np.ones(area.size) if w.sum() <= 0 else w
            cells.append(area)
            cdf.append(k + np.cumsum(w) / w.sum())
        self._cells = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
        self._cdf = np.concatenate(cdf) if cdf else np.zeros(0)
        self._cdf[np.cumsum([a.size for a in self.areas]) - 1] = np.arange(1, len(self.areas) + 1)

    def in_city(self, area: np.ndarray) -> np.ndarray:
        """The in-city cells of an area (its community's when it has none)."""
        mask = self.layout.mask
        if mask.all() or area.size == 0:
            return area
        kept = area[mask[area]]
        if kept.size:
            return kept
        return np.flatnonzero(mask & (self.layout.community == self.layout.community[area[0]]))

    def add(self, areas: list[np.ndarray]) -> int:
        """Add areas (e.g. grids); return the id of the first new one."""
        first = len(self.areas)
        self.install(self.areas + list(areas))
        return first

    def draw(self, areas: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One patrol cell in each of ``areas`` from uniforms ``u``."""
        k = np.searchsorted(self._cdf, areas + u, side="right")
        return self._cells[np.minimum(k, self._cells.size - 1)]
