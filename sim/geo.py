"""Real geography: boundaries, posts and population from vector files, on the Mesa grid.

A real city is read from GeoJSON / Shapefile / GeoPackage files (any CRS, read with geopandas)
and rasterised onto the grid: each cell takes the area that contains its centre. Cells outside
every precinct are *masked*: no residents, incidents or patrol there, and travel crosses them
only along streets.

:class:`Frame` ties the grid to the ground: a projected CRS (metres), the projected coordinates
of the grid's south-west corner and the cell size. Every other module that reads coordinates
(calls, street networks) converts them to cell coordinates with :meth:`Frame.cells_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from sim.params import param


@dataclass(frozen=True)
class GeoConfig:
    """Boundaries, posts and population of a real city (all empty: the synthetic grid city)."""

    precincts: str = param(
        "", "-", "Polygons of the station precincts (GeoJSON, Shapefile or GeoPackage); empty = "
        "the synthetic rectangle. Relative paths are read from the scenario file's folder.",
    )
    crs: str = param(
        "", "-", "CRS of files that carry none (e.g. EPSG:4326); empty = the file's own.",
    )


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


@dataclass(frozen=True)
class Frame:
    """Where the grid lies on the ground.

    Attributes:
        crs: Projected CRS of the grid (metres), as text pyproj understands (``EPSG:32630``).
        origin_x: Projected x of the grid's south-west corner (m): the outer edge of cell (0, 0).
        origin_y: Projected y of that corner (m).
        cell_size_m: Side of a cell (m).
        width: Cells across.
        height: Cells down.
    """

    crs: str
    origin_x: float
    origin_y: float
    cell_size_m: float
    width: int
    height: int

    def project(self, x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates in ``crs`` -> projected metres in the frame's CRS."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if not crs or crs == self.crs:
            return x, y
        px, py = _transformer(crs, self.crs).transform(x, y)
        return np.asarray(px, dtype=float), np.asarray(py, dtype=float)

    def cells_of(self, x: np.ndarray, y: np.ndarray,
                 crs: str = "") -> tuple[np.ndarray, np.ndarray]:
        """Coordinates in ``crs`` (empty: the frame's) -> continuous cell coordinates.

        Cell ``(i, j)`` covers ``[i - 0.5, i + 0.5) x [j - 0.5, j + 0.5)``; round to get the
        cell. Points outside the grid come out below -0.5 or at or above width/height - 0.5.
        """
        px, py = self.project(x, y, crs)
        return ((px - self.origin_x) / self.cell_size_m - 0.5,
                (py - self.origin_y) / self.cell_size_m - 0.5)
