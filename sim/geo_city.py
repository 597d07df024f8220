"""A real city's layout: precincts, communities and beats rasterised, posts, population, risk.

The grid covers the bounding box of the precincts at ``city.cell_size_m`` in ``geo.grid_crs``
(default: the local UTM zone). Cells whose centre lies in no precinct are masked: no
residents, no risk, no patrol, no posts, no streets of their own. Every cell keeps valid
labels (a masked cell takes the nearest in-city cell's), so per-area counting needs no
special case. Communities default to ``city.community_cells`` squares cut by the precinct
boundaries; beats default to the communities.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from sim.datafile import DataError, DataWarning
from sim.geo_raster import check_covered, make_frame, nearest_fill, rasterise
from sim.geo_read import grid_crs_for, read_areas, read_population, to_grid
from sim.params import ScenarioError

if TYPE_CHECKING:
    from sim.city import CityConfig, CityLayout
    from sim.geo import Frame, GeoConfig

SYNTHETIC_ONLY = ("width", "height", "precincts_x", "precincts_y", "hq_x", "hq_y")
"""``[city]`` keys of the synthetic rectangle that a geo city derives or reads instead."""

MAX_CELLS = 1_000_000
"""Largest grid (as :data:`sim.scenario.MAX_CELLS`)."""


def check_synthetic_keys(city: CityConfig) -> None:
    """A geo city derives the grid: a synthetic-only ``[city]`` key changed is an error."""
    from sim.city import CityConfig

    default = CityConfig()
    for key in SYNTHETIC_ONLY:
        if getattr(city, key) != getattr(default, key):
            raise ScenarioError(f"city.{key}: not used when geo.precincts is set (the grid, "
                                f"precincts and HQ come from the [geo] files); remove it")


def build_geo_layout(city: CityConfig, geo: GeoConfig, rng: np.random.Generator) -> CityLayout:
    """Build the static city from the ``[geo]`` files.

    Args:
        city: The ``[city]`` section (cell size, community squares, density, risk, streets).
        geo: The ``[geo]`` section.
        rng: The city random stream.

    Returns:
        The layout, with its :class:`~sim.geo.Frame`.
    """
    from sim.city import CityLayout, _risk, street_graph
    from sim.geo_posts import place_posts

    check_synthetic_keys(city)
    precincts = read_areas(geo.precincts, "geo.precincts", geo.precinct_id, "geo.precinct_id",
                           geo.crs)
    crs = grid_crs_for(precincts, geo.grid_crs)
    precincts = to_grid(precincts, crs, "geo.precincts")
    frame = _frame(precincts.total_bounds, crs, city.cell_size_m)
    p_names = list(precincts["name"])
    precinct = rasterise(list(precincts.geometry), frame)
    check_covered(precinct, p_names, "geo.precincts", "precinct", city.cell_size_m)
    mask = precinct >= 0
    w, h = frame.width, frame.height
    precinct = nearest_fill(precinct, mask, w, h)
    community, c_names = _communities(city, geo, frame, mask, precinct)
    precinct_of_comm = _precinct_of_community(community, precinct, mask, len(c_names),
                                              len(p_names))
    beat, b_names = (_areas_in_city(geo.beats, "geo.beats", geo.beat_id, "geo.beat_id", "beat",
                                    geo, frame, mask) if geo.beats else (community, c_names))
    population = _population(city, geo, rng, frame, mask,
                             {"precinct": (precinct_of_comm[community], p_names),
                              "community": (community, c_names), "beat": (beat, b_names)})
    risk, hotspot = _risk(population, city, rng, mask)
    graph = street_graph(w, h, city, rng, mask)
    posts = place_posts(geo, frame, mask, precinct_of_comm[community], community, p_names,
                        c_names)
    return CityLayout(w, h, city.cell_size_m, community, precinct_of_comm, posts.hq,
                      posts.stations, posts.community, population, risk, hotspot, graph,
                      mask=mask, beat=beat, frame=frame, precinct_names=p_names,
                      community_names=c_names, beat_names=b_names)


def _frame(bounds: np.ndarray, crs: str, cell_size_m: float) -> Frame:
    frame = make_frame(bounds, crs, cell_size_m)
    if frame.width * frame.height > MAX_CELLS:
        raise DataError(f"city.cell_size_m: the precincts span {frame.width:,} x "
                        f"{frame.height:,} cells of {cell_size_m:g} m, more than the limit of "
                        f"{MAX_CELLS:,}; use a larger city.cell_size_m")
    return frame


def _communities(city: CityConfig, geo: GeoConfig, frame: Frame, mask: np.ndarray,
                 precinct: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Community per cell: from ``geo.communities``, or squares cut by the precincts."""
    if geo.communities:
        return _areas_in_city(geo.communities, "geo.communities", geo.community_id,
                              "geo.community_id", "community", geo, frame, mask)
    size, h = city.community_cells, frame.height
    x, y = np.divmod(np.arange(mask.size), h)
    n_p = int(precinct.max()) + 1
    n_cy = -(-h // size)
    key = ((x // size) * n_cy + (y // size)) * n_p + precinct
    _, dense = np.unique(key[mask], return_inverse=True)
    label = np.full(mask.size, -1, dtype=np.int64)
    label[mask] = dense
    label = nearest_fill(label, mask, frame.width, h)
    return label, [str(i) for i in range(int(dense.max()) + 1)]


def _areas_in_city(path: str, field_name: str, id_col: str, id_field: str, kind: str,
                   geo: GeoConfig, frame: Frame,
                   mask: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Label per cell from an areas file; in-city cells in no area take the nearest area's."""
    areas = to_grid(read_areas(path, field_name, id_col, id_field, geo.crs), frame.crs,
                    field_name)
    names = list(areas["name"])
    label = rasterise(list(areas.geometry), frame)
    label[~mask] = -1
    check_covered(label, names, field_name, kind, frame.cell_size_m)
    orphans = int((mask & (label < 0)).sum())
    if orphans:
        warnings.warn(f"{field_name}: {orphans:,} in-city cell(s) lie in no {kind}; each takes "
                      f"the nearest {kind}", DataWarning, stacklevel=3)
    return nearest_fill(label, label >= 0, frame.width, frame.height), names


def _precinct_of_community(community: np.ndarray, precinct: np.ndarray, mask: np.ndarray,
                           n_c: int, n_p: int) -> np.ndarray:
    """Each community's precinct: the one holding most of its in-city cells (ties: lowest)."""
    counts = np.bincount(community[mask] * n_p + precinct[mask],
                         minlength=n_c * n_p).reshape(n_c, n_p)
    owner = counts.argmax(axis=1).astype(np.int64)
    moved = int((owner[community[mask]] != precinct[mask]).sum())
    if moved:
        warnings.warn(f"geo.communities: {moved:,} in-city cell(s) lie in another precinct than "
                      f"most of their community; they count in the community's precinct",
                      DataWarning, stacklevel=3)
    return owner


def _population(city: CityConfig, geo: GeoConfig, rng: np.random.Generator, frame: Frame,
                mask: np.ndarray,
                levels: dict[str, tuple[np.ndarray, list[str]]]) -> np.ndarray:
    """Persons per cell from ``geo.population`` or the synthetic density.

    The table's counts are spread uniformly over each area's in-city cells; without a table,
    ``city.population`` is spread over the synthetic density restricted to the mask.
    """
    from sim.city import _population as synthetic

    if not geo.population:
        return synthetic(city, rng, (frame.width, frame.height), mask)
    if geo.population_level == "cell":
        return _population_points(geo, frame, mask)
    label, names = levels[geo.population_level]
    id_col = geo.population_id or {"precinct": geo.precinct_id, "community": geo.community_id,
                                   "beat": geo.beat_id}[geo.population_level]
    if not id_col:
        raise DataError("geo.population_id: name the column of geo.population holding the "
                        f"{geo.population_level} ids")
    counts = read_population(geo.population, id_col, geo.population_col)
    missing = [n for n in names if n not in counts]
    if missing:
        raise DataError(f"geo.population: no row for {geo.population_level} "
                        f"{missing[0]!r}" + (f" and {len(missing) - 1} more" if len(missing) > 1
                                             else ""))
    extra = len(set(counts) - set(names))
    if extra:
        warnings.warn(f"geo.population: {extra:,} row id(s) match no {geo.population_level}; "
                      f"their residents are left out", DataWarning, stacklevel=3)
    per_area = np.array([counts[n] for n in names])
    cells = np.bincount(label[mask], minlength=len(names))
    return np.where(mask, per_area[label] / np.maximum(cells[label], 1), 0.0)


def _population_points(geo: GeoConfig, frame: Frame, mask: np.ndarray) -> np.ndarray:
    """Persons per cell from points (``geo.population_level = "cell"``): each in its cell."""
    import pandas as pd

    from sim.geo_read import read_points

    pts = read_points(geo.population, "geo.population", geo.crs)
    if geo.population_col not in pts.columns:
        raise DataError(f"geo.population_col: no column {geo.population_col!r} in "
                        "geo.population")
    persons = pd.to_numeric(pts[geo.population_col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(persons) | (persons < 0)
    if bad.any():
        raise DataError(f"geo.population: row {int(np.argmax(bad)) + 1} has no number of "
                        f"residents >= 0 in {geo.population_col!r}")
    cx, cy = frame.cells_of(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(),
                            pts.crs.to_string())
    ix, iy = np.rint(cx).astype(np.int64), np.rint(cy).astype(np.int64)
    inside = (ix >= 0) & (ix < frame.width) & (iy >= 0) & (iy < frame.height)
    cell = np.where(inside, ix * frame.height + iy, 0)
    inside &= mask[cell]
    if not inside.all():
        warnings.warn(f"geo.population: {int((~inside).sum()):,} point(s) with "
                      f"{persons[~inside].sum():,.0f} residents lie outside the city; they are "
                      "left out", DataWarning, stacklevel=3)
    return np.bincount(cell[inside], weights=persons[inside], minlength=mask.size)
