"""Where recorded calls are: their coordinates as cells of the grid.

Two ways to place a call. The synthetic city (no frame) puts the grid at ``data.origin_*``:
cell ``(i, j)`` covers ``origin + [i, i + 1) * cell_size`` along each axis, and
longitude/latitude are projected with an equirectangular projection about the origin
(``x = (lon - lon0) cos(lat0) 111,320 m``, ``y = (lat - lat0) 110,574 m``), accurate to well
under a cell over a city. A real city (its layout has a :class:`~sim.geo.Frame`) projects the
coordinates from ``data.crs`` with :meth:`~sim.geo.Frame.cells_of` and rounds them to a cell.
Either way a call outside the grid, or in a cell the layout masks, is outside the city.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.datafile import DataError, reason, shorten
from sim.scenario import CityConfig, DataConfig

if TYPE_CHECKING:
    from sim.city import CityLayout
    from sim.geo import Frame

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0

type Grid = CityConfig | CityLayout
"""What calls are mapped onto: the city's section (the synthetic rectangle) or its layout
(also masked cells and, for a real city, the :class:`~sim.geo.Frame` on the ground)."""


def locate(a: np.ndarray, b: np.ndarray, cfg: DataConfig, grid: Grid
           ) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], str]]:
    """Flat cells of the locations, which lie in the city, and the message if none does.

    A city with a :class:`~sim.geo.Frame` projects them from ``data.crs`` with
    :meth:`~sim.geo.Frame.cells_of`; the synthetic city places them with ``data.origin_*``.
    A cell the layout masks (outside every precinct) is outside the city.
    """
    frame = getattr(grid, "frame", None)
    x_m = y_m = a
    with np.errstate(all="ignore"):  # huge coordinates overflow to inf: outside the city
        if frame is not None:
            i, j = _frame_cells(a, b, cfg, frame)
        else:
            x_m, y_m = project(a, b, cfg)
            i, j = np.floor(x_m / grid.cell_size_m), np.floor(y_m / grid.cell_size_m)
    inside = (i >= 0) & (i < grid.width) & (j >= 0) & (j < grid.height)
    cell = np.where(inside, i * grid.height + j, 0).astype(np.int64)
    mask = getattr(grid, "mask", None)
    if mask is not None and not np.all(mask):
        inside &= np.asarray(mask, dtype=bool)[cell]

    def message(ok: np.ndarray) -> str:
        if frame is not None:
            return (f"data.crs: no usable rows: every call is outside the city (coordinates "
                    f"{np.min(a[ok]):.6g} to {np.max(a[ok]):.6g}, {np.min(b[ok]):.6g} to "
                    f"{np.max(b[ok]):.6g} in {shorten(_calls_crs(cfg, frame))}); check "
                    "data.coords and data.crs")
        return _outside_message(x_m[ok], y_m[ok], cfg, grid)

    return cell, inside, message


def _calls_crs(cfg: DataConfig, frame: Frame) -> str:
    """CRS of the calls' coordinates: ``data.crs``, else EPSG:4326 (lonlat) or the grid's."""
    return cfg.crs or ("EPSG:4326" if cfg.coords == "lonlat" else frame.crs)


def _frame_cells(a: np.ndarray, b: np.ndarray, cfg: DataConfig, frame: Frame
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Grid cells (floats; rounded continuous cell coordinates) of points in ``data.crs``."""
    crs = _calls_crs(cfg, frame)
    try:
        cx, cy = frame.cells_of(a, b, crs)
    except Exception as exc:  # pyproj's CRSError and friends: not a usable CRS
        raise DataError(f"data.crs: {shorten(crs)} is not a usable CRS "
                        f"({type(exc).__name__}: {reason(exc)})") from None
    return np.floor(cx + 0.5), np.floor(cy + 0.5)


def _outside_message(x: np.ndarray, y: np.ndarray, cfg: DataConfig, city: Grid) -> str:
    origin = "data.origin_x" if cfg.coords == "xy" else "data.origin_lon"
    w, h = city.width * city.cell_size_m, city.height * city.cell_size_m
    return (f"{origin}: no usable rows: every call is outside the {w:g} x {h:g} m city "
            f"(calls lie at x {np.min(x):.4g} to {np.max(x):.4g} m, y {np.min(y):.4g} to "
            f"{np.max(y):.4g} m from the origin); check data.coords and the origin")


def project(a: np.ndarray, b: np.ndarray, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Turn location columns into metres east and north of the city's origin."""
    if cfg.coords == "xy":
        return a - cfg.origin_x, b - cfg.origin_y
    x = (a - cfg.origin_lon) * np.cos(np.radians(cfg.origin_lat)) * M_PER_DEG_LON
    y = (b - cfg.origin_lat) * M_PER_DEG_LAT
    return x, y
