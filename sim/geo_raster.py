"""Polygons onto the grid: the frame over the precincts, labels per cell, nearest filling.

Each cell takes the area whose polygon contains the cell's centre (a centre on a shared border,
or inside overlapping polygons, takes the first area in file order). The query is one
vectorised STRtree call over every cell centre, so a 200 x 200 grid of a hundred areas
rasterises in a few tens of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.datafile import DataError, shorten
from sim.geo import Frame


def make_frame(bounds: Sequence[float] | np.ndarray, crs: str, cell_size_m: float) -> Frame:
    """The grid over a bounding box: its south-west corner at the box's, whole cells.

    Args:
        bounds: ``(minx, miny, maxx, maxy)`` in the grid's CRS (metres).
        crs: The grid's projected CRS.
        cell_size_m: Side of a cell.

    Returns:
        The frame; the grid covers the box (its north and east edges may overhang).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    width = max(1, math.ceil((maxx - minx) / cell_size_m - 1e-6))
    height = max(1, math.ceil((maxy - miny) / cell_size_m - 1e-6))
    return Frame(crs, minx, miny, float(cell_size_m), width, height)


def cell_centres(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Projected coordinates of every cell's centre, by flat index ``x * height + y``."""
    i, j = np.divmod(np.arange(frame.width * frame.height), frame.height)
    return (frame.origin_x + (i + 0.5) * frame.cell_size_m,
            frame.origin_y + (j + 0.5) * frame.cell_size_m)


def rasterise(geoms: Sequence[Any], frame: Frame) -> np.ndarray:
    """The index of the polygon containing each cell's centre (-1: none).

    Args:
        geoms: Polygons in the frame's CRS.
        frame: The grid.

    Returns:
        Label per cell (flat); ties go to the lowest polygon index.
    """
    import shapely

    x, y = cell_centres(frame)
    label = np.full(x.size, -1, dtype=np.int64)
    if not len(geoms):
        return label
    tree = shapely.STRtree(np.asarray(geoms, dtype=object))
    point, poly = tree.query(shapely.points(x, y), predicate="intersects")
    if point.size:
        order = np.lexsort((poly, point))
        point, poly = point[order], poly[order]
        first = np.r_[True, point[1:] != point[:-1]]
        label[point[first]] = poly[first]
    return label


def check_covered(label: np.ndarray, names: list[str], field_name: str, kind: str,
                  cell_size_m: float) -> None:
    """Every area must hold at least one cell centre (else: name it, suggest smaller cells)."""
    counts = np.bincount(label[label >= 0], minlength=len(names))
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        more = f" and {empty.size - 1} more" if empty.size > 1 else ""
        name = shorten(names[int(empty[0])])
        raise DataError(f"{field_name}: {kind} {name}{more} covers no in-city cell centre at "
                        f"city.cell_size_m = {cell_size_m:g} m; use a smaller city.cell_size_m")


def nearest_fill(label: np.ndarray, valid: np.ndarray, width: int, height: int) -> np.ndarray:
    """Give every cell that is not ``valid`` the label of the nearest valid cell (Euclidean).

    Args:
        label: Label per cell (flat).
        valid: Cells whose label is kept (at least one).
        width: Cells across.
        height: Cells down.

    Returns:
        A new label array.
    """
    if valid.all():
        return label.copy()
    from scipy.ndimage import distance_transform_edt

    idx = distance_transform_edt(~valid.reshape(width, height), return_distances=False,
                                 return_indices=True)
    grid = label.reshape(width, height)
    return np.asarray(grid[idx[0], idx[1]]).ravel()


def cell_of_points(frame: Frame, x: np.ndarray, y: np.ndarray,
                   crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer grid coordinates of points (may lie outside ``0..width-1`` / ``0..height-1``)."""
    cx, cy = frame.cells_of(x, y, crs)
    return np.floor(cx + 0.5).astype(np.int64), np.floor(cy + 0.5).astype(np.int64)
