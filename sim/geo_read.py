"""Reading the real city's files: boundary polygons, post points and population tables.

Every problem is one :class:`~sim.datafile.DataError` line that starts with the scenario
field to fix (``geo.precincts: ...``). Vector files are read with geopandas (GeoJSON,
Shapefile, GeoPackage, anything GDAL reads); a file without a CRS takes ``geo.crs``. Area ids
are kept as text names (``12`` and ``12.0`` both become ``"12"``); rows sharing an id are one
area (their polygons are merged), in the order of first appearance.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.datafile import DataError, DataWarning, check_file, reason, shorten

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

POLYGONAL = ("Polygon", "MultiPolygon")


def id_text(value: Any) -> str:
    """An id as a name: integral numbers without a decimal point, text stripped."""
    if isinstance(value, float | np.floating) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def check_crs(text: str, field_name: str) -> Any:
    """The pyproj CRS named by ``text``, or a one-line DataError naming ``field_name``."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise DataError(f"{field_name}: {shorten(text)} is not a CRS pyproj knows "
                        f"(e.g. EPSG:4326)") from None


def read_vector(path: str, field_name: str, default_crs: str) -> gpd.GeoDataFrame:
    """Read a vector file with its CRS (``default_crs`` when it carries none).

    Args:
        path: The file.
        field_name: The scenario field naming it (starts every message).
        default_crs: ``geo.crs``: the CRS of files that carry none ("" = none).

    Returns:
        The features, with a CRS.
    """
    import geopandas as gpd

    p = check_file(path, field_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on the file are not the user's
            gdf = gpd.read_file(p)
    except Exception as exc:  # GDAL raises many types; each is one line
        raise DataError(f"{field_name}: cannot read {shorten(str(p))} as a vector file "
                        f"({reason(exc)})") from None
    if len(gdf) == 0:
        raise DataError(f"{field_name}: {shorten(str(p))} has no features")
    if gdf.crs is None:
        if not default_crs:
            raise DataError(f"{field_name}: {shorten(str(p))} has no CRS; set geo.crs to the "
                            f"CRS of its coordinates (e.g. EPSG:4326)")
        gdf = gdf.set_crs(check_crs(default_crs, "geo.crs"))
    return gdf


def area_names(gdf: pd.DataFrame, id_col: str, id_field: str, field_name: str) -> list[str]:
    """The id of each row as text (row order 0, 1, ... when ``id_col`` is empty)."""
    if not id_col:
        return [str(i) for i in range(len(gdf))]
    if id_col not in gdf.columns:
        cols = ", ".join(str(c) for c in gdf.columns if c != "geometry")
        raise DataError(f"{id_field}: no column {shorten(id_col)} in {field_name} "
                        f"(columns: {shorten(cols, 120)[1:-1]})")
    values = gdf[id_col]
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise DataError(f"{id_field}: row {int(missing[0])} of {field_name} has no id")
    return [id_text(v) for v in values]


def read_areas(path: str, field_name: str, id_col: str, id_field: str,
               default_crs: str) -> gpd.GeoDataFrame:
    """Read the polygons of one kind of area, one row per area id.

    Args:
        path: The file.
        field_name: Its scenario field (``geo.precincts``).
        id_col: The id column ("" = row order).
        id_field: The id column's scenario field (``geo.precinct_id``).
        default_crs: ``geo.crs``.

    Returns:
        Columns ``name`` (text) and ``geometry`` (valid polygons), in the file's CRS.
    """
    import geopandas as gpd
    import shapely

    gdf = read_vector(path, field_name, default_crs)
    names = area_names(gdf, id_col, id_field, field_name)
    geoms = gdf.geometry.to_numpy()
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            raise DataError(f"{field_name}: row {i} ({shorten(names[i])}) has no geometry")
        if g.geom_type not in POLYGONAL:
            raise DataError(f"{field_name}: row {i} ({shorten(names[i])}) is a {g.geom_type}, "
                            f"not a polygon")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(shapely.make_valid(g)) for g in geoms[invalid]]
        warnings.warn(f"{field_name}: {int(invalid.sum())} invalid polygon(s) repaired "
                      f"(shapely.make_valid)", DataWarning, stacklevel=2)
    order = list(dict.fromkeys(names))
    if len(order) < len(names):
        merged = [shapely.union_all([g for g, n in zip(geoms, names, strict=True) if n == name])
                  for name in order]
    else:
        merged = list(geoms)
    return gpd.GeoDataFrame({"name": order}, geometry=merged, crs=gdf.crs)


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a repaired geometry (make_valid may add lines or points)."""
    import shapely

    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else geom


def grid_crs_for(areas: gpd.GeoDataFrame, grid_crs: str) -> str:
    """The grid's projected CRS: ``geo.grid_crs``, or the UTM zone of the areas.

    Args:
        areas: The precincts (any CRS).
        grid_crs: ``geo.grid_crs`` ("" = estimate the local UTM zone).

    Returns:
        The CRS as text (``EPSG:32630``).
    """
    if not grid_crs:
        try:
            crs = areas.estimate_utm_crs()
        except Exception as exc:  # pyproj's failure is one line
            raise DataError(f"geo.grid_crs: no UTM zone found for the precincts ({reason(exc)}); "
                            f"set geo.grid_crs") from None
    else:
        crs = check_crs(grid_crs, "geo.grid_crs")
    units = {a.unit_name for a in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        raise DataError(f"geo.grid_crs: {shorten(crs.to_string())} is not a projected CRS in "
                        f"metres")
    return str(crs.to_string())


def to_grid(gdf: gpd.GeoDataFrame, crs: str, field_name: str) -> gpd.GeoDataFrame:
    """Reproject features to the grid's CRS (a failure is one line naming the file)."""
    try:
        out = gdf.to_crs(crs)
    except Exception as exc:  # pyproj raises several types
        raise DataError(f"{field_name}: cannot reproject to {shorten(crs)} ({reason(exc)})") \
            from None
    if not np.isfinite(out.total_bounds).all():
        raise DataError(f"{field_name}: coordinates do not project to {shorten(crs)} (are they "
                        f"in the CRS the file or geo.crs states?)")
    return out


TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq")
COORD_COLUMNS = (("lon", "lat", True), ("longitude", "latitude", True), ("lng", "lat", True),
                 ("x", "y", False), ("easting", "northing", False))
"""Coordinate column pairs a points table may carry (case-insensitive), and whether they are
degrees (EPSG:4326 unless ``geo.crs`` says otherwise)."""


def read_points(path: str, field_name: str, default_crs: str) -> gpd.GeoDataFrame:
    """Read points from a vector file, or from a table (CSV/Parquet) with coordinate columns.

    A table needs one pair of columns of :data:`COORD_COLUMNS`; its CRS is ``geo.crs``, or
    EPSG:4326 for longitude/latitude columns when ``geo.crs`` is empty.
    """
    from pathlib import Path

    if Path(path).suffix.lower() not in TABLE_SUFFIXES:
        return read_vector(path, field_name, default_crs)
    import geopandas as gpd
    import pandas as pd

    table = read_table(path, field_name)
    lower = {str(c).lower(): c for c in table.columns}
    pair = next(((lower[a], lower[b], deg) for a, b, deg in COORD_COLUMNS
                 if a in lower and b in lower), None)
    if pair is None:
        raise DataError(f"{field_name}: {shorten(path)} has no coordinate columns (lon/lat, "
                        "longitude/latitude or x/y)")
    xcol, ycol, degrees = pair
    x = pd.to_numeric(table[xcol], errors="coerce").to_numpy(float)
    y = pd.to_numeric(table[ycol], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise DataError(f"{field_name}: row {int(np.argmax(bad)) + 1} has no numeric "
                        f"{xcol}/{ycol}")
    crs = default_crs or ("EPSG:4326" if degrees else "")
    if not crs:
        raise DataError(f"{field_name}: {shorten(path)} gives x/y coordinates; set geo.crs to "
                        "their CRS")
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y),
                            crs=check_crs(crs, "geo.crs"))


def read_table(path: str, field_name: str) -> pd.DataFrame:
    """Read a small CSV (as text) or Parquet table; every failure is one line."""
    import pandas as pd

    p = check_file(path, field_name)
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p, dtype=str, keep_default_na=False, index_col=False)
    except Exception as exc:  # pandas/pyarrow raise many types
        raise DataError(f"{field_name}: cannot read {shorten(str(p))} ({reason(exc)})") \
            from None


def read_population(path: str, id_col: str, value_col: str) -> dict[str, float]:
    """Residents per area id from ``geo.population`` (rows with the same id are added).

    Args:
        path: The table.
        id_col: Its id column (``geo.population_id``, resolved).
        value_col: Its count column (``geo.population_col``).

    Returns:
        Area name -> residents.
    """
    import pandas as pd

    table = read_table(path, "geo.population")
    for col, fname in ((id_col, "geo.population_id"), (value_col, "geo.population_col")):
        if col not in table.columns:
            cols = ", ".join(str(c) for c in table.columns)
            raise DataError(f"{fname}: no column {shorten(col)} in geo.population "
                            f"(columns: {shorten(cols, 120)[1:-1]})")
    values = pd.to_numeric(table[value_col].replace("", np.nan), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise DataError(f"geo.population_col: row {int(bad[0])} of geo.population has "
                        f"{shorten(table[value_col].iloc[bad[0]])}, not a count of residents")
    out: dict[str, float] = {}
    for key, v in zip(table[id_col], values, strict=True):
        name = id_text(key)
        out[name] = out.get(name, 0.0) + float(v)
    return out
