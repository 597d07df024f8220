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
    """Boundaries, posts and population of a real city (all empty: the synthetic grid city).

    With ``precincts`` set, the grid covers the precincts' bounding box at
    ``city.cell_size_m``; ``city.width``, ``height``, ``precincts_x``, ``precincts_y``,
    ``hq_x`` and ``hq_y`` are then not used (a value other than their default is an error).
    """

    precincts: str = param(
        "", "-", "Polygons of the station precincts (GeoJSON, Shapefile or GeoPackage); empty = "
        "the synthetic rectangle. Relative paths are read from the scenario file's folder.",
    )
    precinct_id: str = param(
        "", "-", "Column of geo.precincts holding each precinct's id (kept as its name); "
        "empty = row order 0, 1, ...",
    )
    communities: str = param(
        "", "-", "Polygons of the communities (neighbourhood policing areas); empty = "
        "city.community_cells squares cut by the precinct boundaries.",
    )
    community_id: str = param(
        "", "-", "Column of geo.communities holding each community's id; empty = row order.",
    )
    beats: str = param(
        "", "-", "Polygons of the patrol beats; empty = one beat per community.",
    )
    beat_id: str = param("", "-", "Column of geo.beats holding each beat's id; empty = row order.")
    posts: str = param(
        "", "-", "Points of the HQ, stations and community posts: a vector file, or a CSV / "
        "Parquet table with lon/lat (or x/y in geo.crs) columns; empty (or an area without a "
        "post) = the in-area cell nearest the area's centroid.",
    )
    post_kind: str = param("kind", "-", "Column of geo.posts: hq, station or community.")
    post_area: str = param(
        "area", "-", "Column of geo.posts: id of the precinct (station) or community (community "
        "post) the post serves; not read for the HQ.",
    )
    population: str = param(
        "", "-", "Table (CSV or Parquet) of residents per area, joined to the areas of "
        "geo.population_level, or (level cell) points with lon/lat or x/y columns (census "
        "block centroids, a raster's cell centres); empty = city.population over the "
        "synthetic density.",
    )
    population_id: str = param(
        "", "-", "Column of geo.population holding the area ids; empty = the level's id "
        "column name (e.g. geo.community_id).",
    )
    population_col: str = param(
        "population", "-", "Column of geo.population holding the residents of each area.",
    )
    population_level: str = param(
        "precinct", "-", "Areas that geo.population counts: precinct, community or beat "
        "(residents spread uniformly over each area's in-city cells), or cell (each point's "
        "residents in the cell containing it).",
        choices=("precinct", "community", "beat", "cell"),
    )
    crs: str = param(
        "", "-", "CRS of files that carry none (e.g. EPSG:4326); empty = the file's own.",
    )
    grid_crs: str = param(
        "", "-", "Projected CRS (metres) of the grid, e.g. EPSG:27700; empty = the local UTM "
        "zone of the precincts.",
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

    def ground_of(self, cx: np.ndarray, cy: np.ndarray,
                  crs: str = "") -> tuple[np.ndarray, np.ndarray]:
        """Continuous cell coordinates -> coordinates in ``crs`` (empty: the frame's).

        The inverse of :meth:`cells_of`: ``ground_of(i, j)`` is the centre of cell ``(i, j)``
        (e.g. ``crs="EPSG:4326"`` for longitude and latitude on a web map).
        """
        px = self.origin_x + (np.asarray(cx, dtype=float) + 0.5) * self.cell_size_m
        py = self.origin_y + (np.asarray(cy, dtype=float) + 0.5) * self.cell_size_m
        if not crs or crs == self.crs:
            return px, py
        x, y = _transformer(self.crs, crs).transform(px, py)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
