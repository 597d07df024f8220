"""Where the HQ, the stations and the community posts of a real city stand.

Posts come from a points file (``geo.posts``): column ``geo.post_kind`` says ``hq``,
``station`` or ``community``; column ``geo.post_area`` names the precinct (station) or
community (community post) the post serves, as in the areas' id columns. Each post stands on
the cell that contains it. A post in a masked cell or just outside the grid is moved to the
nearest in-city cell when that cell's centre is within one cell side of it (a station on the
city's edge, a boundary drawn a few metres off), with a warning; farther away it is an error
naming the post. A station may stand outside its own precinct (shared buildings are common).

An area without a post in the file (or every area when there is no file) gets one at its
in-city cell nearest the centroid of its cells; the HQ defaults to the in-city cell nearest
the centroid of the city.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.datafile import DataError, DataWarning, shorten
from sim.geo_raster import cell_centres
from sim.geo_read import id_text, read_points, to_grid

if TYPE_CHECKING:
    import geopandas as gpd

    from sim.geo import Frame, GeoConfig

KINDS = ("hq", "station", "community")
SNAP_CELLS = 1.0
"""Farthest distance (cells) from a post to the in-city cell centre it is moved to."""


@dataclass
class Posts:
    """Flat cell index of the HQ, of each precinct's station and of each community's post."""

    hq: int
    stations: np.ndarray
    community: np.ndarray


def centroid_cells(label: np.ndarray, mask: np.ndarray, n: int, height: int) -> np.ndarray:
    """For each area ``0..n-1``: its in-city cell nearest the centroid of its in-city cells."""
    cells = np.flatnonzero(mask)
    lab = label[cells]
    x, y = np.divmod(cells, height)
    count = np.bincount(lab, minlength=n)
    cx = np.bincount(lab, weights=x, minlength=n) / np.maximum(count, 1)
    cy = np.bincount(lab, weights=y, minlength=n) / np.maximum(count, 1)
    d = (x - cx[lab]) ** 2 + (y - cy[lab]) ** 2
    order = np.lexsort((cells, d, lab))  # by area, then distance, then cell (ties: lowest)
    first = np.r_[True, lab[order][1:] != lab[order][:-1]]
    out = np.full(n, -1, dtype=np.int64)
    out[lab[order][first]] = cells[order][first]
    return out


def place_posts(geo: GeoConfig, frame: Frame, mask: np.ndarray, precinct: np.ndarray,
                community: np.ndarray, precinct_names: list[str],
                community_names: list[str]) -> Posts:
    """The posts of a geo city: from ``geo.posts`` where given, else at area centroids.

    Args:
        geo: The ``[geo]`` section.
        frame: The grid on the ground.
        mask: In-city cells.
        precinct: Precinct of each cell.
        community: Community of each cell.
        precinct_names: Precinct ids.
        community_names: Community ids.

    Returns:
        The posts' cells.
    """
    h = frame.height
    posts = Posts(int(centroid_cells(np.zeros(mask.size, dtype=np.int64), mask, 1, h)[0]),
                  centroid_cells(precinct, mask, len(precinct_names), h),
                  centroid_cells(community, mask, len(community_names), h))
    if geo.posts:
        _from_file(geo, frame, mask, posts, {"station": precinct_names,
                                             "community": community_names})
    return posts


def _from_file(geo: GeoConfig, frame: Frame, mask: np.ndarray, posts: Posts,
               names: dict[str, list[str]]) -> None:
    """Put the posts of ``geo.posts`` on their cells (in place)."""
    gdf = to_grid(read_points(geo.posts, "geo.posts", geo.crs), frame.crs, "geo.posts")
    kinds = _kinds(gdf, geo.post_kind)
    if geo.post_area not in gdf.columns and (kinds != "hq").any():
        raise DataError(f"geo.post_area: no column {shorten(geo.post_area)} in geo.posts")
    seen: dict[tuple[str, int], int] = {}
    for row, kind in enumerate(kinds):
        area = "" if kind == "hq" else id_text(gdf[geo.post_area].iloc[row])
        index = 0 if kind == "hq" else _area_index(kind, area, names[kind], row)
        what = _label(gdf, row, kind, area)
        if (kind, index) in seen:
            raise DataError(f"geo.posts: rows {seen[kind, index]} and {row} are both the "
                            f"{kind} post{'' if kind == 'hq' else ' of ' + shorten(area)}")
        seen[kind, index] = row
        cell = _cell_of_post(gdf, row, what, frame, mask)
        if kind == "hq":
            posts.hq = cell
        else:
            (posts.stations if kind == "station" else posts.community)[index] = cell


def _kinds(gdf: gpd.GeoDataFrame, col: str) -> np.ndarray:
    if col not in gdf.columns:
        raise DataError(f"geo.post_kind: no column {shorten(col)} in geo.posts")
    kinds = np.array([id_text(k).lower() for k in gdf[col]], dtype=object)
    bad = [i for i, k in enumerate(kinds) if k not in KINDS]
    if bad:
        raise DataError(f"geo.post_kind: row {bad[0]} of geo.posts is {shorten(kinds[bad[0]])} "
                        f"(expected hq, station or community)")
    return kinds


def _label(gdf: gpd.GeoDataFrame, row: int, kind: str, area: str) -> str:
    """How a post is named in messages: its kind and its ``name`` column, else its area."""
    import pandas as pd

    if "name" in gdf.columns and not pd.isna(gdf["name"].iloc[row]):
        return f"{kind} {shorten(id_text(gdf['name'].iloc[row]))}"
    return f"{kind} {shorten(area)}" if area else kind


def _area_index(kind: str, area: str, names: list[str], row: int) -> int:
    """Dense id of the area a post serves (an unknown id is an error naming the row)."""
    try:
        return names.index(area)
    except ValueError:
        level = "precinct" if kind == "station" else "community"
        known = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise DataError(f"geo.post_area: row {row} of geo.posts serves {shorten(area)}, which "
                        f"is no {level} id (ids: {shorten(known, 100)[1:-1]})") from None


def _cell_of_post(gdf: gpd.GeoDataFrame, row: int, what: str, frame: Frame,
                  mask: np.ndarray) -> int:
    """The in-city cell of one post (snapped within one cell, else an error)."""
    geom = gdf.geometry.iloc[row]
    if geom is None or geom.is_empty or geom.geom_type != "Point":
        kind = "nothing" if geom is None or geom.is_empty else geom.geom_type
        raise DataError(f"geo.posts: row {row} ({what}) is {kind}, not a point")
    cx, cy = frame.cells_of(np.array([geom.x]), np.array([geom.y]))
    i, j = int(np.floor(cx[0] + 0.5)), int(np.floor(cy[0] + 0.5))
    if 0 <= i < frame.width and 0 <= j < frame.height and mask[i * frame.height + j]:
        return i * frame.height + j
    x, y = cell_centres(frame)
    inside = np.flatnonzero(mask)
    d = np.hypot(x[inside] - geom.x, y[inside] - geom.y) / frame.cell_size_m
    k = int(np.argmin(d))
    if d[k] > SNAP_CELLS:
        raise DataError(f"geo.posts: row {row} ({what}) lies outside the city "
                        f"({d[k] * frame.cell_size_m / 1000:.2f} km from the nearest in-city "
                        f"cell centre)")
    warnings.warn(f"geo.posts: row {row} ({what}) lies outside the city; moved to the "
                  f"nearest in-city cell ({d[k] * frame.cell_size_m:.0f} m)", DataWarning,
                  stacklevel=3)
    return int(inside[k])
